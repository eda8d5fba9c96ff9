// The names of the metrics every training client half reports in ClientUpdate::metrics, beside
// the evaluation streams (streams.h).
#pragma once

namespace pagefl::metric {

inline constexpr const char* kTrainLoss = "train_loss";        // mean minibatch loss of the round's training
inline constexpr const char* kTrainSamples = "train_samples";  // samples trained on, over all epochs

}  // namespace pagefl::metric
