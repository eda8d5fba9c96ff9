// The baselines: each one learns and is deterministic across worker counts on a tiny
// synthetic task, and each one's characteristic rule matches a hand-computed case.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "pagefl/core/config.h"
#include "pagefl/fl/algorithms/apfl.h"
#include "pagefl/fl/algorithms/ditto.h"
#include "pagefl/fl/algorithms/fedala.h"
#include "pagefl/fl/algorithms/fedavgm.h"
#include "pagefl/fl/algorithms/feddyn.h"
#include "pagefl/fl/algorithms/fedrecon.h"
#include "pagefl/fl/algorithms/scaffold.h"
#include "pagefl/nn/param_mask.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::TempDir;

// An MLP, so that head/body algorithms have a body (fc1) and a head (out).
std::vector<std::string> tinySyntheticTask(const std::string& algorithm) {
  return {"data.source=synthetic", "partition.scheme=natural", "synthetic.num_clients=8",
          "synthetic.samples_per_client=100", "model.name=mlp", "model.hidden=[16]", "train.lr=0.05",
          "train.batch_size=10", "run.rounds=6", "algorithm.participation=0.75", "algorithm.name=" + algorithm,
          "algorithm.fedrep_head_epochs=1", "eval.personal_on_server=true"};
}

// The clients' mean local training loss in `round`, from clients.jsonl.
double meanTrainLoss(const testing::SimulatedRun& run, int round) {
  double sum = 0.0;
  int count = 0;
  for (const auto& client : run.clients)
    if (client["round"].get<int>() == round) sum += client["train_loss"].get<double>(), ++count;
  return sum / count;
}

class Baseline : public ::testing::TestWithParam<std::string> {};

TEST_P(Baseline, LearnsAndIsIdenticalWithOneAndTwoWorkers) {
  TempDir dir;
  auto [one, two] = testing::simulateWithOneAndTwoWorkers(dir, tinySyntheticTask(GetParam()));
  EXPECT_EQ(one.rounds_text, two.rounds_text);
  EXPECT_EQ(one.clients_text, two.clients_text);
  ASSERT_EQ(one.rounds.size(), 6u);
  EXPECT_LT(meanTrainLoss(one, 6), meanTrainLoss(one, 1));
  // Chance is 1/30 on this task: both the global and the personalised models have learnt. Two
  // global models are not meant for this test set: Fed-RoD's generic model is trained for
  // class-balanced data (balanced softmax) and this synthetic test set is heavily skewed, and
  // FedRecon's global model keeps its initial head, to be reconstructed by each client.
  const auto& last = one.rounds.back();
  if (GetParam() != "fedrod" && GetParam() != "fedrecon") {
    EXPECT_GT(last["g2s"]["acc"].get<double>(), 0.15);
  }
  EXPECT_GT(last["p2l"]["acc"]["mean"].get<double>(), 0.15);
  EXPECT_TRUE(last.contains("p2s"));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, Baseline,
                         ::testing::Values("scaffold", "feddyn", "fedavgm", "pfedme", "ditto", "fedala", "fedrod",
                                           "fedrecon", "fedper", "fedrep", "fedbabu", "apfl", "perfedavg"));

TEST(Baseline, FedBnKeepsNormalisationLocalAndNeedsNormLayers) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 200, 40, false);
  std::vector<std::string> setup = {"data.source=mnist", "data.path=\"" + dir.file("mnist") + "\"",
                                    "partition.num_clients=4", "partition.min_size=5", "run.rounds=3",
                                    "model.name=cnn-gn", "algorithm.name=fedbn", "train.lr=0.05"};
  auto [one, two] = testing::simulateWithOneAndTwoWorkers(dir, setup);
  EXPECT_EQ(one.rounds_text, two.rounds_text);
  EXPECT_EQ(one.clients_text, two.clients_text);
  EXPECT_LT(meanTrainLoss(one, 3), meanTrainLoss(one, 1));

  setup.push_back("model.name=cnn");
  EXPECT_NE(testing::errorOf([&] { testing::simulate(dir, setup); }).find("use model.name = \"cnn-gn\""),
            std::string::npos);
}

// The hand-computed case shared with the FedProx test: logistic regression 2 -> 2 from zero on
// the single sample x = (1, 2), y = 1. Softmax is uniform, so the gradient of the mean
// cross-entropy is (W rows, then bias):
const torch::Tensor& gradientAtZero() {
  static const torch::Tensor g = torch::tensor({0.5f, 1.0f, -0.5f, -1.0f, 0.5f, -0.5f});
  return g;
}

struct OneSampleClient {
  Dataset data{torch::tensor({{1.0f, 2.0f}}), torch::tensor({1}, torch::kInt64)};
  RngStreams streams{1};
  FlatModel model{makeNetwork({"logreg", {2}, 2, {}})};
  ClientState state;

  ClientUpdate run(const ClientAlgorithm& algorithm, ServerMessage message) {
    ClientContext context{0, data, data, model, state, streams};
    return algorithm.run(message, context);
  }
};

