// The steps every client half repeats in a round: open the update, score the received global
// model on local test data (G->L), note what training did, and score the personalised model
// (P->L, and hand it over for P->S when the simulator asks).
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

ClientUpdate openUpdate(const ServerMessage& message, const ClientContext& context);

// Loads the received global model into context.model and, on evaluated rounds, records G->L.
void loadGlobalAndScore(ClientUpdate& update, const ServerMessage& message, ClientContext& context,
                        std::int64_t eval_batch_size);

// train_loss, train_samples and the aggregation weight (local training samples).
void recordTraining(ClientUpdate& update, const TrainStats& stats, const ClientContext& context);

// On evaluated rounds: loads `personal` into context.model, records P->L, and keeps a copy in
// update.personal when the message asks for it.
void scorePersonal(ClientUpdate& update, const ServerMessage& message, ClientContext& context,
                   const torch::Tensor& personal, std::int64_t eval_batch_size);

// The client's persistent flat tensor `key`, created as a copy of `initial` on first use.
torch::Tensor& persistentCopy(ClientState& state, const std::string& key, const torch::Tensor& initial);

}  // namespace pagefl
