#include "pagefl/fl/algorithms/fedbabu.h"

#include "pagefl/fl/algorithms/partly_local.h"
#include "pagefl/nn/param_mask.h"

namespace pagefl {

SgdOptions FedBabuClient::localOptions(const ClientContext& context) const {
  SgdOptions options = FedAvgClient::localOptions(context);
  options.trainable = headMask(context.model.layout(), head_layers_).complement();
  return options;
}

namespace {

const AlgorithmRegistration kFedBabu(
    {"fedbabu",
     "FedBABU (Oh et al., ICLR 2022): the head frozen during federation, fine-tuned for the site",
     {{"algorithm.finetune_epochs", 1, 5, false, true}}},
    [](const Config& config) {
      return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                       std::make_unique<FedBabuClient>(sgdOptions(config.train), fineTuneOptions(config),
                                                       config.algorithm_settings.get<HeadSettings>().layers,
                                                       config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
