// The model zoo's shapes and the ready configs under configs/.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/core/rng.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/nn/flat_model.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {
namespace {

TEST(Models, ResNet18GroupNormClassifiesImagesAndTrains) {
  FlatModel model(makeNetwork({"resnet18-gn", {3, 32, 32}, 100, {}}));
  EXPECT_NEAR(static_cast<double>(model.layout().size()), 11.2e6, 0.1e6);  // ResNet-18's 11.2M parameters
  EXPECT_NO_THROW(model.layout().find("block1.norm1.weight"));
  RngStreams streams(1);
  auto init = initialParameters(model.layout(), "default", streams.torchGenerator(Purpose::ModelInit));
  const ParamEntry& norm = model.layout().find("stem_norm.weight");
  EXPECT_TRUE(torch::equal(init.slice(0, norm.offset, norm.offset + norm.numel), torch::ones({64})));
  model.load(init);
  Dataset batch{torch::randn({4, 3, 32, 32}), torch::tensor({0, 1, 2, 3}, torch::kInt64)};
  EXPECT_EQ(model.network().forward(batch.x).sizes(), (std::vector<std::int64_t>{4, 100}));
  std::mt19937_64 rng(1);
  auto before = model.snapshot();
  trainSgd(model, batch, SgdOptions{0.01, 0, 0, 10, 1, 4}, rng);
  EXPECT_FALSE(torch::equal(before, model.params()));
}

TEST(Models, CharacterLstmPredictsTheNextCharacter) {
  FlatModel model(makeNetwork({"lstm", {80}, 80, {}}));
  EXPECT_NO_THROW(model.layout().find("lstm.weight_hh_l1"));
  RngStreams streams(1);
  model.load(initialParameters(model.layout(), "default", streams.torchGenerator(Purpose::ModelInit)));
  const ParamEntry& gates = model.layout().find("lstm.weight_ih_l0");  // [4 x 100, 8]: +-1/sqrt(100)
  EXPECT_LE(model.params().slice(0, gates.offset, gates.offset + gates.numel).abs().max().item<float>(), 0.1f);
  Dataset text{torch::randint(0, 80, {3, 80}).to(torch::kFloat32), torch::tensor({4, 5, 6}, torch::kInt64)};
  EXPECT_EQ(model.network().forward(text.x).sizes(), (std::vector<std::int64_t>{3, 80}));
  std::mt19937_64 rng(1);
  auto before = model.snapshot();
  trainSgd(model, text, SgdOptions{0.5, 0, 0, 10, 1, 3}, rng);
  EXPECT_FALSE(torch::equal(before, model.params()));
  EXPECT_THROW(makeNetwork({"lstm", {1, 28, 28}, 10, {}}), Error);
}

TEST(Configs, EveryShippedConfigParsesAndBuildsItsAlgorithm) {
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(PAGEFL_SOURCE_DIR "/configs")) {
    if (entry.path().extension() != ".toml") continue;
    EXPECT_NO_THROW(makeAlgorithm(loadConfig(entry.path().string()))) << entry.path();
    ++count;
  }
  EXPECT_GE(count, 20);
}

TEST(Configs, EveryAlgorithmHasABaselineConfigOnTheDemoSetup) {
  const Config setup = loadConfig(PAGEFL_SOURCE_DIR "/configs/fmnist-demo-setup.toml");
  for (const std::string& name : algorithmNames()) {
    if (name == "page" || name == "dapfl" || name == "fedprox" || name == "local" || name == "fedavg-ft") continue;
    const Config config = loadConfig(fmt::format("{}/configs/baselines/{}.toml", PAGEFL_SOURCE_DIR, name));
    EXPECT_EQ(config.algorithm.name, name);
    EXPECT_EQ(config.partition.num_clients, setup.partition.num_clients) << name;
    EXPECT_EQ(config.data.train_subset, setup.data.train_subset) << name;
    EXPECT_EQ(config.run.rounds, setup.run.rounds) << name;
  }
}

TEST(Configs, PaperSetupsWithoutTheirDataSayWhatToSet) {
  auto errorOf = [](const std::string& name, std::vector<std::string> overrides) {
    try {
      buildFederatedDataset(loadConfig(fmt::format("{}/configs/{}", PAGEFL_SOURCE_DIR, name), overrides));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(errorOf("page-cifar100.toml", {}).find("needs data.path"), std::string::npos);
  EXPECT_NE(errorOf("page-cifar100.toml", {"data.path=/nonexistent"}).find("/nonexistent/train.bin"),
            std::string::npos);
  EXPECT_NE(errorOf("page-tiny-imagenet.toml", {}).find("needs data.path"), std::string::npos);
  EXPECT_NE(errorOf("page-tiny-imagenet.toml", {"data.path=/nonexistent"}).find("/nonexistent/wnids.txt"),
            std::string::npos);
  EXPECT_NE(errorOf("page-shakespeare.toml", {}).find("data.leaf_train"), std::string::npos);
  EXPECT_NE(errorOf("page-shakespeare.toml", {"data.leaf_train=/none/train.json", "data.leaf_test=/none/test.json"})
                .find("/none/train.json"),
            std::string::npos);
}

}  // namespace
}  // namespace pagefl
