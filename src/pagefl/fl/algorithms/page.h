// PAGE (Chen, Wang, Hu, Yan, Zhou, Lin; "Equilibrate Personalization and Generalization in
// Federated Learning", WWW 2024) and Dap-FL, its authors' earlier method; see SPEC-PAGE.md.
//
// PAGE. Each client's DDPG agent observes the accuracy of the global model it received on its
// local test split, picks its learning rate and epochs, and is rewarded c_w / (local test loss of
// its trained model + delta). The server's agent observes every client's last uploaded model's
// accuracy on the server test set, picks aggregation weights, and is rewarded
// s_w / (global test loss of the new global model + delta). Defaults and switches are [page].
//
// page.balance b (pagefl's extension, not the paper's; absent under page.variant = "published").
// The published rewards give each agent one term, and c_w, s_w only scale it, which leaves every
// policy unchanged. With balance, each agent's reward is a weighted geometric mean of the term it
// has and the other side's:
//   client: c_w / ((local test loss of its trained model + delta)^(1-b)
//                  * (server-test loss of its upload + delta)^b),
//   server: s_w / (G->S loss + delta)^b * (clients' mean 1 / (P->L loss + delta))^(1-b),
// the P->L of the next round, trained from the model the server built. b = 0 and b = 1 give the
// pure terms; in between, b weighs the relative changes of the two losses, whose scales differ
// (a local loss of 0.2 against a server-test loss of 1 on Synthetic). The other side's term comes a
// round later (the server scores an upload after the client has finished; the clients' P->L after
// the next round), so with balance each transition is stored at the agent's next round, and the
// logged rl_reward and server_reward are those of the transition stored that round. A client
// whose upload was never scored (refused, too late) drops that transition.
//
// Dap-FL. Client agents only, uniform aggregation; a client's state is (accuracy of the received
// model, its last local training loss), its reward the change in (accuracy - loss) of its trained
// model on its local test split since its previous round (0 at its first).
//
// Choices where the spec leaves room:
// - A transition's s' is the agent's next observation, so clients, like the server, store their
//   transition when they next observe: at their next participation.
// - Warm-up actions of the affine map cover the whole action space (the published ones are
//   drawn in [lr_min, lr_max], which only makes sense for the published map).
// - Under partial participation, server weights are restricted to and renormalised over the
//   round's clients; absent clients keep their last known accuracy (0 before their first upload).
//
// Streams: G->L is the received global model; P->L the trained local model (PAGE's personalised
// model is the fine-tuned copy of the round); G->S the aggregated model.
// Logged per client: rl_lr, rl_epochs, rl_reward; per round: server_reward and weight/<client>.
#pragma once

#include <optional>
#include <random>

#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/local_sgd_client.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/rl/ddpg_agent.h"

namespace pagefl::page {

enum class ClientDesign { Page, DapFl };

rl::DdpgOptions agentOptions(const PageConfig& config, std::int64_t state_dim, std::int64_t action_dim);

class AgentClient final : public LocalSgdClient {
 public:
  AgentClient(ClientDesign design, PageConfig config, SgdOptions sgd, std::int64_t eval_batch_size)
      : design_(design), config_(std::move(config)), sgd_(sgd), eval_batch_size_(eval_batch_size) {}
  // Scores the received model (the agent's observation) and lets the agent pick lr and epochs.
  LocalSgdJob prepare(const ServerMessage& message, ClientContext& context) const override;
  // Scores the trained model, rewards the agent and lets it learn.
  ClientUpdate finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                      const TrainStats& stats) const override;

 private:
  ClientDesign design_;
  PageConfig config_;
  SgdOptions sgd_;
  std::int64_t eval_batch_size_;
};

class PageServer final : public ServerAlgorithm, public WeightedAggregation {
 public:
  PageServer(PageConfig config, RngStreams streams, RobustConfig robust = {})
      : config_(std::move(config)), streams_(streams), robust_(std::move(robust)) {}
  void initialise(const torch::Tensor& initial_params, std::int64_t num_clients) override;
  // The message carries the reward weight and balance in force (an operator may change them
  // mid-run), and with page.balance every client's last upload score (its reward needs it).
  ServerMessage configureRound(std::int64_t round) override;
  void reconfigure(const Config& settings) override { config_ = settings.page; }
  Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator) override;
  std::optional<EvalResult> globalOnServer() const override { return global_on_server_; }
  // The agent's weights from the uploads' scores; none under a robust rule or clipping.
  WeightedAggregation* weightedAggregation() override { return robustAtAggregation(robust_) ? nullptr : this; }
  std::optional<std::int64_t> uploadScoreSamples() const override { return config_.server_score_samples; }
  std::vector<double> weigh(std::int64_t round, const std::vector<UploadFacts>& uploads) override;
  Metrics finish(std::int64_t round, BlockedSum& sum, ServerEvaluator& evaluator) override;
  NamedTensors saveState() const override;
  void loadState(const NamedTensors& state) override;

  rl::DdpgAgent& agent() { return *agent_; }

 private:
  // A transition waiting for its next state; with page.balance its reward is completed then too,
  // multiplied by the clients' mean local term for the model it built to the power local_exponent.
  struct Transition {
    torch::Tensor state, action;
    double reward = 0;
    double local_exponent = 0;
  };

  // A round between its weights and its global model: what closeRound() needs of chooseWeights().
  struct OpenRound {
    std::int64_t round = 0;
    torch::Tensor observed, acting_on, action;
    std::optional<double> stored_reward;
    std::mt19937_64 rng;
    std::vector<std::int64_t> clients;
    std::vector<double> weights;
  };
  // Observes the uploads' scores, completes the last transition, acts: the weights of `clients`.
  std::vector<double> chooseWeights(std::int64_t round, const std::vector<std::int64_t>& clients,
                                    const std::vector<EvalResult>& scores, const std::vector<const Metrics*>& updates);
  // With the new global model in place: scores it, rewards and updates the agent.
  Metrics closeRound(ServerEvaluator& evaluator, std::int64_t clipped);

  PageConfig config_;
  RngStreams streams_;
  RobustConfig robust_;
  std::unique_ptr<rl::DdpgAgent> agent_;
  std::optional<OpenRound> open_;
  // Per client, of its last upload on the server test set: accuracy (the agent's state), loss and
  // the round it was scored (for page.balance's client reward).
  torch::Tensor last_accuracy_, last_loss_, last_scored_round_;
  std::optional<Transition> pending_;     // unlagged: stored once the next state is known
  torch::Tensor previous_observation_;    // lagged: the state the next action is chosen from
  std::optional<EvalResult> global_on_server_;
};

// Dap-FL's server: the plain unweighted mean of the uploads.
class UniformServer final : public ServerAlgorithm {
 public:
  explicit UniformServer(RobustConfig robust = {}) : robust_(std::move(robust)) {}
  Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator) override;

 private:
  RobustConfig robust_;
};

}  // namespace pagefl::page
