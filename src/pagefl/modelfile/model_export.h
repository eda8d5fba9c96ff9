// Where a run hands over its models: <run directory>/models/global.safetensors and, for each
// participant of the last round, models/personal/<client>.safetensors (model_file.h); a deployed
// site keeps its own in <state directory>/models/personal.safetensors.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "pagefl/core/config.h"
#include "pagefl/nn/flat_model.h"

namespace pagefl {

std::string globalModelPath(const std::string& run_directory);
std::string personalModelPath(const std::string& run_directory, std::int64_t client);
// run.keep_best: the global model of the round with the best G->S so far.
std::string bestGlobalModelPath(const std::string& run_directory);

// Writes `params` (of a model of `spec`, laid out as `layout`, as the run trained it) to `path` with
// `config`'s identity (algorithm, seed, the config itself without a deployment's [deploy] section);
// `client` < 0: the global model. Returns the file's SHA-256.
std::string exportModel(const std::string& path, const Config& config, const ModelSpec& spec, const ParamLayout& layout,
                        std::int64_t round, std::int64_t client, const torch::Tensor& params);

}  // namespace pagefl