ServerMessage fromZero(bool evaluate = false) {
  ServerMessage message;
  message.global = torch::zeros({6});
  message.evaluate = evaluate;
  message.wants_personal = evaluate;
  return message;
}

SgdOptions plainSgd(double lr, std::int64_t epochs) {
  SgdOptions options;
  options.lr = lr;
  options.epochs = epochs;
  options.batch_size = 8;
  return options;
}

struct NoEvaluator : ServerEvaluator {
  EvalResult evaluate(const torch::Tensor&) override { return {}; }
  std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>&, std::int64_t,
                                       const std::vector<std::int64_t>&) override {
    return {};
  }
};

ClientUpdate upload(std::vector<float> params, std::int64_t samples) {
  ClientUpdate update;
  update.params = torch::tensor(params);
  update.num_samples = samples;
  return update;
}

bool near(const torch::Tensor& a, const torch::Tensor& b) { return torch::allclose(a, b, 1e-5, 1e-6); }

TEST(Scaffold, ControlVariateFollowsOptionTwoAndCorrectsTheSteps) {
  const double lr = 0.5;
  OneSampleClient client;
  ScaffoldClient scaffold(plainSgd(lr, 1), 100);
  ServerMessage message = fromZero();
  message.tensors["control"] = torch::zeros({6});
  // Round 1, c = c_i = 0: one step, so c_i+ = (x - y) / (1 * lr) is the gradient at x.
  ClientUpdate update = client.run(scaffold, message);
  EXPECT_TRUE(near(update.params, -lr * gradientAtZero()));
  EXPECT_TRUE(near(update.tensors.at("control_delta"), gradientAtZero()));
  EXPECT_TRUE(near(client.state.tensor("control"), gradientAtZero()));

  // Round 2 from zero again with server control c: the step uses g + c - c_i = c, and the new
  // variate c_i - c + (x - y) / lr = g - c + c = g, so the delta is zero.
  const torch::Tensor c = torch::full({6}, 0.1f);
  message.tensors["control"] = c;
  update = client.run(scaffold, message);
  EXPECT_TRUE(near(update.params, -lr * c));
  EXPECT_TRUE(near(update.tensors.at("control_delta"), torch::zeros({6})));

  // The server: x += eta_g (avg y - x); c += sum(delta c) / N.
  ScaffoldServer server(2.0);
  server.initialise(torch::zeros({2}), 4);
  ClientUpdate a = upload({1, 1}, 1), b = upload({3, 3}, 3);
  a.tensors["control_delta"] = torch::tensor({4.0f, 0.0f});
  b.tensors["control_delta"] = torch::tensor({0.0f, 8.0f});
  NoEvaluator none;
  server.aggregate(1, {a, b}, none);
  EXPECT_TRUE(near(server.global(), torch::tensor({5.0f, 5.0f})));  // 2 * (1*1 + 3*3)/4
  EXPECT_TRUE(near(server.control(), torch::tensor({1.0f, 2.0f})));
}

TEST(FedDyn, LinearTermAndServerCorrectionMatchTheirFormulas) {
  const double lr = 0.5, alpha = 0.2;
  OneSampleClient client;
  FedDynClient feddyn(plainSgd(lr, 1), alpha, 100);
  // Round 1: the regulariser's gradient -g_k + alpha (t - theta) is zero at t = theta, so
  // t = -lr g; then g_k = 0 - alpha (t - theta) = alpha lr g.
  ClientUpdate update = client.run(feddyn, fromZero());
  EXPECT_TRUE(near(update.params, -lr * gradientAtZero()));
  EXPECT_TRUE(near(client.state.tensor("linear_term"), alpha * lr * gradientAtZero()));
  // Round 2 from zero again: the step's gradient is g - g_k = (1 - alpha lr) g.
  update = client.run(feddyn, fromZero());
  EXPECT_TRUE(near(update.params, -lr * (1 - alpha * lr) * gradientAtZero()));

  // Server, N = 4, two uploads with mean 2 from theta = 0: h = -alpha (2/4) 2 = -alpha, and
  // theta = mean - h / alpha = 3.
  FedDynServer server(alpha);
  server.initialise(torch::zeros({3}), 4);
  NoEvaluator none;
  server.aggregate(1, {upload({1, 1, 1}, 1), upload({3, 3, 3}, 9)}, none);
  EXPECT_TRUE(near(server.global(), torch::full({3}, 3.0f)));
}

TEST(FedAvgM, ServerMomentumAccumulatesPseudoGradients) {
  FedAvgMServer server(1.0, 0.5);
  server.initialise(torch::zeros({1}), 2);
  NoEvaluator none;
  server.aggregate(1, {upload({2}, 1)}, none);  // d = -2, v = -2, theta = 2
  EXPECT_TRUE(near(server.global(), torch::tensor({2.0f})));
  server.aggregate(2, {upload({3}, 1)}, none);  // d = -1, v = -1 - 1 = -2, theta = 4
  EXPECT_TRUE(near(server.global(), torch::tensor({4.0f})));
}

