#include "pagefl/modelfile/model_use.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/data/data_source.h"
#include "pagefl/data/federated_dataset.h"

namespace pagefl {
namespace {

Config configOf(const LoadedModel& model, const std::string& data_path) {
  std::vector<std::string> overrides;
  // A JSON string is a TOML basic string too, so any path arrives as written.
  if (!data_path.empty()) overrides.push_back("data.path=" + nlohmann::json(data_path).dump());
  return parseConfig(model.info.config, overrides, "the model file's config");
}

void checkFits(const Dataset& data, std::int64_t classes, const ModelSpec& spec, const std::string& where) {
  if (data.sampleShape() != spec.sample_shape)
    throw Error("{} has samples of shape [{}]; the model '{}' takes [{}]", where, fmt::join(data.sampleShape(), ", "),
                spec.name, fmt::join(spec.sample_shape, ", "));
  if (classes > spec.num_classes)
    throw Error("{} has {} classes; the model predicts {}", where, classes, spec.num_classes);
}

}  // namespace

ScoredData dataFor(const LoadedModel& model, const std::string& data_path) {
  const Config config = configOf(model, data_path);
  const std::string where =
      fmt::format("the data of '{}' at '{}'", config.data.source,
                  config.data.path.empty() ? defaultDataPath(config.data.source) : config.data.path);
  ScoredData scored;
  std::int64_t classes = 0;
  if (model.info.kind == "global") {
    SourceData source = loadSource(config, RngStreams(dataSeed(config)));
    scored.data = std::move(source.server_test);
    classes = source.num_classes;
    scored.description = fmt::format("the server test set ({} samples)", scored.data.size());
  } else {
    const std::int64_t client = model.info.client;  // whose samples alone are read
    const FederatedDataset federated =
        buildFederatedDataset(config, {[client](std::int64_t c) { return c == client; }});
    if (model.info.client < 0 || model.info.client >= federated.numClients())
      throw Error("the model belongs to client {}, but {} holds {} clients", model.info.client, where,
                  federated.numClients());
    scored.data = federated.clientTest(model.info.client);
    classes = federated.num_classes;
    scored.description =
        fmt::format("client {}'s local test split ({} samples)", model.info.client, scored.data.size());
  }
  checkFits(scored.data, classes, model.info.spec, where);
  return scored;
}

ModelEvaluation evaluateModel(LoadedModel& model, const Dataset& data, std::int64_t batch_size) {
  ModelEvaluation evaluation;
  evaluation.overall = evaluate(*model.model, data, batch_size);
  const std::int64_t classes = model.info.spec.num_classes;
  c10::InferenceMode inference;
  // Per class, summed over batches: samples, right answers and losses (bincount by true label).
  torch::Tensor samples = torch::zeros({classes}, torch::kFloat64), correct = samples.clone(), loss = samples.clone();
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const std::int64_t end = std::min(begin + batch_size, data.size());
    const torch::Tensor logits = model.model->network().forward(data.x.slice(0, begin, end));
    const torch::Tensor y = data.y.slice(0, begin, end);
    const torch::Tensor losses = torch::nn::functional::cross_entropy(
        logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    samples += torch::bincount(y, {}, classes).to(torch::kFloat64);
    correct += torch::bincount(y, logits.argmax(1).eq(y).to(torch::kFloat64), classes);
    loss += torch::bincount(y, losses.to(torch::kFloat64), classes);
  }
  for (std::int64_t k = 0; k < classes; ++k)
    evaluation.per_class.push_back({static_cast<std::int64_t>(samples[k].item<double>()),
                                    static_cast<std::int64_t>(correct[k].item<double>()), loss[k].item<double>()});
  return evaluation;
}

std::string formatEvaluation(const ModelEvaluation& evaluation, const ScoredData& scored, const LoadedModel& model) {
  std::string out = fmt::format("{} model ({}, {}, round {}, seed {}) on {}\n", model.info.kind, model.info.spec.name,
                                model.info.algorithm, model.info.round, model.info.seed, scored.description);
  out += fmt::format("accuracy {:.4f}  loss {:.4f}  ({} of {} right)\n", evaluation.overall.accuracy(),
                     evaluation.overall.loss(), evaluation.overall.correct, evaluation.overall.samples);
  out += "class  samples  accuracy  loss\n";
  for (std::size_t k = 0; k < evaluation.per_class.size(); ++k) {
    const EvalResult& score = evaluation.per_class[k];
    if (score.samples == 0) continue;
    out += fmt::format("{:>5}  {:>7}  {:>8.4f}  {:.4f}\n", k, score.samples, score.accuracy(), score.loss());
  }
  return out;
}

void writePredictions(LoadedModel& model, const Dataset& data, std::int64_t batch_size, std::ostream& out) {
  out << "sample,label,predicted";
  for (std::int64_t k = 0; k < model.info.spec.num_classes; ++k) out << ",p" << k;
  out << "\n";
  c10::InferenceMode inference;
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const std::int64_t end = std::min(begin + batch_size, data.size());
    const torch::Tensor probabilities =
        torch::softmax(model.model->network().forward(data.x.slice(0, begin, end)), 1).contiguous();
    const torch::Tensor predicted = probabilities.argmax(1).contiguous();
    const torch::Tensor labels = data.y.slice(0, begin, end).to(torch::kInt64).contiguous();
    const float* p = probabilities.data_ptr<float>();
    for (std::int64_t i = 0; i < end - begin; ++i) {
      out << begin + i << "," << labels.data_ptr<std::int64_t>()[i] << "," << predicted.data_ptr<std::int64_t>()[i];
      for (std::int64_t k = 0; k < model.info.spec.num_classes; ++k)
        out << fmt::format(",{:.6g}", p[i * model.info.spec.num_classes + k]);
      out << "\n";
    }
  }
  if (!out) throw Error("could not write the predictions: is the disk full?");
}

}  // namespace pagefl
