#include "pagefl/fl/algorithms/fedrod.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"
#include "pagefl/nn/param_mask.h"

namespace pagefl {
namespace {

// The head's class count, from its bias; throws when the last module is not a linear layer.
std::int64_t linearHeadClasses(const ParamLayout& layout) {
  const auto& entries = layout.entries();
  const bool linear = entries.size() >= 2 && entries.back().shape.size() == 1 &&
                      entries[entries.size() - 2].shape.size() == 2 &&
                      entries[entries.size() - 2].shape[0] == entries.back().shape[0];
  if (!linear)
    throw Error("Fed-RoD needs a model whose last module is a linear layer (weight and bias); '{}' is not",
                entries.empty() ? std::string("<empty>") : entries.back().name);
  return entries.back().shape[0];
}

}  // namespace

ClientUpdate FedRodClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  FlatModel& model = context.model;
  const std::int64_t classes = linearHeadClasses(model.layout());
  const ParamMask head = headMask(model.layout(), 1);

  SgdOptions generic = sgd_;
  auto counts = torch::bincount(context.train.y, {}, classes).to(torch::kFloat32);
  generic.logit_offset = counts.clamp_min(1e-8f).log();
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  recordTraining(update, trainSgd(model, context.train, generic, rng), context);
  update.params = model.snapshot();

  torch::Tensor& personal_head = context.state.tensor("personal_head");
  if (!personal_head.defined()) personal_head = torch::zeros({head.count()});
  const torch::Tensor generic_head = head.gather(update.params);
  torch::Tensor summed = update.params.clone();
  head.scatter(summed, generic_head + personal_head);
  model.load(summed);
  SgdOptions personal = sgd_;
  personal.trainable = head.ones;
  auto personal_rng = context.streams.engine(Purpose::FineTuneShuffle, message.round, context.client);
  trainSgd(model, context.train, personal, personal_rng);
  personal_head = head.gather(model.params()) - generic_head;
  scorePersonal(update, message, context, model.snapshot(), eval_batch_size_);
  return update;
}

namespace {

const AlgorithmRegistration kFedRod(
    {"fedrod", "Fed-RoD (Chen & Chao, ICLR 2022): a generic head for the federation, a personal head per site", {}},
    [](const Config& config) {
      return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                       std::make_unique<FedRodClient>(sgdOptions(config.train), config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
