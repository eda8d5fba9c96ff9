// Models out: a run's exported model files (modelfile/). Every built-in model round-trips exactly,
// loads into its PyTorch definition (python/pagefl_models.py, with Debian's python3-torch) with
// the same logits, reproduces the run's own numbers through `pagefl evaluate`, and every way a
// file can lie is refused with a clear message.
#include "pagefl/modelfile/model_file.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/core/rng.h"
#include "pagefl/core/safetensors.h"
#include "pagefl/core/sha256.h"
#include "pagefl/modelfile/model_export.h"
#include "pagefl/modelfile/model_use.h"
#include "test_support.h"

namespace pagefl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::errorOf;
using testing::TempDir;

// Each built-in model on inputs of the kind it reads.
std::vector<ModelSpec> builtInModels() {
  return {{"logreg", {1, 28, 28}, 10, {}}, {"mlp", {784}, 10, {32, 16}},          {"cnn", {1, 28, 28}, 10, {}},
          {"cnn-gn", {3, 32, 32}, 10, {}}, {"resnet18-gn", {3, 32, 32}, 100, {}}, {"lstm", {80}, 80, {}}};
}

torch::Tensor inputsFor(const ModelSpec& spec, std::int64_t count) {
  std::vector<std::int64_t> shape = {count};
  shape.insert(shape.end(), spec.sample_shape.begin(), spec.sample_shape.end());
  torch::manual_seed(11);
  if (spec.name == "lstm") return torch::randint(0, spec.num_classes, shape).to(torch::kFloat32);
  return torch::randn(shape);
}

struct Written {
  std::unique_ptr<FlatModel> model;
  std::string bytes;
};

Written writtenModel(const ModelSpec& spec) {
  Written written{std::make_unique<FlatModel>(makeNetwork(spec)), ""};
  const RngStreams streams(5);
  written.model->load(
      initialParameters(written.model->layout(), "default", streams.torchGenerator(Purpose::ModelInit)));
  ModelFileInfo info;
  info.spec = spec;
  info.round = 12;
  info.seed = 5;
  info.algorithm = "fedavg";
  info.config = "[run]\nseed = 5\n";
  written.bytes = encodeModelFile(written.model->layout(), written.model->params(), info);
  return written;
}

TEST(ModelFile, EveryBuiltInModelComesBackExactlyWithItsIdentity) {
  for (const ModelSpec& spec : builtInModels()) {
    const Written written = writtenModel(spec);
    const LoadedModel loaded = decodeModelFile(written.bytes, "the file");
    EXPECT_TRUE(torch::equal(loaded.model->params(), written.model->params())) << spec.name;
    EXPECT_EQ(loaded.info.spec.name, spec.name);
    EXPECT_EQ(loaded.info.spec.sample_shape, spec.sample_shape);
    EXPECT_EQ(loaded.info.spec.num_classes, spec.num_classes);
    EXPECT_EQ(loaded.info.spec.hidden, spec.hidden);
    EXPECT_EQ(loaded.info.kind, "global");
    EXPECT_EQ(loaded.info.round, 12);
    EXPECT_EQ(loaded.info.seed, 5);
    EXPECT_EQ(loaded.info.algorithm, "fedavg");
    // The hash the audit log records for a model: SHA-256 of its float32 parameters.
    const torch::Tensor flat = written.model->params().contiguous();
    EXPECT_EQ(loaded.info.parameters_sha256,
              sha256Hex(std::string_view(static_cast<const char*>(flat.data_ptr()), flat.nbytes())));
  }
}

