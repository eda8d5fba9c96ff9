// How the simulator reaches its clients: in-process, over the worker pool, one model replica per
// worker, each client's data a read-only view of data loaded once. What a deployment's sites and
// server would do on their own is done here too: attackers rewrite their uploads, the server's
// arrival checks refuse unsound ones, and clients held out of training are scored as new sites.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/round_engine.h"
#include "pagefl/engine/worker_pool.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/local_sgd_client.h"

namespace pagefl {

// Who trains when: clients held out as new sites never do; late clients from their join round on;
// everyone else from round 1.
struct ClientRoster {
  std::vector<std::int64_t> early, everyone, held_out;
  std::int64_t join_round = 0;

  const std::vector<std::int64_t>& trainingIn(std::int64_t round) const {
    return join_round > 1 && round < join_round ? early : everyone;
  }
};

ClientRoster buildRoster(const FederatedDataset& data, const Config& config);

// A client's update as a server would take it on arrival: sound (refusal empty) or refused.
struct CheckedUpdate {
  ClientUpdate update;
  std::string refusal;
};

class InProcessClients final : public ClientReach {
 public:
  // `stacked`: the client half to train stacked (sim/stacked_clients.h), or null.
  InProcessClients(const Config& config, const FederatedDataset& data, WorkerPool& pool,
                   const ClientAlgorithm& client, const LocalSgdClient* stacked, bool expects_models,
                   ServerEvaluator& evaluator, ClientStateStore& store);

  std::optional<std::vector<std::int64_t>> candidates(std::int64_t round) override;
  RoundOutcome collect(const ServerMessage& message, const std::vector<std::int64_t>& participants,
                       UpdateIntake& intake, std::string& why) override;
  void complete(RoundRecord& record, const torch::Tensor& global) override;

  // Trains `clients` (ascending) and checks each upload as collect() does: attackers rewrite
  // theirs, unsound ones are refused, P->S is scored when asked (the uploads' scores remembered in
  // `uploads` when given). In client order. A sharded simulation's ranks train theirs with it.
  const FederatedDataset& data() const { return data_; }
  std::vector<CheckedUpdate> trainChecked(const ServerMessage& message, const std::vector<std::int64_t>& clients,
                                          UploadScoreCache* uploads);

 private:
  std::vector<ClientUpdate> train(const ServerMessage& message, const std::vector<std::int64_t>& clients);

  const Config& config_;
  const FederatedDataset& data_;
  RngStreams streams_;
  WorkerPool& pool_;
  const ClientAlgorithm& client_;
  const LocalSgdClient* stacked_;
  bool expects_models_;
  ServerEvaluator& evaluator_;
  ClientStateStore& store_;
  ClientRoster roster_;
};

}  // namespace pagefl
