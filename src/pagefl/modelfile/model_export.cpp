#include "pagefl/modelfile/model_export.h"

#include <filesystem>

#include "pagefl/modelfile/model_file.h"

namespace pagefl {

namespace fs = std::filesystem;

std::string globalModelPath(const std::string& run_directory) {
  return (fs::path(run_directory) / "models" / "global.safetensors").string();
}

std::string bestGlobalModelPath(const std::string& run_directory) {
  return (fs::path(run_directory) / "models" / "best_global.safetensors").string();
}

std::string personalModelPath(const std::string& run_directory, std::int64_t client) {
  return (fs::path(run_directory) / "models" / "personal" / (std::to_string(client) + ".safetensors")).string();
}

std::string exportModel(const std::string& path, const Config& config, const ModelSpec& spec, const ParamLayout& layout,
                        std::int64_t round, std::int64_t client, const torch::Tensor& params) {
  Config shown = config;
  shown.deploy = DeployConfig{};  // addresses and key paths are the server's, not the model's
  ModelFileInfo info;
  info.spec = spec;
  info.kind = client < 0 ? "global" : "personal";
  info.client = client;
  info.round = round;
  info.seed = config.run.seed;
  info.algorithm = config.algorithm.name;
  info.config = toToml(shown);
  return writeModelFile(path, layout, params, info);
}

}  // namespace pagefl
