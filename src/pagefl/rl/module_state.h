// A module's parameters and an Adam optimiser's moments as named tensors (safetensors entries),
// and back. LibTorch's own archives are pickles, which a forged file can make abort the process;
// these are plain tensors, every one checked for its name, shape and dtype when it comes back.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace pagefl::rl {

using StateTensors = std::map<std::string, torch::Tensor>;

// "<prefix><parameter name>" for every parameter of `module`.
void saveParameters(const torch::nn::Module& module, const std::string& prefix, StateTensors& state);
// Copies each saved parameter into `module`. Throws pagefl::Error naming the parameter when one is
// missing or has another shape or dtype, or holds NaN/Inf.
void loadParameters(torch::nn::Module& module, const std::string& prefix, const StateTensors& state);

// Per parameter i of the optimiser's one group: "<prefix><i>/step", "/exp_avg", "/exp_avg_sq"
// (and "/max_exp_avg_sq" with amsgrad); nothing for a parameter that has not been stepped yet.
void saveAdamState(const torch::optim::Adam& optimizer, const std::string& prefix, StateTensors& state);
// Replaces the optimiser's moments with the saved ones, checked like loadParameters.
void loadAdamState(torch::optim::Adam& optimizer, const std::string& prefix, const StateTensors& state);

}  // namespace pagefl::rl