TEST(ModelFile, TensorNamesAndShapesAreTheModulesStateDict) {
  const Written written = writtenModel({"mlp", {784}, 10, {32, 16}});
  std::uint64_t length = 0;
  std::memcpy(&length, written.bytes.data(), 8);
  const json header = json::parse(written.bytes.substr(8, length));
  EXPECT_EQ(header["fc1.weight"]["shape"], json({32, 784}));
  EXPECT_EQ(header["fc1.bias"]["shape"], json({32}));
  EXPECT_EQ(header["fc2.weight"]["shape"], json({16, 32}));
  EXPECT_EQ(header["out.weight"]["shape"], json({10, 16}));
  EXPECT_EQ(header["out.bias"]["dtype"], "F32");
  EXPECT_EQ(header["__metadata__"]["model"], "mlp");
  EXPECT_EQ(header["__metadata__"]["hidden"], "[32,16]");
}

// Every built-in model's file in PyTorch: the same logits as pagefl's to 1e-5.
TEST(ModelFile, LoadsIntoThePyTorchDefinitionsWithTheSameLogits) {
  TempDir dir;
  for (const ModelSpec& spec : builtInModels()) {
    const Written written = writtenModel(spec);
    const torch::Tensor inputs = inputsFor(spec, 4);
    torch::Tensor logits;
    {
      c10::InferenceMode inference;
      logits = written.model->network().forward(inputs).clone();
    }
    const std::string model_path = dir.file(spec.name + ".safetensors"),
                      io_path = dir.file(spec.name + "-io.safetensors");
    std::ofstream(model_path, std::ios::binary) << written.bytes;
    std::ofstream(io_path, std::ios::binary) << safetensors::encode({{"inputs", inputs}, {"logits", logits}});
    std::string output;
    // Debian's python3, which python3-torch is installed for (setup.sh), whatever else is on PATH.
    const int status = testing::runCommand(fmt::format("/usr/bin/python3 {}/tests/python/check_model_file.py {} {}",
                                                       PAGEFL_SOURCE_DIR, model_path, io_path),
                                           output);
    EXPECT_EQ(status, 0) << spec.name << ": " << output;
  }
}

// A file with the layout of the format's specification, written without pagefl's writer.
std::string handWritten(const std::string& tensors_json, const std::string& metadata_json, const std::string& data) {
  std::string header = "{\"__metadata__\":" + metadata_json + (tensors_json.empty() ? "" : "," + tensors_json) + "}";
  std::string out(8, '\0');
  const std::uint64_t length = header.size();
  std::memcpy(out.data(), &length, 8);
  return out + header + data;
}

std::string floatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::string logregMetadata(const std::string& sha, const std::string& model = "logreg",
                           const std::string& shape = "[2]") {
  return json({{"format", "pagefl-model-1"},
               {"model", model},
               {"sample_shape", shape},
               {"num_classes", "2"},
               {"hidden", "[]"},
               {"kind", "global"},
               {"client", "-1"},
               {"round", "3"},
               {"seed", "1"},
               {"algorithm", "fedavg"},
               {"config", ""},
               {"parameters_sha256", sha}})
      .dump();
}

TEST(ModelFile, ReadsAFileWrittenByAnotherWriter) {
  const std::vector<float> weight = {1, 2, 3, 4}, bias = {0.5f, -0.5f};
  std::vector<float> flat = weight;
  flat.insert(flat.end(), bias.begin(), bias.end());
  const std::string sha = sha256Hex(floatBytes(flat));
  const std::string file = handWritten(R"("fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},)"
                                       R"("fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})",
                                       logregMetadata(sha), floatBytes(weight) + floatBytes(bias));
  const LoadedModel loaded = decodeModelFile(file, "the file");
  EXPECT_TRUE(torch::equal(loaded.model->params(), torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 0.5f, -0.5f})));
  EXPECT_EQ(loaded.info.round, 3);
}

