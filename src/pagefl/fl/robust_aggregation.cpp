#include "pagefl/fl/robust_aggregation.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"

namespace pagefl {
namespace {

torch::Tensor stacked(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> rows;
  rows.reserve(params.size());
  for (const torch::Tensor& p : params) rows.push_back(p.to(torch::kFloat64));
  return torch::stack(rows);
}

// The lower median for an even count, as torch::median does: every result is one of the values.
torch::Tensor coordinateMedian(const torch::Tensor& rows) { return std::get<0>(rows.median(0)); }

torch::Tensor trimmedMean(const torch::Tensor& rows, double trim_fraction) {
  const std::int64_t n = rows.size(0);
  const auto cut = static_cast<std::int64_t>(std::floor(trim_fraction * static_cast<double>(n)));
  if (n - 2 * cut < 1)
    throw Error("robust.trim_fraction = {} cuts all {} updates; lower it below 0.5", trim_fraction, n);
  return std::get<0>(rows.sort(0)).slice(0, cut, n - cut).mean(0);
}

torch::Tensor multiKrum(const torch::Tensor& rows, const std::vector<double>& weights, const RobustConfig& robust) {
  const std::int64_t n = rows.size(0), f = robust.byzantine;
  if (n <= 2 * f + 2)
    throw Error("robust.rule = \"krum\" with robust.byzantine = {} needs more than {} updates in a round, but {} "
                "arrived: lower robust.byzantine or raise participation",
                f, 2 * f + 2, n);
  const torch::Tensor distances = torch::cdist(rows, rows).pow(2);
  const std::int64_t neighbours = n - f - 2;
  // Each row's own zero distance sorts first; the next `neighbours` are its nearest others.
  const torch::Tensor scores = std::get<0>(distances.sort(1)).slice(1, 1, 1 + neighbours).sum(1);
  const std::int64_t select = robust.krum_select > 0 ? std::min(robust.krum_select, n) : n - f;
  const torch::Tensor chosen = std::get<1>(scores.sort(0, /*descending=*/false)).slice(0, 0, select);
  // In client order, so that the float64 sum is the same whatever the scores' ties.
  const torch::Tensor ordered = std::get<0>(chosen.sort());
  std::vector<torch::Tensor> picked;
  std::vector<double> picked_weights;
  for (std::int64_t i = 0; i < ordered.numel(); ++i) {
    const std::int64_t row = ordered[i].item<std::int64_t>();
    picked.push_back(rows[row]);
    picked_weights.push_back(weights[static_cast<std::size_t>(row)]);
  }
  // PAGE's agent may have given every chosen update weight zero: they then count alike.
  if (std::accumulate(picked_weights.begin(), picked_weights.end(), 0.0) <= 0)
    std::fill(picked_weights.begin(), picked_weights.end(), 1.0);
  return weightedAverage(picked, picked_weights).to(torch::kFloat64);
}

}  // namespace

bool robustAtAggregation(const RobustConfig& robust) { return robust.rule != "mean" || robust.norm_factor > 0; }

std::optional<std::string> normBoundDefect(double distance, const RobustConfig& robust) {
  if (robust.max_update_norm <= 0 || distance <= robust.max_update_norm) return std::nullopt;
  return fmt::format("its distance from the global model, {:.4g}, exceeds robust.max_update_norm = {:.4g}", distance,
                     robust.max_update_norm);
}

std::int64_t clipToMedianNorm(std::vector<torch::Tensor>& params, const torch::Tensor& global,
                              const RobustConfig& robust) {
  if (robust.norm_factor <= 0 || params.empty()) return 0;
  std::vector<double> norms;
  for (const torch::Tensor& p : params) norms.push_back((p - global).norm().item<double>());
  std::vector<double> sorted = norms;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>((sorted.size() - 1) / 2), sorted.end());
  const double bound = robust.norm_factor * sorted[(sorted.size() - 1) / 2];
  std::int64_t clipped = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (norms[i] <= bound) continue;
    params[i] = global + (params[i] - global) * static_cast<float>(bound / norms[i]);
    ++clipped;
  }
  return clipped;
}

torch::Tensor robustCombine(const std::vector<torch::Tensor>& params, const std::vector<double>& weights,
                            const RobustConfig& robust) {
  if (params.empty()) throw Error("cannot aggregate zero models");
  if (robust.rule == "mean") return weightedAverage(params, weights);
  const torch::Tensor rows = stacked(params);
  if (robust.rule == "median") return coordinateMedian(rows).to(torch::kFloat32);
  if (robust.rule == "trimmed-mean") return trimmedMean(rows, robust.trim_fraction).to(torch::kFloat32);
  if (robust.rule == "krum") return multiKrum(rows, weights, robust).to(torch::kFloat32);
  throw Error("unknown robust.rule '{}'; choose mean, median, trimmed-mean or krum", robust.rule);
}

torch::Tensor robustAggregate(std::vector<torch::Tensor> params, const std::vector<double>& weights,
                              const torch::Tensor& global, const RobustConfig& robust,
                              std::map<std::string, double>& metrics) {
  if (const std::int64_t clipped = clipToMedianNorm(params, global, robust); clipped > 0)
    metrics["clipped_updates"] = static_cast<double>(clipped);
  return robustCombine(params, weights, robust);
}

}  // namespace pagefl
