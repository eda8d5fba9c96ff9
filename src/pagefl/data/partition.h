// Partitioners: which samples of a pool each client holds. Each is a deterministic function of
// its inputs and the random engine it is given.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

namespace pagefl {

using ClientIndices = std::vector<std::vector<std::int64_t>>;

// Uniformly random, near-equal sizes.
ClientIndices partitionIid(std::int64_t num_samples, std::int64_t num_clients, std::mt19937_64& rng);

// Label skew: for each class, shares over clients are drawn from Dirichlet(alpha); a client
// already holding its fair share (N / clients) takes no more. Draws repeat until every client
// holds at least `min_size` samples, at most `max_retries` times, then throw pagefl::Error.
ClientIndices partitionDirichlet(const torch::Tensor& labels, std::int64_t num_classes, std::int64_t num_clients,
                                 double alpha, std::int64_t min_size, std::int64_t max_retries, std::mt19937_64& rng);

// Pathological skew (McMahan et al.): label-sorted samples cut into clients x k shards,
// k random shards per client, so each client sees about k classes.
ClientIndices partitionShards(const torch::Tensor& labels, std::int64_t num_clients, std::int64_t shards_per_client,
                              std::mt19937_64& rng);

}  // namespace pagefl
