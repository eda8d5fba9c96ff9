#include "pagefl/rl/module_state.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include "pagefl/core/error.h"

namespace pagefl::rl {
namespace {

// The saved tensor `key`, of the shape and dtype of `like`, finite. Throws naming it otherwise.
const torch::Tensor& savedLike(const StateTensors& state, const std::string& key, const torch::Tensor& like) {
  const auto it = state.find(key);
  if (it == state.end())
    throw Error("the saved agent lacks '{}': it has other networks or was written by another version", key);
  const torch::Tensor& saved = it->second;
  if (saved.sizes() != like.sizes() || saved.scalar_type() != like.scalar_type())
    throw Error("the saved agent's '{}' has shape [{}] and dtype {}, this agent's has [{}] and {}", key,
                fmt::join(saved.sizes(), ", "), c10::toString(saved.scalar_type()), fmt::join(like.sizes(), ", "),
                c10::toString(like.scalar_type()));
  if (saved.is_floating_point() && !torch::isfinite(saved).all().item<bool>())
    throw Error("the saved agent's '{}' holds NaN or Inf", key);
  return saved;
}

// The optimiser's key for a parameter's state, as LibTorch's own serialiser computes it.
std::string stateKey(const torch::Tensor& parameter) { return c10::guts::to_string(parameter.unsafeGetTensorImpl()); }

}  // namespace

void saveParameters(const torch::nn::Module& module, const std::string& prefix, StateTensors& state) {
  for (const auto& parameter : module.named_parameters())
    state[prefix + parameter.key()] = parameter.value().detach().clone();
}

void loadParameters(torch::nn::Module& module, const std::string& prefix, const StateTensors& state) {
  torch::NoGradGuard no_grad;
  for (auto& parameter : module.named_parameters())
    parameter.value().copy_(savedLike(state, prefix + parameter.key(), parameter.value()));
}

void saveAdamState(const torch::optim::Adam& optimizer, const std::string& prefix, StateTensors& state) {
  const auto& parameters = optimizer.param_groups().at(0).params();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const auto it = optimizer.state().find(stateKey(parameters[i]));
    if (it == optimizer.state().end()) continue;
    const auto& moments = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const std::string at = fmt::format("{}{}/", prefix, i);
    state[at + "step"] = torch::tensor({moments.step()}, torch::kInt64);
    state[at + "exp_avg"] = moments.exp_avg().clone();
    state[at + "exp_avg_sq"] = moments.exp_avg_sq().clone();
    if (moments.max_exp_avg_sq().defined()) state[at + "max_exp_avg_sq"] = moments.max_exp_avg_sq().clone();
  }
}

void loadAdamState(torch::optim::Adam& optimizer, const std::string& prefix, const StateTensors& state) {
  const auto& parameters = optimizer.param_groups().at(0).params();
  const bool amsgrad =
      static_cast<const torch::optim::AdamOptions&>(optimizer.param_groups().at(0).options()).amsgrad();
  optimizer.state().clear();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const std::string at = fmt::format("{}{}/", prefix, i);
    if (!state.count(at + "step")) continue;  // not stepped when it was saved
    const torch::Tensor& count = savedLike(state, at + "step", torch::zeros({1}, torch::kInt64));
    if (count.item<std::int64_t>() < 1) throw Error("the saved agent's '{}' is not a positive step count", at + "step");
    auto moments = std::make_unique<torch::optim::AdamParamState>();
    moments->step(count.item<std::int64_t>());
    moments->exp_avg(savedLike(state, at + "exp_avg", parameters[i]).clone());
    moments->exp_avg_sq(savedLike(state, at + "exp_avg_sq", parameters[i]).clone());
    if ((moments->exp_avg_sq() < 0).any().item<bool>())
      throw Error("the saved agent's '{}' holds negative second moments", at + "exp_avg_sq");
    if (amsgrad) moments->max_exp_avg_sq(savedLike(state, at + "max_exp_avg_sq", parameters[i]).clone());
    optimizer.state()[stateKey(parameters[i])] = std::move(moments);
  }
}

}  // namespace pagefl::rl
