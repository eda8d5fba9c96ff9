#include "pagefl/net/server_checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "pagefl/core/error.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/fl/state_archive.h"

namespace pagefl::net {
namespace {

constexpr const char* kServerPrefix = "server/";
constexpr const char* kWhat = "the server checkpoint";
constexpr const char* kFix = "restore it from a backup, or start afresh in another run directory";

void checkContents(const ServerCheckpoint& checkpoint, const std::string& what, std::int64_t rounds,
                   std::int64_t model_size) {
  if (checkpoint.round < 0 || checkpoint.round > rounds)
    throw Error("{} is after round {}, outside this run's 0..{} (run.rounds): {}", what, checkpoint.round, rounds, kFix);
  const torch::Tensor& global = requireTensor(checkpoint.server_state, "global", what);
  if (global.dim() != 1 || global.numel() != model_size)
    throw Error("{} holds a global model of {} values but the config's model has {}: {}", what, global.numel(),
                model_size, kFix);
  for (const auto& [name, tensor] : checkpoint.server_state)
    if (tensor.is_floating_point() && !torch::isfinite(tensor).all().item<bool>())
      throw Error("{} holds NaN or Inf in '{}': {}", what, name, kFix);
}

}  // namespace

std::string checkpointPath(const std::string& run_dir) {
  return (std::filesystem::path(run_dir) / "checkpoint.pt").string();
}

void saveCheckpoint(const std::string& path, const ServerCheckpoint& checkpoint) {
  NamedTensors file;
  file["round"] = torch::tensor(checkpoint.round, torch::kInt64);
  file["config"] = bytesTensor(checkpoint.config_toml);
  nlohmann::json sites = nlohmann::json::array();
  for (const Site& site : checkpoint.sites)
    sites.push_back({{"name", site.name}, {"joined", site.joined}, {"train", site.train_size}, {"test", site.test_size}});
  file["sites"] = bytesTensor(sites.dump());
  for (const auto& [name, tensor] : checkpoint.server_state) file[kServerPrefix + name] = tensor;
  writeSealedFile(path, serializeTensors(file));
}

ServerCheckpoint loadCheckpoint(const std::string& path, std::int64_t rounds, std::int64_t model_size) {
  const std::string what = std::string(kWhat) + " '" + path + "'";
  NamedTensors file = deserializeTensors(readSealedFile(path, kWhat), what);
  ServerCheckpoint checkpoint;
  const torch::Tensor& round = requireTensor(file, "round", what);
  if (round.numel() != 1 || round.scalar_type() != torch::kInt64) throw Error("{} has a corrupt round: {}", what, kFix);
  checkpoint.round = round.item<std::int64_t>();
  checkpoint.config_toml = tensorBytes(requireTensor(file, "config", what));
  const auto sites = nlohmann::json::parse(tensorBytes(requireTensor(file, "sites", what)), nullptr, false);
  if (!sites.is_array()) throw Error("{} has a corrupt site registry", what);
  for (const auto& site : sites)
    checkpoint.sites.push_back({site.value("name", ""), site.value("joined", false), site.value("train", std::int64_t{0}),
                                site.value("test", std::int64_t{0}), {}});
  const std::string prefix = kServerPrefix;
  for (auto& [name, tensor] : file)
    if (name.rfind(prefix, 0) == 0) checkpoint.server_state[name.substr(prefix.size())] = tensor;
  checkContents(checkpoint, what, rounds, model_size);
  return checkpoint;
}

}  // namespace pagefl::net
