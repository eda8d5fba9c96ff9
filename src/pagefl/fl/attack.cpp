#include "pagefl/fl/attack.h"

#include <torch/torch.h>

#include <algorithm>
#include <charconv>

#include "pagefl/core/error.h"

namespace pagefl {

bool isAttacker(const AttackConfig& attack, std::int64_t client) {
  return std::find(attack.clients.begin(), attack.clients.end(), client) != attack.clients.end();
}

void poisonUpload(ClientUpdate& update, const torch::Tensor& global, const AttackConfig& attack,
                  const RngStreams& streams) {
  if (!update.params.defined()) return;
  const torch::Tensor delta = update.params - global;
  const auto scale = static_cast<float>(attack.scale);
  if (attack.kind == "scale") {
    update.params = global + scale * delta;
  } else if (attack.kind == "sign-flip") {
    update.params = global - scale * delta;
  } else if (attack.kind == "random") {
    at::Generator generator = streams.torchGenerator(Purpose::Attack, update.round, update.client);
    const torch::Tensor noise = torch::randn(delta.sizes(), generator, torch::kFloat32);
    update.params = global + noise * (scale * delta.norm() / noise.norm().clamp_min(1e-12));
  } else {
    throw Error("unknown attack.kind '{}'; choose scale, sign-flip or random", excerpt(attack.kind));
  }
}

AttackConfig parseAttack(const std::string& text) {
  AttackConfig attack;
  const std::size_t colon = text.find(':');
  attack.kind = text.substr(0, colon);
  if (attack.kind != "scale" && attack.kind != "sign-flip" && attack.kind != "random")
    throw Error("--attack '{}': choose scale, sign-flip or random, optionally with a factor, e.g. scale:10",
                excerpt(text));
  if (colon != std::string::npos) {
    const std::string factor = text.substr(colon + 1);
    const auto [end, error] = std::from_chars(factor.data(), factor.data() + factor.size(), attack.scale);
    if (error != std::errc() || end != factor.data() + factor.size() || !(attack.scale >= 0 && attack.scale <= 1e6))
      throw Error("--attack '{}': the factor after ':' must be a number in 0..1e6", excerpt(text));
  }
  return attack;
}

}  // namespace pagefl