TEST(ModelFile, RefusesFilesThatLieOrDoNotMatchTheModel) {
  const std::string six = floatBytes({1, 2, 3, 4, 5, 6});
  const std::string sha = sha256Hex(six);
  const std::string weight = R"("fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
  const std::string bias = R"("fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]})";
  const std::string tensors = bias + "," + weight;
  struct Lie {
    const char* what;
    std::string file;
    const char* message;
  };
  std::string past_end = handWritten(tensors, logregMetadata(sha), six);
  past_end[0] = past_end[1] = '\xff';
  const std::vector<Lie> lies = {
      {"not safetensors", "not a model at all", "not a valid safetensors file"},
      {"header length past the file", past_end, "header claims"},
      {"offsets outside the data",
       handWritten(R"("fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,32]},)" + weight, logregMetadata(sha),
                   six),
       "not a valid safetensors file"},
      {"overlapping tensors",
       handWritten(R"("fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)" + weight, logregMetadata(sha),
                   six),
       "not a valid safetensors file"},
      {"10^10 floats claimed for 16 bytes",
       handWritten(R"("fc.weight":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,16]})", logregMetadata(sha),
                   six),
       "not a valid safetensors file"},
      {"a tensor the model lacks",
       handWritten(weight + R"(,"other":{"dtype":"F32","shape":[2],"data_offsets":[16,24]})", logregMetadata(sha), six),
       "tensor 'other' the model does not have"},
      {"another shape",
       handWritten(bias + R"(,"fc.weight":{"dtype":"F32","shape":[4,1],"data_offsets":[0,16]})", logregMetadata(sha),
                   six),
       "has shape [4, 1], the model's is [2, 2]"},
      {"another dtype",
       handWritten(R"("fc.bias":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},)" + weight, logregMetadata(sha),
                   floatBytes({1, 2, 3, 4, 5, 6, 7, 8})),
       "float32"},
      {"an unknown model", handWritten(tensors, logregMetadata(sha, "gpt"), six), "not one of pagefl's models"},
      // Refused before any network is built for it:
      {"a sample shape no model takes", handWritten(tensors, logregMetadata(sha, "logreg", "[65536,65536,65536]"), six),
       "inputs per sample"},
      {"a plausible shape of an enormous network",
       handWritten(tensors, logregMetadata(sha, "cnn", "[1,8192,8192]"), six), "stores 6 parameters"},
      {"parameters changed after writing", handWritten(tensors, logregMetadata(std::string(64, '0')), six), "changed"},
      {"no pagefl metadata", handWritten(tensors, R"({"source":"pt"})", six), "not a pagefl model file"},
      {"another format", handWritten(tensors, R"({"format":"pt"})", six), "this pagefl reads 'pagefl-model-1'"},
  };
  for (const Lie& lie : lies)
    EXPECT_NE(errorOf([&] { decodeModelFile(lie.file, "the file"); }).find(lie.message), std::string::npos) << lie.what;
}

TEST(ModelFile, AMissingOrHugeFileIsRefusedByName) {
  TempDir dir;
  EXPECT_NE(errorOf([&] { readModelFile(dir.file("none.safetensors")); }).find("none.safetensors"), std::string::npos);
  const std::string truncated = dir.file("cut.safetensors");
  const Written written = writtenModel({"logreg", {4}, 3, {}});
  std::ofstream(truncated, std::ios::binary) << written.bytes.substr(0, written.bytes.size() - 5);
  EXPECT_NE(errorOf([&] { readModelFile(truncated); }).find("cut.safetensors"), std::string::npos);
}

