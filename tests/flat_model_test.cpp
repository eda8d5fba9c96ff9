// Flat parameter buffers: layout, views, gradients, initialisation, and the local-SGD math.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/core/rng.h"
#include "pagefl/fl/algorithms/fedavg.h"
#include "pagefl/nn/flat_model.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {
namespace {

FlatModel logreg(std::int64_t inputs, std::int64_t classes) {
  return FlatModel(makeNetwork({"logreg", {inputs}, classes, {}}));
}

TEST(FlatModel, LayoutNamesEveryParameterContiguously) {
  FlatModel model(makeNetwork({"cnn", {1, 28, 28}, 10, {}}));
  std::vector<std::string> names;
  for (const auto& e : model.layout().entries()) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                                             "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(model.layout().find("fc1.weight").shape, (std::vector<std::int64_t>{512, 1024}));
  EXPECT_EQ(model.layout().size(), 832 + 51264 + 524800 + 5130);
  EXPECT_THROW(model.layout().find("fc3.weight"), Error);
}

TEST(FlatModel, LoadingTheFlatBufferChangesTheNetworkAndGradientsLandInIt) {
  FlatModel model = logreg(2, 2);
  // layout: fc.weight [2, 2], fc.bias [2]
  model.load(torch::tensor({1.0f, 0.0f, 0.0f, 1.0f, 0.5f, -0.5f}));
  auto out = model.network().forward(torch::tensor({{2.0f, 3.0f}}));
  EXPECT_TRUE(torch::allclose(out, torch::tensor({{2.5f, 2.5f}})));

  model.grads().zero_();
  model.network().forward(torch::tensor({{2.0f, 3.0f}})).sum().backward();
  EXPECT_TRUE(torch::equal(model.grads(), torch::tensor({2.0f, 3.0f, 2.0f, 3.0f, 1.0f, 1.0f})));
  EXPECT_THROW(model.load(torch::zeros({5})), Error);
}

TEST(FlatModel, DefaultInitIsSeededAndWithinFanInBounds) {
  FlatModel model = logreg(16, 3);
  RngStreams streams(9);
  auto a = initialParameters(model.layout(), "default", streams.torchGenerator(Purpose::ModelInit));
  auto b = initialParameters(model.layout(), "default", streams.torchGenerator(Purpose::ModelInit));
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_LE(a.abs().max().item<float>(), 0.25f);  // 1 / sqrt(16)
  EXPECT_GT(a.abs().max().item<float>(), 0.1f);
  EXPECT_TRUE(torch::equal(initialParameters(model.layout(), "zeros", streams.torchGenerator(Purpose::ModelInit)),
                           torch::zeros({51})));
}

TEST(LocalSgd, OneFullBatchStepIsExactGradientDescent) {
  FlatModel model = logreg(2, 2);
  model.load(torch::zeros({6}));
  Dataset data{torch::tensor({{1.0f, 2.0f}}), torch::tensor({1}, torch::kInt64)};
  std::mt19937_64 rng(1);
  trainSgd(model, data, SgdOptions{0.5, 0, 0, 0, 1, 8}, rng);
  // At zero parameters softmax is (0.5, 0.5): dL/dlogits = (0.5, -0.5); W -= lr * g x^T, b -= lr * g.
  EXPECT_TRUE(torch::allclose(model.params(), torch::tensor({-0.25f, -0.5f, 0.25f, 0.5f, -0.25f, 0.25f})));
}

TEST(LocalSgd, ClippingBoundsTheStep) {
  FlatModel model = logreg(2, 2);
  model.load(torch::zeros({6}));
  Dataset data{torch::tensor({{100.0f, 200.0f}}), torch::tensor({1}, torch::kInt64)};
  std::mt19937_64 rng(1);
  trainSgd(model, data, SgdOptions{1.0, 0, 0, /*clip_norm=*/1.0, 1, 8}, rng);
  EXPECT_NEAR(model.params().norm().item<double>(), 1.0, 1e-5);
}

TEST(FedProx, ProximalTermAddsMuTimesDistanceToTheGlobalModel) {
  // One full-batch step from w0 = global. The proximal gradient is zero at the first step, so
  // use two epochs: step 2's difference to FedAvg is exactly lr * mu * (w1 - w_global).
  Dataset data{torch::tensor({{1.0f, 2.0f}}), torch::tensor({1}, torch::kInt64)};
  Dataset empty{torch::zeros({0, 2}), torch::zeros({0}, torch::kInt64)};
  RngStreams streams(1);
  const double lr = 0.5, mu = 0.1;
  ServerMessage message;
  message.global = torch::zeros({6});

  auto train = [&](double proximal_mu) {
    FlatModel model = logreg(2, 2);
    ClientState state;
    ClientContext context{0, data, empty, model, state, streams};
    return FedAvgClient(SgdOptions{lr, 0, 0, 0, 2, 8}, 100, proximal_mu).run(message, context).params;
  };
  auto plain = train(0.0);
  auto proximal = train(mu);
  auto after_first_step = torch::tensor({-0.25f, -0.5f, 0.25f, 0.5f, -0.25f, 0.25f});
  EXPECT_TRUE(torch::allclose(plain - proximal, lr * mu * after_first_step, 1e-5, 1e-7));
}

}  // namespace
}  // namespace pagefl
