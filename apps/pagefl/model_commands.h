// `pagefl evaluate` and `pagefl predict`: a run's exported model (models/*.safetensors) applied
// to data, with the numbers the run itself reported.
#pragma once

#include <string>

namespace pagefl {

int evaluateModelFile(const std::string& model_path, const std::string& data_path);
// `out_path` empty: standard output.
int predictWithModelFile(const std::string& model_path, const std::string& data_path, const std::string& out_path);

}  // namespace pagefl
