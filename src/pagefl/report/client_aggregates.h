// Aggregates of a per-client metric across clients: the fairness view of a stream.
#pragma once

#include <vector>

namespace pagefl {

struct ClientAggregate {
  std::size_t count = 0;
  double mean = 0;           // unweighted: every client counts once
  double weighted_mean = 0;  // weighted by the clients' test samples
  double std = 0;            // population standard deviation
  double worst = 0;          // the minimum
  double p10 = 0;            // 10th percentile, linear interpolation between order statistics
};

// `weights` may be empty (then weighted_mean = mean). Throws pagefl::Error when `values` is
// empty or the sizes differ.
ClientAggregate aggregateClients(const std::vector<double>& values, const std::vector<double>& weights);

}  // namespace pagefl
