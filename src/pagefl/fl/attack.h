// Poisoned uploads, to measure the server's defences ([attack], simulation; `pagefl client
// --attack` for drills against a deployed server). An attacker trains as usual, then rewrites its
// update d = w_i - w (w: the global model it received):
//   scale:     w + s d          (a boosted update, as in model-replacement attacks)
//   sign-flip: w - s d          (pushes the model away from every site's progress)
//   random:    w + s ||d|| z/||z||, z ~ N(0, I)  (noise of the update's size)
#pragma once

#include <torch/types.h>

#include "pagefl/core/config.h"
#include "pagefl/core/rng.h"
#include "pagefl/fl/messages.h"

namespace pagefl {

bool isAttacker(const AttackConfig& attack, std::int64_t client);

// Rewrites `update.params` as `attack` says; the noise of "random" comes from `streams`, keyed by
// the update's round and client.
void poisonUpload(ClientUpdate& update, const torch::Tensor& global, const AttackConfig& attack,
                  const RngStreams& streams);

// "scale:10", "sign-flip:1", "random:5" (the part after the colon defaults to 10), as the site's
// --attack option takes it. Throws pagefl::Error naming the accepted forms.
AttackConfig parseAttack(const std::string& text);

}  // namespace pagefl
