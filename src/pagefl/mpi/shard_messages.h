// What the ranks of a sharded simulation say to each other, as byte strings in the safetensors
// layout (core/safetensors.h), whose reader checks every size against the bytes really there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithm.h"

namespace pagefl::mpi {

// Server rank -> every rank, between and during runs.
struct Command {
  enum class Kind { StartRun, Round, EndRun, Shutdown } kind = Kind::Shutdown;
  // StartRun
  std::string config_toml;
  bool validation_view = false;
  // Round
  ServerMessage message;
  std::vector<std::int64_t> participants;
};

std::string encodeCommand(const Command& command);
Command decodeCommand(const std::string& bytes);

// A rank -> the server rank: what it made of one participant.
struct RankUpload {
  UploadFacts facts;
  std::int64_t train_size = 0, test_size = 0;
  std::string refusal;     // empty: sound
  torch::Tensor personal;  // on the run's exporting round: the model to hand over
};

std::string encodeUploads(const std::vector<RankUpload>& uploads);
std::vector<RankUpload> decodeUploads(const std::string& bytes, int from_rank);

std::string encodeWeights(const std::vector<double>& weights);
std::vector<double> decodeWeights(const std::string& bytes, std::size_t max_values);

// One aggregation block's partial sum.
std::string encodeBlock(std::int64_t block, const WeightedSum& partial);
WeightedSum decodeBlock(const std::string& bytes, std::int64_t expected_block, std::int64_t model_size, int from_rank);

}  // namespace pagefl::mpi
