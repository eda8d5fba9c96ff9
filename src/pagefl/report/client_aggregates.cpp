#include "pagefl/report/client_aggregates.h"

#include <algorithm>
#include <cmath>

#include "pagefl/core/error.h"

namespace pagefl {

ClientAggregate aggregateClients(const std::vector<double>& values, const std::vector<double>& weights) {
  if (values.empty()) throw Error("no client values to aggregate");
  if (!weights.empty() && weights.size() != values.size())
    throw Error("{} client values but {} weights", values.size(), weights.size());
  ClientAggregate out;
  out.count = values.size();
  const auto n = static_cast<double>(values.size());
  double sum = 0, weighted = 0, weight_total = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    sum += values[i];
    const double w = weights.empty() ? 1.0 : weights[i];
    weighted += w * values[i];
    weight_total += w;
  }
  out.mean = sum / n;
  out.weighted_mean = weight_total > 0 ? weighted / weight_total : out.mean;
  double squares = 0;
  for (double v : values) squares += (v - out.mean) * (v - out.mean);
  out.std = std::sqrt(squares / n);

  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  out.worst = sorted.front();
  const double position = 0.1 * (n - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  out.p10 = sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
  return out;
}

}  // namespace pagefl
