// The names of the evaluation streams, used in messages, metrics files and reports.
//   G->S  the global model on the server test set
//   G->L  the global model a client received, on its local test split
//   P->L  the client's personalised (or freshly trained) model on its local test split
//   P->S  the client's personalised model on the server test set (optional)
//   G->N  the global model on new clients, held out of training, on their local test splits
//   FT->N the global model after a few local SGD steps on each new client's train split
#pragma once

#include <string>

#include "pagefl/fl/messages.h"
#include "pagefl/nn/local_training.h"

namespace pagefl::streams {

inline constexpr const char* kGlobalOnServer = "g2s";
inline constexpr const char* kGlobalOnLocal = "g2l";
inline constexpr const char* kPersonalOnLocal = "p2l";
inline constexpr const char* kPersonalOnServer = "p2s";
inline constexpr const char* kGlobalOnNew = "g2n";
inline constexpr const char* kFineTunedOnNew = "ft2n";

inline std::string accuracyKey(const std::string& stream) { return stream + "_acc"; }
inline std::string lossKey(const std::string& stream) { return stream + "_loss"; }

// Stores an evaluation as "<stream>_acc" and "<stream>_loss"; nothing when no sample was evaluated.
inline void record(Metrics& metrics, const std::string& stream, const EvalResult& result) {
  if (result.samples == 0) return;
  metrics[accuracyKey(stream)] = result.accuracy();
  metrics[lossKey(stream)] = result.loss();
}

}  // namespace pagefl::streams
