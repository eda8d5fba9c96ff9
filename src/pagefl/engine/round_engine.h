// The one round loop of pagefl, for the simulator and the deployed server alike. A round: apply
// the controls due, sample the participants, configure the round, collect the updates, fold or
// aggregate them, evaluate the global model, hand the record to the observers. How updates are
// collected is the only difference between the two: a ClientReach either runs clients in-process
// (sim/) or reaches sites over gRPC (net/). The engine knows neither threads nor the network.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/core/rng.h"
#include "pagefl/engine/run_controls.h"
#include "pagefl/engine/run_observer.h"
#include "pagefl/engine/upload_score_cache.h"
#include "pagefl/fl/algorithm.h"

namespace pagefl {

// Whether `round` of `total` computes the evaluation streams: every `every` rounds and the last
// (every = 0: never, for benchmarks).
bool isEvaluationRound(std::int64_t round, std::int64_t total, std::int64_t every);

// The clients taking part in a round: a seeded sample of round(participation x N) of N
// candidates, at least one, as indices into the candidates, ascending.
std::vector<std::int64_t> sampleParticipants(const RngStreams& streams, std::int64_t round, std::int64_t num_clients,
                                             double participation);

// Clients trained at once when their updates are folded as they come (and by each rank of a
// sharded simulation): enough to keep every worker busy, few enough that their uploads fit.
inline constexpr std::int64_t kClientsPerChunk = 64;

// Where a reach hands the round's updates. Sound ones are folded in at once when the algorithm
// folds (the reach may then hand them over in chunks of chunkSize() and drop them), kept for
// aggregate() otherwise.
class UpdateIntake {
 public:
  virtual ~UpdateIntake() = default;
  // How many uploads the reach should hold at once (all of them when the algorithm cannot fold).
  virtual std::int64_t chunkSize() const = 0;
  // Scores of uploads the reach already computed on the server test set, for the server half to
  // reuse; null when folding (no upload is kept to be scored again).
  virtual UploadScoreCache* uploadScores() = 0;
  virtual void accept(ClientUpdate update, std::int64_t train_size, std::int64_t test_size) = 0;
  virtual void refuse(std::int64_t client, std::string reason) = 0;
  // A reach that aggregated the round itself (a sharded simulation: accepted updates then carry no
  // parameters; their sum was made where they were trained) hands over the server's metrics here,
  // and the engine neither folds nor aggregates.
  virtual void aggregated(Metrics server_metrics) = 0;
};

enum class RoundOutcome { Collected, RunAgain, Stop };

// How the engine reaches clients.
class ClientReach {
 public:
  virtual ~ClientReach() = default;
  // The clients that may be sampled for `round`, by id, ascending (the deployment waits here for
  // enough sites); nullopt when the run must stop first.
  virtual std::optional<std::vector<std::int64_t>> candidates(std::int64_t round) = 0;
  // Sends `message` to the participants and hands every update that comes back, sound or refused,
  // to `intake` in client-id order. RunAgain: the round yields no model and is run again (with
  // `why` set); Stop: the run ends now.
  virtual RoundOutcome collect(const ServerMessage& message, const std::vector<std::int64_t>& participants,
                               UpdateIntake& intake, std::string& why) = 0;
  // A control changed the settings in force (the round deadline, say), from the next round on.
  virtual void reconfigure(const Config& /*settings*/) {}
  // The round's global model is built and scored: the reach's own part of the record (new
  // clients' scores, memory use) and bookkeeping (the audit log), before observers see it.
  virtual void complete(RoundRecord& /*record*/, const torch::Tensor& /*global*/) {}
  // Whether the run must stop at once (a signal); asked between rounds and while paused.
  virtual bool interrupted() const { return false; }
};

struct EngineSettings {
  std::int64_t num_clients = 0;    // for RunStarted
  std::int64_t first_round = 1;    // later when a deployment resumes
  ModelSpec model;                 // for RunStarted
  // Whether the clients' personalised models come back to the engine to be exported on the last
  // round: the simulator's do; deployed sites keep theirs (each exports its own).
  bool exports_personal_models = true;
};

class RoundEngine {
 public:
  // `config` is copied: controls change the copy. `controls` may be null (nothing steers the run).
  RoundEngine(const Config& config, EngineSettings settings, ServerAlgorithm& server, ServerEvaluator& evaluator,
              ClientReach& reach, std::vector<RunObserver*> observers, RunControls* controls = nullptr);

  // Runs rounds until the last or a stop. Returns how the run ended.
  RunEnd run();
  // The settings in force (the config as changed by controls so far).
  const Config& settings() const { return config_; }
  std::int64_t completedRounds() const { return completed_; }

 private:
  // Applies the controls due at `round`, waiting while paused. Returns false when the run stops.
  bool applyControls(std::int64_t round);
  void applyChange(std::int64_t round, const ControlRequest& request);
  void announce(const AppliedControl& control);
  RoundOutcome runRound(std::int64_t round, const std::vector<std::int64_t>& candidates);
  RunEnd end(RunEnd how);

  Config config_;
  EngineSettings settings_;
  ServerAlgorithm& server_;
  ServerEvaluator& evaluator_;
  ClientReach& reach_;
  std::vector<RunObserver*> observers_;
  RunControls* controls_;
  RngStreams streams_;
  bool paused_ = false;
  std::int64_t completed_ = 0;
  // Settings changed since the last closed round: they go into the next round's record.
  std::vector<AppliedControl> changes_since_last_round_;
};

}  // namespace pagefl