TEST(Ditto, PersonalStepsAddTheProximalGradient) {
  // Two full-batch epochs. Both models take the same first step to w1 = -lr g; the personal
  // model's second step adds lambda (w1 - w), so upload - personal = lr lambda w1.
  const double lr = 0.5, lambda = 0.3;
  OneSampleClient client;
  DittoClient ditto(plainSgd(lr, 2), lambda, 100);
  ClientUpdate update = client.run(ditto, fromZero(/*evaluate=*/true));
  ASSERT_TRUE(update.personal.defined());
  EXPECT_TRUE(near(update.params - update.personal, lr * lambda * (-lr * gradientAtZero())));
  EXPECT_TRUE(near(client.state.tensor("personal_model"), update.personal));
  EXPECT_TRUE(update.metrics.count("p2l_acc"));
}

TEST(Apfl, PersonalModelIsTheMixtureOfLocalAndGlobal) {
  EXPECT_TRUE(near(apflMixture(torch::tensor({4.0f, 0.0f}), torch::tensor({0.0f, 8.0f}), 0.25),
                   torch::tensor({1.0f, 6.0f})));
  // One step from w = v = 0: w' = -lr g, v' = -lr alpha g, alpha unchanged (v - w = 0), so the
  // personalised model is -lr g (alpha^2 + 1 - alpha).
  const double lr = 0.5, alpha = 0.25;
  OneSampleClient client;
  ApflClient apfl(plainSgd(lr, 1), alpha, /*adaptive=*/true, 100);
  ClientUpdate update = client.run(apfl, fromZero(/*evaluate=*/true));
  EXPECT_TRUE(near(update.params, -lr * gradientAtZero()));
  EXPECT_TRUE(near(update.personal, -lr * (alpha * alpha + 1 - alpha) * gradientAtZero()));
  EXPECT_DOUBLE_EQ(update.metrics.at("apfl_alpha"), alpha);
}

TEST(FedAla, ElementWiseWeightsBlendAndLearnWithinZeroAndOne) {
  auto local = torch::tensor({1.0f, 2.0f}), global = torch::tensor({3.0f, 6.0f});
  auto weights = torch::tensor({0.5f, 0.25f});
  EXPECT_TRUE(near(fedAlaBlend(local, global, weights), torch::tensor({2.0f, 3.0f})));
  // W - eta g (global - local) = (0.5 - 0.1*1*2, 0.25 + 0.1*2*4) -> (0.3, 1.05 clipped to 1).
  fedAlaWeightStep(weights, torch::tensor({1.0f, -2.0f}), local, global, 0.1);
  EXPECT_TRUE(near(weights, torch::tensor({0.3f, 1.0f})));
}

TEST(ParamMask, HeadIsTheLastModulesAndNormIsTheNormalisationLayers) {
  FlatModel mlp(makeNetwork({"mlp", {4}, 3, {5}}));  // fc1: 4x5 + 5, out: 5x3 + 3
  ParamMask head = headMask(mlp.layout(), 1);
  EXPECT_EQ(head.count(), 18);
  EXPECT_EQ(head.indices[0].item<std::int64_t>(), 25);
  EXPECT_EQ(head.ones.sum().item<float>(), 18.0f);
  EXPECT_NE(testing::errorOf([&] { headMask(mlp.layout(), 2); }).find("head_layers = 2"), std::string::npos);
  // FedALA may adapt the whole model, and names its own setting when asked for more.
  EXPECT_EQ(lastModulesMask(mlp.layout(), 2, "algorithm.fedala_layers").count(), 43);
  EXPECT_EQ(lastModulesMask(mlp.layout(), 1, "algorithm.fedala_layers").count(), 18);
  EXPECT_NE(testing::errorOf([&] {
              lastModulesMask(mlp.layout(), 3, "algorithm.fedala_layers");
            }).find("algorithm.fedala_layers = 3"),
            std::string::npos);

  FlatModel cnn(makeNetwork({"cnn-gn", {1, 28, 28}, 10, {}}));
  ParamMask norm = normMask(cnn.layout());
  EXPECT_EQ(norm.count(), 2 * 32 + 2 * 64);
  auto flat = torch::arange(cnn.layout().size(), torch::kFloat32);
  auto part = norm.gather(flat);
  auto zeroed = torch::zeros_like(flat);
  norm.scatter(zeroed, part);
  EXPECT_TRUE(torch::equal(zeroed, flat * norm.ones));
  EXPECT_EQ(normMask(FlatModel(makeNetwork({"cnn", {1, 28, 28}, 10, {}})).layout()).count(), 0);
}

TEST(FedRecon, HeldOutClientsAreSpreadEvenly) {
  std::vector<std::int64_t> held_out;
  for (std::int64_t c = 0; c < 20; ++c)
    if (isFedReconEvaluationClient(c, 0.2)) held_out.push_back(c);
  EXPECT_EQ(held_out, (std::vector<std::int64_t>{4, 9, 14, 19}));
  EXPECT_FALSE(isFedReconEvaluationClient(3, 0.0));
}

}  // namespace
}  // namespace pagefl
