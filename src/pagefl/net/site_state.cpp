#include "pagefl/net/site_state.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/fl/state_archive.h"

namespace pagefl::net {
namespace {

constexpr std::string_view kStatePrefix = "state/";
constexpr const char* kDamagedStateFix =
    "restore it from a backup, or delete it to start this site afresh (its personal state is then lost)";

}  // namespace

std::string siteFile(const ClientState& state, const SavedUpdate& saved) {
  NamedTensors file;
  for (auto& [key, tensor] : state.save()) file[std::string(kStatePrefix) + key] = tensor;
  file["update/round"] = torch::tensor(saved.round, torch::kInt64);
  file["update/global_sha256"] = bytesTensor(saved.global_sha256);
  file["update/header"] = bytesTensor(saved.wire.header.SerializeAsString());
  file["update/payload"] = bytesTensor(saved.wire.payload);
  return serializeTensors(file);
}

SavedUpdate readSiteFile(const std::string& path, ClientState& state) {
  const std::string what = "the site's state '" + path + "'";
  NamedTensors file;
  try {
    file = deserializeTensors(readSealedFile(path, what), what);
  } catch (const Error& e) {
    throw Error("{}: {}", e.what(), kDamagedStateFix);
  }
  NamedTensors saved_state;
  for (auto& [key, tensor] : file)
    if (key.rfind(kStatePrefix, 0) == 0) saved_state[key.substr(kStatePrefix.size())] = tensor;
  state.restore(saved_state);
  SavedUpdate saved;
  const torch::Tensor& round = requireTensor(file, "update/round", what);
  if (round.numel() != 1) throw Error("{} is corrupt (its saved round): {}", what, kDamagedStateFix);
  saved.round = round.item<std::int64_t>();
  saved.global_sha256 = tensorBytes(requireTensor(file, "update/global_sha256", what));
  if (!saved.wire.header.ParseFromString(tensorBytes(requireTensor(file, "update/header", what))))
    throw Error("{} is corrupt (its saved update): {}", what, kDamagedStateFix);
  saved.wire.payload = tensorBytes(requireTensor(file, "update/payload", what));
  return saved;
}

}  // namespace pagefl::net
