// Deterministic random streams: every draw in a run comes from a stream keyed by
// (seed, purpose, round, client), so results do not depend on threads or scheduling order.
#pragma once

#include <ATen/core/Generator.h>

#include <cstdint>
#include <random>

namespace pagefl {

// What a stream is used for. Values are part of the on-disk determinism contract: never renumber.
enum class Purpose : std::uint64_t {
  ModelInit = 1,
  Partition = 2,
  LocalSplit = 3,
  Participation = 4,
  Shuffle = 5,
  SyntheticData = 6,
  Subset = 7,
  FineTuneShuffle = 8,
  AgentInit = 9,
  AgentNoise = 10,
  AdaptiveAggregationSample = 11,  // FedALA's data share for learning its weights
  ServerScoreSubset = 12,          // PAGE's page.server_score_samples
  Tuning = 13,                     // compare --tune's random search
  Attack = 14,                     // attack.kind = "random": a simulated attacker's noise
};

inline constexpr std::int64_t kNoRound = -1;
inline constexpr std::int64_t kServer = -1;

class RngStreams {
 public:
  explicit RngStreams(std::uint64_t seed) : seed_(seed) {}

  std::uint64_t seed() const { return seed_; }

  // A 64-bit seed unique to (seed, purpose, round, client).
  std::uint64_t derive(Purpose purpose, std::int64_t round = kNoRound, std::int64_t client = kServer) const;

  std::mt19937_64 engine(Purpose purpose, std::int64_t round = kNoRound, std::int64_t client = kServer) const {
    return std::mt19937_64(derive(purpose, round, client));
  }

  // A LibTorch CPU generator for tensor-sized draws (initialisation, synthetic data).
  at::Generator torchGenerator(Purpose purpose, std::int64_t round = kNoRound, std::int64_t client = kServer) const;

 private:
  std::uint64_t seed_;
};

}  // namespace pagefl
