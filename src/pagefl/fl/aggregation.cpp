#include "pagefl/fl/aggregation.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "pagefl/core/error.h"

namespace pagefl {

void WeightedSum::add(const torch::Tensor& params, double weight) {
  if (!(weight >= 0)) throw Error("aggregation weight {} is negative or not a number", weight);
  if (!sum_.defined()) sum_ = torch::zeros({params.numel()}, torch::kFloat64);
  if (params.numel() != sum_.numel())
    throw Error("cannot aggregate models of {} and {} parameters", sum_.numel(), params.numel());
  sum_.add_(params.to(torch::kFloat64), weight);
  total_ += weight;
}

bool WeightedSum::addUpload(const ClientUpdate& update) {
  if (!update.params.defined()) return false;
  add(update.params, static_cast<double>(update.num_samples));
  return true;
}

torch::Tensor WeightedSum::average() const {
  if (!sum_.defined()) throw Error("cannot aggregate zero models");
  if (total_ <= 0) throw Error("aggregation weights sum to zero");
  return (sum_ / total_).to(torch::kFloat32);
}

void WeightedSum::merge(const WeightedSum& other) {
  if (other.empty()) return;
  if (empty()) {
    sum_ = other.sum_.clone();
  } else {
    if (other.sum_.numel() != sum_.numel())
      throw Error("cannot aggregate models of {} and {} parameters", sum_.numel(), other.sum_.numel());
    sum_.add_(other.sum_);
  }
  total_ += other.total_;
}

WeightedSum WeightedSum::fromParts(torch::Tensor sum, double total_weight) {
  if (!(total_weight >= 0)) throw Error("a partial aggregation weight {} is negative or not a number", total_weight);
  WeightedSum partial;
  if (sum.defined()) partial.sum_ = sum.to(torch::kFloat64).contiguous();
  partial.total_ = total_weight;
  return partial;
}

void BlockedSum::enter(std::int64_t block) {
  if (block < open_block_)
    throw Error("aggregation block {} arrived after block {} (clients must come in ascending order)", block,
                open_block_);
  if (block == open_block_) return;
  total_.merge(open_);
  open_ = WeightedSum();
  open_block_ = block;
}

void BlockedSum::add(std::int64_t client, const torch::Tensor& params, double weight) {
  if (!params.defined()) return;
  enter(aggregationBlockOf(client));
  open_.add(params, weight);
}

void BlockedSum::addBlock(std::int64_t block, const WeightedSum& partial) {
  enter(block);
  if (!open_.empty()) throw Error("aggregation block {} was summed twice", block);
  open_.merge(partial);
}

torch::Tensor BlockedSum::average() {
  total_.merge(open_);
  open_ = WeightedSum();
  open_block_ = std::numeric_limits<std::int64_t>::max();
  return total_.average();
}

torch::Tensor weightedAverage(const std::vector<torch::Tensor>& params, const std::vector<double>& weights) {
  if (params.size() != weights.size())
    throw Error("cannot aggregate {} models with {} weights", params.size(), weights.size());
  WeightedSum sum;
  for (std::size_t i = 0; i < params.size(); ++i) sum.add(params[i], weights[i]);
  return sum.average();
}

std::optional<torch::Tensor> sampleWeightedAverage(const std::vector<ClientUpdate>& updates) {
  WeightedSum sum;
  for (const ClientUpdate& update : updates) sum.addUpload(update);
  if (sum.empty()) return std::nullopt;
  return sum.average();
}

std::optional<std::string> findUpdateDefect(const ClientUpdate& update, std::int64_t expected_size,
                                            bool params_required) {
  if (!update.params.defined()) {
    if (params_required) return fmt::format("it carries no model parameters (the model needs [{}])", expected_size);
    if (!update.tensors.empty()) return std::string("it carries tensors but no model parameters");
    return std::nullopt;
  }
  if (update.params.dim() != 1 || update.params.numel() != expected_size)
    return fmt::format("its parameters have shape [{}] but the model needs [{}]",
                       fmt::join(update.params.sizes(), ", "), expected_size);
  if (!torch::isfinite(update.params).all().item<bool>())
    return std::string("its parameters contain NaN or Inf (local training diverged: lower train.lr or set "
                       "train.clip_norm)");
  // Algorithm tensors (SCAFFOLD's control delta) are shaped as the model.
  for (const auto& [name, tensor] : update.tensors) {
    if (!tensor.defined() || tensor.dim() != 1 || tensor.numel() != expected_size)
      return fmt::format("its tensor '{}' has shape [{}] but must have [{}]", excerpt(name),
                         tensor.defined() ? fmt::format("{}", fmt::join(tensor.sizes(), ", ")) : "", expected_size);
    if (!torch::isfinite(tensor).all().item<bool>()) return fmt::format("its tensor '{}' contains NaN or Inf", excerpt(name));
  }
  for (const auto& [name, value] : update.metrics)
    if (!std::isfinite(value)) return fmt::format("its metric '{}' is {}", excerpt(name), value);
  return std::nullopt;
}

}  // namespace pagefl
