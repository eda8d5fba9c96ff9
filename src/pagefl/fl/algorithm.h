// The Algorithm seam. An algorithm is a server half and a client half that talk only through
// ServerMessage and ClientUpdate. Neither half knows whether it runs in the simulator or in a
// deployment: the simulator calls both in one process, the network layer calls each where it lives.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/core/rng.h"
#include "pagefl/data/dataset.h"
#include "pagefl/fl/client_state.h"
#include "pagefl/fl/messages.h"
#include "pagefl/nn/flat_model.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {

// What a client half may use for one round of local work.
struct ClientContext {
  std::int64_t client = -1;
  Dataset train;
  Dataset test;
  FlatModel& model;          // a scratch replica: its parameters are whatever the client loads
  ClientState& state;        // this client's persistent state
  const RngStreams& streams;
};

// Evaluation on the server's test set, as the server half sees it (parallel in the simulator).
class ServerEvaluator {
 public:
  virtual ~ServerEvaluator() = default;
  virtual EvalResult evaluate(const torch::Tensor& params) = 0;
  // Each model on the server test set, or on a class-stratified subset of `samples` of it fixed by
  // the run's seed (0, or at least the set's size: all of it).
  // Models of different `stack_keys` (one per model: its client's aggregation block) are never
  // scored in one stack of small models, so that a model's score does not depend on which others
  // share the call (the single process and each rank of a sharded simulation pass different
  // lists). Empty: one key for all.
  virtual std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>& params, std::int64_t samples,
                                               const std::vector<std::int64_t>& stack_keys) = 0;
};

// Folds a round's updates into the global model one at a time, in client-id order, for
// algorithms whose aggregation is a running sum. The engine then holds only a chunk of uploads
// at once, so the server's memory does not grow with the number of clients.
class UpdateFold {
 public:
  virtual ~UpdateFold() = default;
  virtual void add(const ClientUpdate& update) = 0;
  // Sets the new global model; returns server-side metrics, as aggregate() does.
  virtual Metrics finish() = 0;
};

class BlockedSum;

// What the server rank of a sharded simulation knows of an upload that stays where it was
// trained: enough to weigh it (sim/sharding.h).
struct UploadFacts {
  std::int64_t client = -1;
  std::int64_t num_samples = 0;
  bool has_params = false;
  Metrics metrics;
  std::optional<EvalResult> score;  // on the server test set, when the aggregation scores uploads
};

// An aggregation that is a weighted sum of the uploads' parameters, with weights chosen from
// what is known of every upload, split in three so that the uploads need not travel: weigh() sees
// each upload's facts, the processes holding the uploads add them up in aggregation blocks
// (fl/aggregation.h), and finish() takes the merged sum. aggregate() must give the same result.
class WeightedAggregation {
 public:
  virtual ~WeightedAggregation() = default;
  // The samples of the server test set each upload is scored on for weigh() (0: all of it), or
  // nullopt when weigh() needs no score.
  virtual std::optional<std::int64_t> uploadScoreSamples() const = 0;
  // One weight per upload, in the order given (client-id order).
  virtual std::vector<double> weigh(std::int64_t round, const std::vector<UploadFacts>& uploads) = 0;
  // Sets the new global model from the weighted sum of the uploads with parameters; returns the
  // server-side metrics, as aggregate() does.
  virtual Metrics finish(std::int64_t round, BlockedSum& sum, ServerEvaluator& evaluator) = 0;
};

class ServerAlgorithm {
 public:
  virtual ~ServerAlgorithm() = default;
  virtual void initialise(const torch::Tensor& initial_params, std::int64_t /*num_clients*/) {
    global_ = initial_params.clone();
  }
  virtual ServerMessage configureRound(std::int64_t round);
  // Folds the round's sound updates (ordered by client id) into the global model. Returns
  // server-side metrics worth logging for the round.
  virtual Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates,
                            ServerEvaluator& evaluator) = 0;
  // A fold that gives the same global model as aggregate(), or null when the algorithm needs
  // every update at once (PAGE's agent weighs them all together).
  virtual std::unique_ptr<UpdateFold> beginFold(std::int64_t /*round*/) { return nullptr; }
  // This half's aggregation as a weighted sum, or null when it needs the uploads themselves (a
  // robust rule, SCAFFOLD's control variates): what a sharded simulation runs.
  virtual WeightedAggregation* weightedAggregation() { return nullptr; }
  const torch::Tensor& global() const { return global_; }
  // Whether every upload must carry the model's parameters (local-only training uploads none).
  virtual bool expectsModels() const { return true; }
  // G->S of the current global model when aggregate() already computed it (PAGE's reward does),
  // so that the engine need not evaluate it again.
  virtual std::optional<EvalResult> globalOnServer() const { return std::nullopt; }

  // Settings an operator changed mid-run (engine/run_controls.h), in force from the next round.
  // Only the settings RunControls lets change reach here.
  virtual void reconfigure(const Config& /*settings*/) {}

  // Everything this half carries from one round to the next, for the deployed server's
  // checkpoints: loading it into a server built from the same config continues the run exactly.
  virtual NamedTensors saveState() const;
  // Call after initialise(). Throws pagefl::Error when `state` lacks what this algorithm keeps.
  virtual void loadState(const NamedTensors& state);

 protected:
  // Registers a member tensor that lives across rounds (a momentum, a control variate), so that
  // checkpoints carry it. The global model is always carried.
  void persistAcrossRounds(const std::string& name, torch::Tensor& member) { persistent_[name] = &member; }

  torch::Tensor global_;

 private:
  std::map<std::string, torch::Tensor*> persistent_;
};

// Called concurrently for different clients: implementations keep per-client state only in
// ClientContext::state.
class ClientAlgorithm {
 public:
  virtual ~ClientAlgorithm() = default;
  virtual ClientUpdate run(const ServerMessage& message, ClientContext& context) const = 0;
};

struct Algorithm {
  std::unique_ptr<ServerAlgorithm> server;
  std::unique_ptr<ClientAlgorithm> client;
};

// Builds the algorithm named by config.algorithm.name. Throws pagefl::Error listing the names when
// none is registered under it.
Algorithm makeAlgorithm(const Config& config);

using AlgorithmFactory = std::function<Algorithm(const Config& config)>;

// An algorithm registers itself from its own file, at static initialisation:
//   const AlgorithmRegistration kDitto({"ditto", "Ditto (Li et al., ICML 2021): ...", {tuned}},
//                                      [](const Config& config) { return Algorithm{...}; });
// Its config fields are a SettingsRegistration beside it (core/algorithm_catalog.h).
struct AlgorithmRegistration {
  AlgorithmRegistration(AlgorithmEntry entry, AlgorithmFactory make);
};

// For algorithms that update their global model their own way (SCAFFOLD, FedDyn, ...): throws
// pagefl::Error when the config asks for a robust aggregation rule, which they cannot honour.
void refuseRobustRules(const Config& config);

// Local SGD options from the [train] section.
SgdOptions sgdOptions(const TrainConfig& train);

}  // namespace pagefl
