// PAGE and Dap-FL: action maps, determinism, learning, state-dependent actions, ablations.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/fl/algorithms/page.h"
#include "pagefl/fl/algorithms/page_actions.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/sim/simulator.h"
#include "test_support.h"

namespace pagefl {
namespace {

using nlohmann::json;
using testing::TempDir;

TEST(PageActionMap, PublishedMapMatchesHandComputedCases) {
  PageConfig c;  // lr in [0.001, 0.1], epoch_max 20: epochs = max(1, floor(u1 * 200))
  c.action_map = "published";
  auto plan = page::mapClientAction(torch::tensor({-1.0f, 1.0f}), c);
  EXPECT_DOUBLE_EQ(plan.lr, 0.001);  // (x+1)/2 = 0 clipped up to lr_min
  EXPECT_EQ(plan.epochs, 20);        // u1 = 1 clipped down to lr_max = 0.1 -> 20
  plan = page::mapClientAction(torch::tensor({-0.875f, -0.9375f}), c);  // exact binary fractions
  EXPECT_DOUBLE_EQ(plan.lr, 0.0625);
  EXPECT_EQ(plan.epochs, 6);  // u1 = 0.03125 -> floor(6.25) = 6
  EXPECT_DOUBLE_EQ(plan.unrounded_epochs, 6.25);  // what the published code keeps in replay
  plan = page::mapClientAction(torch::tensor({0.0f, -0.99f}), c);
  EXPECT_DOUBLE_EQ(plan.lr, 0.1);
  EXPECT_EQ(plan.epochs, 1);  // u1 = 0.005 -> floor(1.0) = 1
  plan = page::mapClientAction(torch::tensor({0.0f, -1.0f}), c);
  EXPECT_EQ(plan.epochs, 1);  // u1 = 0.001 -> floor(0.2) = 0 -> at least 1
}

TEST(PageActionMap, AffineMapAndAblationsMatchHandComputedCases) {
  PageConfig c;
  c.action_map = "affine";
  auto plan = page::mapClientAction(torch::tensor({0.0f, 0.0f}), c);
  EXPECT_DOUBLE_EQ(plan.lr, 0.001 + 0.5 * 0.099);
  EXPECT_EQ(plan.epochs, 11);  // round(1 + 0.5 * 19) = round(10.5)
  EXPECT_DOUBLE_EQ(plan.unrounded_epochs, 10.5);
  plan = page::mapClientAction(torch::tensor({-1.0f, -1.0f}), c);
  EXPECT_DOUBLE_EQ(plan.lr, 0.001);
  EXPECT_EQ(plan.epochs, 1);
  plan = page::mapClientAction(torch::tensor({3.0f, 3.0f}), c);  // beyond [-1, 1]: clipped
  EXPECT_DOUBLE_EQ(plan.lr, 0.1);
  EXPECT_EQ(plan.epochs, 20);
  c.adapt_lr = false;
  c.adapt_epochs = false;
  plan = page::mapClientAction(torch::tensor({-1.0f, -1.0f}), c);
  EXPECT_DOUBLE_EQ(plan.lr, 0.1);
  EXPECT_EQ(plan.epochs, 20);
}

TEST(PageActionMap, WarmupActionsMapBackIntoTheLearningRateRange) {
  PageConfig c;
  c.action_map = "published";
  std::mt19937_64 rng(1);
  for (int i = 0; i < 50; ++i) {
    auto x = page::clientWarmupAction(rng, c);
    double u0 = (x[0].item<double>() + 1) / 2;
    EXPECT_GE(u0, c.lr_min - 1e-7);
    EXPECT_LE(u0, c.lr_max + 1e-7);
  }
}

TEST(PageServerWeights, RestrictToParticipantsAndRenormalise) {
  auto x = torch::tensor({-1.0f, 0.0f, 1.0f});  // p = 0, 0.5, 1
  auto w = page::participantWeights(x, {0, 1, 2}, true);
  EXPECT_DOUBLE_EQ(w[0], 0.0);
  EXPECT_DOUBLE_EQ(w[1], 1.0 / 3);
  EXPECT_DOUBLE_EQ(w[2], 2.0 / 3);
  w = page::participantWeights(x, {1, 2}, true);
  EXPECT_DOUBLE_EQ(w[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(w[1], 2.0 / 3);
  EXPECT_EQ(page::participantWeights(x, {0}, true), std::vector<double>{1.0});  // all zero: uniform
  EXPECT_EQ(page::participantWeights(x, {0, 2}, false), (std::vector<double>{0.5, 0.5}));
}

// The paper's Synthetic setup (100 clients, 30 features, 30 classes, logistic regression from
// zero, batch 5, the published PAGE hyperparameters), shortened: fewer rounds and warm-up rounds,
// and at most `epoch_max` local epochs to keep the test quick.
std::vector<std::string> syntheticPage(std::int64_t rounds, std::int64_t warmup, std::int64_t epoch_max) {
  return {"data.source=synthetic", "partition.scheme=natural", "model.name=logreg", "model.init=zeros",
          "train.batch_size=5", "train.weight_decay=1e-5", "train.clip_norm=10", "algorithm.name=page",
          fmt::format("run.rounds={}", rounds), fmt::format("page.warmup_rounds={}", warmup),
          fmt::format("page.epoch_max={}", epoch_max)};
}

using testing::simulate;
using testing::simulateWithOneAndTwoWorkers;

TEST(Page, SyntheticRunIsIdenticalWithOneAndTwoWorkers) {
  TempDir dir;
  // Rounds 3 and 4 act on the policy and update the agents.
  auto [a, b] = simulateWithOneAndTwoWorkers(dir, syntheticPage(4, 2, 3));
  EXPECT_EQ(a.rounds_text, b.rounds_text);
  EXPECT_EQ(a.clients_text, b.clients_text);
}

TEST(Page, LearnsTheSyntheticTask) {
  TempDir dir;
  auto run = simulate(dir, syntheticPage(20, 5, 4));
  const json& first = run.rounds.front();
  const json& last = run.rounds.back();
  const double chance = 1.0 / 30;
  EXPECT_GT(last["g2s"]["acc"].get<double>(), 5 * chance);
  EXPECT_GT(last["p2l"]["acc"]["mean"].get<double>(), 5 * chance);
  EXPECT_GT(last["g2s"]["acc"].get<double>(), first["g2s"]["acc"].get<double>());
  EXPECT_GT(last["p2l"]["acc"]["mean"].get<double>(), first["p2l"]["acc"]["mean"].get<double>());
  // Every round logs the server's reward and one weight per client, summing to 1.
  double total = 0;
  for (const auto& [key, value] : last["server"].items())
    if (key.rfind("weight/", 0) == 0) total += value.get<double>();
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_TRUE(last["server"].contains("server_reward"));
}

// The server test set evaluated in this thread, for driving the two halves by hand.
struct SerialEvaluator final : ServerEvaluator {
  FlatModel& model;
  const Dataset& test;
  SerialEvaluator(FlatModel& m, const Dataset& t) : model(m), test(t) {}
  EvalResult evaluate(const torch::Tensor& p) override {
    model.load(p);
    return pagefl::evaluate(model, test, 1000);
  }
  std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>& ps, std::int64_t,
                                       const std::vector<std::int64_t>&) override {
    std::vector<EvalResult> out;
    for (const auto& p : ps) out.push_back(evaluate(p));
    return out;
  }
};

// How "actions depend on states" is checked: after warm-up, and after the agents have taken
// DDPG updates, the noiseless policy of the server's agent is evaluated on two observed states
// (the accuracies it saw, and those accuracies reversed across clients); the resulting aggregation
// weights must differ. A client's agent must likewise map accuracies 0.2 and 0.8 to different actions.
TEST(Page, AfterWarmupTheAgentsActionsDependOnTheirStates) {
  Config config = parseConfig("", syntheticPage(8, 3, 2));
  config.synthetic.num_clients = 10;
  FederatedDataset data = buildFederatedDataset(config);
  Algorithm algorithm = makeAlgorithm(config);
  auto& server = dynamic_cast<page::PageServer&>(*algorithm.server);
  // Drive the two halves by hand, as the simulator does, to reach the agents afterwards.
  FlatModel model(makeNetwork({"logreg", data.sampleShape(), data.num_classes, {}}));
  server.initialise(torch::zeros({model.layout().size()}), data.numClients());
  ClientStateStore store;
  RngStreams streams(1);
  SerialEvaluator evaluator(model, data.server_test);
  for (std::int64_t round = 1; round <= 8; ++round) {
    ServerMessage message = server.configureRound(round);
    std::vector<ClientUpdate> updates;
    for (std::int64_t c = 0; c < data.numClients(); ++c) {
      ClientContext context{c, data.clientTrain(c), data.clientTest(c), model, store.at(c), streams};
      updates.push_back(algorithm.client->run(message, context));
    }
    server.aggregate(round, updates, evaluator);
  }
  rl::DdpgAgent& agent = server.agent();
  ASSERT_GT(agent.updates(), 0);
  auto seen = torch::linspace(0.1, 0.9, data.numClients());
  auto a = page::participantWeights(agent.policy(seen), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true);
  auto b = page::participantWeights(agent.policy(seen.flip(0)), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true);
  double difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference += std::abs(a[i] - b[i]);
  EXPECT_GT(difference, 1e-6);

  auto& client_agent = store.at(0).object<rl::DdpgAgent>("rl_agent", [] { return nullptr; });
  ASSERT_GT(client_agent.updates(), 0);
  EXPECT_FALSE(torch::equal(client_agent.policy(torch::tensor({0.2f})), client_agent.policy(torch::tensor({0.8f}))));
}

// Under the published variant every reward is known the round it is earned, so c_w and s_w scale
// each logged reward exactly.
TEST(Page, AblationSwitchesShowInTheLoggedActions) {
  TempDir dir;
  auto setup = syntheticPage(3, 1, 3);
  setup.push_back("synthetic.num_clients=8");
  setup.push_back("page.variant=\"published\"");
  auto fixed = setup;
  fixed.insert(fixed.end(), {"page.adapt_weights=false", "page.adapt_lr=false", "page.adapt_epochs=false"});
  auto run = simulate(dir, fixed);
  for (const json& round : run.rounds)
    for (const auto& [key, value] : round["server"].items())
      if (key.rfind("weight/", 0) == 0) {
        EXPECT_EQ(value.get<double>(), 1.0 / 8) << key;
      }
  for (const json& client : run.clients) {
    EXPECT_EQ(client["rl_lr"].get<double>(), 0.1);
    EXPECT_EQ(client["rl_epochs"].get<double>(), 3);
  }

  // Reward weights scale the rewards exactly while the warm-up actions are the same.
  auto biased = setup;
  biased.insert(biased.end(), {"page.client_reward_weight=2", "page.server_reward_weight=0.5", "page.warmup_rounds=5"});
  auto plain = setup;
  plain.push_back("page.warmup_rounds=5");
  auto a = simulate(dir, plain), b = simulate(dir, biased);
  for (std::size_t i = 0; i < a.clients.size(); ++i)
    EXPECT_DOUBLE_EQ(b.clients[i]["rl_reward"].get<double>(), 2 * a.clients[i]["rl_reward"].get<double>());
  for (std::size_t r = 0; r < a.rounds.size(); ++r)
    EXPECT_DOUBLE_EQ(b.rounds[r]["server"]["server_reward"].get<double>(),
                     0.5 * a.rounds[r]["server"]["server_reward"].get<double>());

  // Demand shift: from round 3 the weights become c_w = 3, s_w = 0, and the rewards follow.
  auto shifted = plain;
  shifted.insert(shifted.end(), {"page.shift_round=3", "page.shift_client_reward_weight=3",
                                 "page.shift_server_reward_weight=0"});
  auto c = simulate(dir, shifted);
  for (std::size_t i = 0; i < a.clients.size(); ++i) {
    const double factor = c.clients[i]["round"].get<int>() >= 3 ? 3.0 : 1.0;
    EXPECT_DOUBLE_EQ(c.clients[i]["rl_reward"].get<double>(), factor * a.clients[i]["rl_reward"].get<double>());
  }
  for (std::size_t r = 0; r < c.rounds.size(); ++r) {
    const double server_reward = c.rounds[r]["server"]["server_reward"].get<double>();
    if (r + 1 >= 3) {
      EXPECT_EQ(server_reward, 0.0);
    } else {
      EXPECT_GT(server_reward, 0.0);
    }
  }
}

// page.agent_updates: more DDPG updates a round change what the agents learn from the first
// update on (after round 3's first policy act here), and nothing before it.
TEST(Page, AgentUpdatesPerRoundActFromTheFirstUpdateOn) {
  TempDir dir;
  auto setup = syntheticPage(5, 2, 3);
  setup.push_back("synthetic.num_clients=8");
  auto more = setup;
  more.push_back("page.agent_updates=4");
  auto one = simulate(dir, setup), four = simulate(dir, more);
  ASSERT_EQ(one.clients.size(), four.clients.size());
  bool later_differ = false;
  for (std::size_t i = 0; i < one.clients.size(); ++i) {
    const double a = one.clients[i]["rl_lr"].get<double>(), b = four.clients[i]["rl_lr"].get<double>();
    if (one.clients[i]["round"].get<int>() <= 3) {
      EXPECT_EQ(a, b) << i;
    } else {
      later_differ = later_differ || a != b;
    }
  }
  EXPECT_TRUE(later_differ);
  EXPECT_NE(testing::errorOf([] { parseConfig("", {"page.agent_updates=0"}); }).find("page.agent_updates"),
            std::string::npos);
}

TEST(DapFl, RunsDeterministicallyWithUniformWeights) {
  TempDir dir;
  auto setup = syntheticPage(4, 2, 3);
  setup.push_back("algorithm.name=dapfl");
  setup.push_back("synthetic.num_clients=10");
  auto [a, b] = simulateWithOneAndTwoWorkers(dir, setup);
  EXPECT_EQ(a.clients_text, b.clients_text);
  EXPECT_EQ(a.rounds_text, b.rounds_text);
  // A client's first reward is 0; later ones are changes of (accuracy - loss).
  EXPECT_EQ(a.clients.front()["rl_reward"].get<double>(), 0.0);
}

}  // namespace
}  // namespace pagefl

namespace pagefl {
namespace {

// What a round driven by hand left: the clients' updates and the new global model on the server test.
struct DrivenRound {
  std::vector<ClientUpdate> updates;
  EvalResult global_on_server;
};

// Rounds [first, last] of PAGE driven by hand, every client taking part.
std::vector<DrivenRound> drivePage(Algorithm& algorithm, ClientStateStore& store, const FederatedDataset& data,
                                   FlatModel& model, std::int64_t first, std::int64_t last) {
  RngStreams streams(1);
  SerialEvaluator evaluator(model, data.server_test);
  std::vector<DrivenRound> rounds;
  for (std::int64_t round = first; round <= last; ++round) {
    ServerMessage message = algorithm.server->configureRound(round);
    DrivenRound driven;
    for (std::int64_t c = 0; c < data.numClients(); ++c) {
      ClientContext context{c, data.clientTrain(c), data.clientTest(c), model, store.at(c), streams};
      driven.updates.push_back(algorithm.client->run(message, context));
    }
    algorithm.server->aggregate(round, driven.updates, evaluator);
    driven.global_on_server = *algorithm.server->globalOnServer();
    rounds.push_back(std::move(driven));
  }
  return rounds;
}

rl::DdpgAgent& clientAgentOf(ClientStateStore& store, std::int64_t client) {
  return store.at(client).object<rl::DdpgAgent>("rl_agent", [] { return nullptr; });
}

// A PAGE run of 3 Synthetic clients driven by hand for `rounds` rounds.
struct HandDriven {
  Config config;
  FederatedDataset data;
  FlatModel model;
  Algorithm algorithm;
  ClientStateStore store;
  std::vector<DrivenRound> rounds;

