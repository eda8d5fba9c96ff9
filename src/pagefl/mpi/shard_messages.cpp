#include "pagefl/mpi/shard_messages.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "pagefl/core/error.h"
#include "pagefl/core/safetensors.h"

namespace pagefl::mpi {
namespace {

using nlohmann::json;

constexpr const char* kKindNames[] = {"start", "round", "end", "shutdown"};

std::string kindName(Command::Kind kind) { return kKindNames[static_cast<int>(kind)]; }

const std::string& field(const safetensors::Metadata& metadata, const std::string& key, const std::string& what) {
  const auto found = metadata.find(key);
  if (found == metadata.end()) throw Error("{} lacks '{}'", what, key);
  return found->second;
}

const torch::Tensor& tensor(const safetensors::Tensors& tensors, const std::string& key, const std::string& what) {
  const auto found = tensors.find(key);
  if (found == tensors.end()) throw Error("{} lacks the tensor '{}'", what, key);
  return found->second;
}

std::int64_t integer(const std::string& text, const std::string& what) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty())
    throw Error("{} holds '{}' where a whole number belongs", what, excerpt(text));
  return value;
}

json parsed(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error("{} is malformed: {}", what, e.what());
  }
}

}  // namespace

std::string encodeCommand(const Command& command) {
  safetensors::Metadata metadata{{"kind", kindName(command.kind)}};
  safetensors::Tensors tensors;
  if (command.kind == Command::Kind::StartRun) {
    metadata["config"] = command.config_toml;
    metadata["validation_view"] = command.validation_view ? "1" : "0";
  } else if (command.kind == Command::Kind::Round) {
    const ServerMessage& message = command.message;
    metadata["round"] = std::to_string(message.round);
    metadata["flags"] =
        fmt::format("{}{}{}", int{message.evaluate}, int{message.wants_personal}, int{message.export_personal});
    metadata["settings"] = json(message.settings).dump();
    tensors["global"] = message.global;
    tensors["participants"] = torch::tensor(command.participants, torch::kInt64);
    for (const auto& [name, value] : message.tensors) tensors["tensor/" + name] = value;
  }
  return safetensors::encode(tensors, metadata);
}

Command decodeCommand(const std::string& bytes) {
  const std::string what = "the server rank's command";
  safetensors::Contents contents = safetensors::decode(bytes, what);
  const std::string& kind = field(contents.metadata, "kind", what);
  Command command;
  if (kind == "start") {
    command.kind = Command::Kind::StartRun;
    command.config_toml = field(contents.metadata, "config", what);
    command.validation_view = field(contents.metadata, "validation_view", what) == "1";
  } else if (kind == "round") {
    command.kind = Command::Kind::Round;
    ServerMessage& message = command.message;
    message.round = integer(field(contents.metadata, "round", what), what);
    const std::string& flags = field(contents.metadata, "flags", what);
    if (flags.size() != 3) throw Error("{} has malformed flags", what);
    message.evaluate = flags[0] == '1';
    message.wants_personal = flags[1] == '1';
    message.export_personal = flags[2] == '1';
    message.settings = parsed(field(contents.metadata, "settings", what), what).get<Metrics>();
    message.global = tensor(contents.tensors, "global", what);
    const torch::Tensor participants = tensor(contents.tensors, "participants", what).to(torch::kInt64).contiguous();
    command.participants.assign(participants.data_ptr<std::int64_t>(),
                                participants.data_ptr<std::int64_t>() + participants.numel());
    for (auto& [name, value] : contents.tensors)
      if (name.rfind("tensor/", 0) == 0) message.tensors[name.substr(7)] = value;
  } else if (kind == "end") {
    command.kind = Command::Kind::EndRun;
  } else if (kind != "shutdown") {
    throw Error("{} has the unknown kind '{}'", what, excerpt(kind));
  }
  return command;
}

