// The messages the two halves of an Algorithm exchange. They carry flat parameters, named
// tensors and named numbers only, so they travel unchanged in-process or over the network.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace pagefl {

using Metrics = std::map<std::string, double>;
using NamedTensors = std::map<std::string, torch::Tensor>;

// Server -> client at the start of a round.
struct ServerMessage {
  std::int64_t round = 0;
  torch::Tensor global;   // flat global parameters
  NamedTensors tensors;   // extra algorithm state (e.g. a server control variate)
  Metrics settings;       // per-round settings for the clients
  bool evaluate = false;  // whether clients compute the G->L and P->L streams this round
  // Simulation only: return the personalised model in ClientUpdate::personal, for the P->S stream.
  bool wants_personal = false;
  // The run's last (evaluated) round: return the personalised model in ClientUpdate::personal when
  // it is not the upload, for the run to hand it over (models/personal/). Never sent over the wire:
  // a deployed site sets it itself and keeps its model.
  bool export_personal = false;
};

// Client -> server at the end of its local work.
struct ClientUpdate {
  std::int64_t client = -1;
  std::int64_t round = 0;
  torch::Tensor params;          // trained flat parameters; undefined when there is nothing to aggregate
  std::int64_t num_samples = 0;  // local training samples (FedAvg's aggregation weight)
  NamedTensors tensors;
  Metrics metrics;               // "train_loss", and on evaluated rounds the streams (see streams.h)
  // When asked (wants_personal, export_personal): the personalised model when it is not `params`
  // (Ditto's personal model, FedRep's body with the local head). It never feeds aggregation.
  torch::Tensor personal;
};

}  // namespace pagefl