  HandDriven(std::vector<std::string> overrides, std::int64_t rounds_to_run)
      : config(parseConfig("", [&] {
          overrides.push_back("synthetic.num_clients=3");
          return overrides;
        }())),
        data(buildFederatedDataset(config)),
        model(makeNetwork({"logreg", data.sampleShape(), data.num_classes, {}})),
        algorithm(makeAlgorithm(config)) {
    algorithm.server->initialise(torch::zeros({model.layout().size()}), data.numClients());
    rounds = drivePage(algorithm, store, data, model, 1, rounds_to_run);
  }
  page::PageServer& server() { return dynamic_cast<page::PageServer&>(*algorithm.server); }
  double metric(std::int64_t round, std::int64_t client, const std::string& key) const {
    return rounds[static_cast<std::size_t>(round - 1)].updates[static_cast<std::size_t>(client)].metrics.at(key);
  }
};

// The published replay keeps (s_{t-1}, a_t, r_t, s_t): each action with the state it was chosen
// from, stored the round it is taken, the post-processed action with the epochs before truncation.
TEST(PagePublishedVariant, ALaggedRoundStoresTheStateItsActionWasChosenFrom) {
  HandDriven run({"page.variant=\"published\"", "data.source=synthetic", "partition.scheme=natural",
                  "model.name=logreg", "model.init=zeros", "algorithm.name=page", "page.warmup_rounds=1",
                  "page.epoch_max=2", "train.batch_size=5"},
                 3);
  for (std::int64_t c = 0; c < 3; ++c) {
    const rl::ReplayBuffer& replay = clientAgentOf(run.store, c).replay();
    ASSERT_EQ(replay.size(), 3);
    for (std::int64_t round = 1; round <= 3; ++round) {
      const rl::TransitionBatch stored = replay.at(round - 1);
      const double acted_on = run.metric(std::max<std::int64_t>(round - 1, 1), c, "g2l_acc");
      EXPECT_FLOAT_EQ(stored.states.item<float>(), acted_on) << c << " " << round;
      EXPECT_FLOAT_EQ(stored.next_states.item<float>(), run.metric(round, c, "g2l_acc"));
      EXPECT_FLOAT_EQ(stored.rewards.item<float>(), run.metric(round, c, "rl_reward"));
      EXPECT_FLOAT_EQ(stored.actions[0].item<float>(), run.metric(round, c, "rl_lr"));
      // The float before truncation: the run trained max(1, floor(it)) epochs.
      const double unrounded = stored.actions[1].item<double>();
      EXPECT_EQ(std::max(1.0, std::floor(unrounded)), run.metric(round, c, "rl_epochs"));
    }
  }
  const rl::ReplayBuffer& server = run.server().agent().replay();
  ASSERT_EQ(server.size(), 3);
  EXPECT_TRUE(torch::equal(server.at(0).states, server.at(0).next_states));  // round 1 acts on its own
  EXPECT_TRUE(torch::equal(server.at(1).states, server.at(0).next_states));
  EXPECT_TRUE(torch::equal(server.at(2).states, server.at(1).next_states));
  SerialEvaluator evaluator(run.model, run.data.server_test);
  for (std::int64_t c = 0; c < 3; ++c)
    EXPECT_FLOAT_EQ(server.at(2).next_states[c].item<float>(),
                    evaluator.evaluate(run.rounds[2].updates[static_cast<std::size_t>(c)].params).accuracy());
  // Warm-up 1 in the published loop: rounds 1 and 2 random, the first update in round 3.
  EXPECT_EQ(run.server().agent().updates(), 1);
}

// page.balance b: a client's reward is c_w / ((local loss + delta)^(1-b) (its upload's server-test
// loss + delta)^b), the server's s_w / (G->S loss + delta)^b times the clients' mean
// 1 / (P->L loss + delta) of the next round to the power 1 - b. Both are stored the next round.
TEST(PageBalance, RewardsMixThePureTermsExactly) {
  for (const double balance : {0.0, 0.25, 1.0}) {
    HandDriven run({"data.source=synthetic", "partition.scheme=natural", "model.name=logreg", "model.init=zeros",
                    "algorithm.name=page", "page.warmup_rounds=5", "page.epoch_max=2", "train.batch_size=5",
                    "page.client_reward_weight=2", "page.server_reward_weight=3",
                    fmt::format("page.balance={}", balance)},
                   2);
    const double delta = run.config.page.reward_delta;
    SerialEvaluator evaluator(run.model, run.data.server_test);
    for (std::int64_t c = 0; c < 3; ++c) {
      const double local = 1 / (run.metric(1, c, "p2l_loss") + delta);
      const double general =
          1 / (evaluator.evaluate(run.rounds[0].updates[static_cast<std::size_t>(c)].params).loss() + delta);
      const double expected = 2 * std::pow(local, 1 - balance) * std::pow(general, balance);
      const rl::ReplayBuffer& replay = clientAgentOf(run.store, c).replay();
      ASSERT_EQ(replay.size(), 1);
      EXPECT_NEAR(replay.at(0).rewards.item<double>(), expected, 1e-6 * expected) << balance << " client " << c;
      EXPECT_NEAR(run.metric(2, c, "rl_reward"), expected, 1e-6 * expected);
    }
    double local_mean = 0;
    for (std::int64_t c = 0; c < 3; ++c) local_mean += 1 / (run.metric(2, c, "p2l_loss") + delta) / 3;
    const double global = 1 / (run.rounds[0].global_on_server.loss() + delta);
    const double expected = 3 * std::pow(global, balance) * std::pow(local_mean, 1 - balance);
    const rl::ReplayBuffer& server = run.server().agent().replay();
    ASSERT_EQ(server.size(), 1);
    EXPECT_NEAR(server.at(0).rewards.item<double>(), expected, 1e-6 * expected) << balance;
  }
}

// What a deployment's checkpoint and a site's state file hold: restored into fresh objects, the
// run continues exactly as if it had never stopped (agents, replay, noise and pending
// transitions included).
TEST(Page, ServerAndSiteStatesSavedMidRunContinueTheRunExactly) {
  Config config = parseConfig("", syntheticPage(3, 1, 2));
  config.synthetic.num_clients = 4;
  FederatedDataset data = buildFederatedDataset(config);
  FlatModel model(makeNetwork({"logreg", data.sampleShape(), data.num_classes, {}}));
  const torch::Tensor initial = torch::zeros({model.layout().size()});

  Algorithm uninterrupted = makeAlgorithm(config);
  uninterrupted.server->initialise(initial, data.numClients());
  ClientStateStore uninterrupted_store;
  drivePage(uninterrupted, uninterrupted_store, data, model, 1, 6);

  Algorithm before = makeAlgorithm(config);
  before.server->initialise(initial, data.numClients());
  ClientStateStore before_store;
  drivePage(before, before_store, data, model, 1, 3);
  const std::string server_bytes = serializeTensors(before.server->saveState());
  std::vector<std::string> site_bytes;
  for (std::int64_t c = 0; c < data.numClients(); ++c) site_bytes.push_back(serializeTensors(before_store.at(c).save()));

  Algorithm after = makeAlgorithm(config);
  after.server->initialise(initial, data.numClients());
  after.server->loadState(deserializeTensors(server_bytes, "server"));
  ClientStateStore after_store;
  for (std::int64_t c = 0; c < data.numClients(); ++c)
    after_store.at(c).restore(deserializeTensors(site_bytes[static_cast<std::size_t>(c)], "site"));
  drivePage(after, after_store, data, model, 4, 6);

  EXPECT_TRUE(torch::equal(after.server->global(), uninterrupted.server->global()));
  EXPECT_THROW(after.server->loadState({}), Error);
  EXPECT_THROW(deserializeTensors("not a state", "site"), Error);
}

}  // namespace
}  // namespace pagefl