std::string encodeUploads(const std::vector<RankUpload>& uploads) {
  json list = json::array();
  safetensors::Tensors tensors;
  for (const RankUpload& upload : uploads) {
    json one{{"client", upload.facts.client},       {"refusal", upload.refusal},
             {"samples", upload.facts.num_samples}, {"has_params", upload.facts.has_params},
             {"train", upload.train_size},          {"test", upload.test_size},
             {"metrics", upload.facts.metrics}};
    if (upload.facts.score)
      one["score"] = {upload.facts.score->samples, upload.facts.score->correct, upload.facts.score->loss_sum};
    list.push_back(std::move(one));
    if (upload.personal.defined()) tensors[fmt::format("personal/{}", upload.facts.client)] = upload.personal;
  }
  return safetensors::encode(tensors, {{"uploads", list.dump()}});
}

std::vector<RankUpload> decodeUploads(const std::string& bytes, int from_rank) {
  const std::string what = fmt::format("rank {}'s uploads", from_rank);
  safetensors::Contents contents = safetensors::decode(bytes, what);
  std::vector<RankUpload> uploads;
  try {
    for (const json& one : parsed(field(contents.metadata, "uploads", what), what)) {
      RankUpload upload;
      upload.facts.client = one.at("client").get<std::int64_t>();
      upload.refusal = one.at("refusal").get<std::string>();
      upload.facts.num_samples = one.at("samples").get<std::int64_t>();
      upload.facts.has_params = one.at("has_params").get<bool>();
      upload.train_size = one.at("train").get<std::int64_t>();
      upload.test_size = one.at("test").get<std::int64_t>();
      upload.facts.metrics = one.at("metrics").get<Metrics>();
      if (one.contains("score")) {
        const json& score = one.at("score");
        upload.facts.score =
            EvalResult{score.at(0).get<std::int64_t>(), score.at(1).get<std::int64_t>(), score.at(2).get<double>()};
      }
      const auto personal = contents.tensors.find(fmt::format("personal/{}", upload.facts.client));
      if (personal != contents.tensors.end()) upload.personal = personal->second;
      uploads.push_back(std::move(upload));
    }
  } catch (const json::exception& e) {
    throw Error("{} are malformed: {}", what, e.what());
  }
  return uploads;
}

std::string encodeWeights(const std::vector<double>& weights) {
  return safetensors::encode({{"weights", torch::tensor(weights, torch::kFloat64)}});
}

std::vector<double> decodeWeights(const std::string& bytes, std::size_t max_values) {
  const std::string what = "the server rank's aggregation weights";
  const torch::Tensor weights = tensor(safetensors::decode(bytes, what).tensors, "weights", what).contiguous();
  if (weights.scalar_type() != torch::kFloat64 || weights.dim() != 1 ||
      static_cast<std::size_t>(weights.numel()) > max_values)
    throw Error("{}: {} values where at most {} were expected", what, weights.numel(), max_values);
  return {weights.data_ptr<double>(), weights.data_ptr<double>() + weights.numel()};
}

std::string encodeBlock(std::int64_t block, const WeightedSum& partial) {
  return safetensors::encode({{"sum", partial.sum()}},
                             {{"block", std::to_string(block)}, {"total", json(partial.totalWeight()).dump()}});
}

WeightedSum decodeBlock(const std::string& bytes, std::int64_t expected_block, std::int64_t model_size, int from_rank) {
  const std::string what = fmt::format("rank {}'s sum of aggregation block {}", from_rank, expected_block);
  safetensors::Contents contents = safetensors::decode(bytes, what);
  if (field(contents.metadata, "block", what) != std::to_string(expected_block))
    throw Error("{} is for another block", what);
  const torch::Tensor& sum = tensor(contents.tensors, "sum", what);
  if (sum.scalar_type() != torch::kFloat64 || sum.dim() != 1 || sum.numel() != model_size)
    throw Error("{} has {} values where the model has {}", what, sum.numel(), model_size);
  return WeightedSum::fromParts(sum, parsed(field(contents.metadata, "total", what), what).get<double>());
}

}  // namespace pagefl::mpi