// A finished run exports its global model; evaluating it gives the run's final G->S exactly.
TEST(ModelExport, ARunsGlobalModelReproducesItsFinalGlobalAccuracy) {
  TempDir dir;
  const testing::SimulatedRun run =
      testing::simulate(dir, {"data.source=\"synthetic\"", "synthetic.num_clients=6", "model.name=\"mlp\"",
                              "model.hidden=[16]", "run.rounds=4", "run.seed=9", "algorithm.name=\"fedavg\""});
  const std::string path = globalModelPath(run.directory);
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(bestGlobalModelPath(run.directory)));  // only with run.keep_best
  LoadedModel model = readModelFile(path);
  EXPECT_EQ(model.info.round, 4);
  EXPECT_EQ(model.info.seed, 9);
  const ScoredData scored = dataFor(model, "");
  const ModelEvaluation evaluation = evaluateModel(model, scored.data, parseConfig(model.info.config).eval.batch_size);
  EXPECT_DOUBLE_EQ(evaluation.overall.accuracy(), run.rounds.back()["g2s"]["acc"].get<double>());
  std::int64_t per_class_samples = 0;
  for (const EvalResult& score : evaluation.per_class) per_class_samples += score.samples;
  EXPECT_EQ(per_class_samples, evaluation.overall.samples);

  std::ostringstream predictions;
  writePredictions(model, scored.data, 64, predictions);
  const std::string text = predictions.str();
  EXPECT_EQ(text.substr(0, text.find('\n')), fmt::format("sample,label,predicted,{}", [&] {
              std::string columns;
              for (std::int64_t k = 0; k < model.info.spec.num_classes; ++k)
                columns += fmt::format("{}p{}", k ? "," : "", k);
              return columns;
            }()));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), scored.data.size() + 1);
}

// run.keep_best: the global model of the round with the best G->S, the one summary.json names.
TEST(ModelExport, KeepBestHandsOverTheBestRoundsGlobalModel) {
  TempDir dir;
  const testing::SimulatedRun run = testing::simulate(
      dir, {"data.source=\"synthetic\"", "synthetic.num_clients=6", "model.name=\"logreg\"", "run.rounds=6",
            "train.lr=1.0", "run.keep_best=true", "algorithm.name=\"fedavg\"", "run.export_personal=false"});
  EXPECT_FALSE(fs::exists(fs::path(run.directory) / "models" / "personal"));
  const json best = json::parse(run.summary_text)["streams"]["g2s_acc"];
  LoadedModel model = readModelFile(bestGlobalModelPath(run.directory));
  EXPECT_EQ(model.info.round, best["best_round"].get<std::int64_t>());
  const ScoredData scored = dataFor(model, "");
  EXPECT_DOUBLE_EQ(evaluateModel(model, scored.data, parseConfig(model.info.config).eval.batch_size).overall.accuracy(),
                   best["best"].get<double>());
}

// Each participant of the last round hands over the personalised model its P->L was scored with:
// Ditto's own model, and FedAvg's trained upload.
TEST(ModelExport, EachLastRoundParticipantsModelReproducesItsLocalAccuracy) {
  for (const char* algorithm : {"ditto", "fedavg"}) {
    TempDir dir;
    const testing::SimulatedRun run = testing::simulate(
        dir, {"data.source=\"synthetic\"", "synthetic.num_clients=6", "model.name=\"logreg\"", "run.rounds=3",
              "algorithm.participation=0.5", fmt::format("algorithm.name=\"{}\"", algorithm)});
    const std::int64_t last = run.rounds.back()["round"].get<std::int64_t>();
    std::int64_t participants = 0;
    for (const json& line : run.clients) {
      if (line["round"].get<std::int64_t>() != last) continue;
      ++participants;
      const std::int64_t client = line["client"].get<std::int64_t>();
      LoadedModel model = readModelFile(personalModelPath(run.directory, client));
      EXPECT_EQ(model.info.kind, "personal");
      EXPECT_EQ(model.info.client, client);
      const ScoredData scored = dataFor(model, "");
      const ModelEvaluation evaluation =
          evaluateModel(model, scored.data, parseConfig(model.info.config).eval.batch_size);
      EXPECT_DOUBLE_EQ(evaluation.overall.accuracy(), line["p2l_acc"].get<double>()) << algorithm << " " << client;
      EXPECT_DOUBLE_EQ(evaluation.overall.loss(), line["p2l_loss"].get<double>()) << algorithm << " " << client;
    }
    EXPECT_GT(participants, 1) << algorithm;
    std::int64_t files = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(run.directory) / "models" / "personal"))
      files += entry.is_regular_file();
    EXPECT_EQ(files, participants) << algorithm;
  }
}

}  // namespace
}  // namespace pagefl
