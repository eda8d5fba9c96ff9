// A client half whose local training is plain SGD (FedAvg, FedProx, FedAvg+FT, FedBABU, PAGE,
// Dap-FL, Ditto, FedALA). Its round is split around the training, prepare -> train -> finish, so
// that the simulator can train many such clients at once, stacked (sim/stacked_clients.h), while
// prepare and finish still run one client at a time. run() does the three in a row for one
// client, as a deployed site does.
#pragma once

#include <any>
#include <optional>
#include <random>

#include "pagefl/fl/algorithm.h"

namespace pagefl {

// A second training of the client in the same round, independent of the upload's (Ditto's
// personal model): with the upload's SGD options, from its own start and data order.
struct SideTraining {
  torch::Tensor start;
  std::mt19937_64 shuffle;
  double proximal_mu = 0.0;  // mu (w - w_global) is added to every minibatch gradient
  torch::Tensor trained{};   // the trained parameters, set before finish
};

struct LocalSgdJob {
  ClientUpdate update;       // opened by prepare, with what it recorded so far
  SgdOptions sgd;
  std::mt19937_64 shuffle;   // the generator of the data order
  double proximal_mu = 0.0;  // FedProx: mu (w - w_global) is added to every minibatch gradient
  std::any carry{};          // what finish needs from prepare (PAGE: the agent's action)
  torch::Tensor start{};     // where the upload's training starts; undefined: the received model
  std::optional<SideTraining> side{};
};

class LocalSgdClient : public ClientAlgorithm {
 public:
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const final;

  // Everything before training. It may use context.model and leave it in any state: training
  // starts from job.start, or message.global when that is undefined.
  virtual LocalSgdJob prepare(const ServerMessage& message, ClientContext& context) const = 0;
  // Everything after training, with the trained parameters loaded in context.model.
  virtual ClientUpdate finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                              const TrainStats& stats) const = 0;
};

// Where the upload's training starts: job.start, or the received model.
const torch::Tensor& trainingStart(const LocalSgdJob& job, const ServerMessage& message);

// FedProx's gradient hook for trainSgd: grads += mu (w - centre). Empty when mu is 0.
GradientHook proximalHook(double mu, const torch::Tensor& centre);

}  // namespace pagefl
