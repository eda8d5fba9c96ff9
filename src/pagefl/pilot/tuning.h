// `pagefl compare --tune`: each contender's key hyperparameters chosen by random search with the
// same number of trial runs per contender, every trial trained and scored on the validation view
// of the federation (partition.validation_fraction; validationView in federated_dataset.h), so no
// trial ever reads a test split. The chosen setting then trains on the train splits and is
// reported on the test splits like any other run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"

namespace pagefl {

struct TuneOptions {
  std::int64_t trials = 8;         // per contender; the first is the config's own setting
  std::int64_t rounds = 0;         // rounds per trial (0: run.rounds)
  std::string objective = "mean";  // "mean" of the global and local validation accuracy, "global", "local"
};

// What is searched for config.algorithm.name: the local learning rate and epochs (for PAGE and
// Dap-FL their upper bounds, page.lr_max and page.epoch_max) and the method's own coefficient. The
// ranges are sized from the config: learning rates within [L/10, 3L] with L the larger of train.lr
// and page.lr_max, epochs within [1, E] with E the larger of train.epochs and page.epoch_max, so
// every contender gets the same local budget; then each method's own coefficients, as its file
// registers them (TuneDimension, core/algorithm_catalog.h). page.balance is the operator's choice,
// never tuned.
std::vector<TuneDimension> searchSpace(const Config& config);

struct TuneTrial {
  std::vector<std::string> overrides;  // key=value for every dimension
  double global = 0, local = 0;        // final G->V and mean P->V accuracy (on validation)
  double score = 0;                    // what the objective ranks
};

struct TuneResult {
  std::string variant;
  std::vector<TuneDimension> space;
  std::vector<TuneTrial> trials;
  std::size_t chosen = 0;  // the best trial; the first of equals
  const std::vector<std::string>& chosenOverrides() const { return trials[chosen].overrides; }
};

// Trains one finished run of `config` on `data` into <config.run.output_dir>/<config.run.name>.
using TrainRun = std::function<void(const Config& config, const FederatedDataset& data)>;

// The trials of one contender, each a run in <directory>/trial-<k> (finished trials are reused).
// `configWith(extra)` is the contender's config with `extra` overrides applied; `validation` is
// validationView() of the comparison's federation. Throws pagefl::Error for a bad objective or
// trial count.
TuneResult tuneVariant(const std::string& variant, const std::function<Config(const std::vector<std::string>&)>& configWith,
                       const FederatedDataset& validation, const TuneOptions& options, const std::string& directory,
                       const TrainRun& train);

// tuning.json: the options, and every contender's space, trials and chosen setting.
std::string tuningJson(const TuneOptions& options, double validation_fraction, const std::vector<TuneResult>& results);

}  // namespace pagefl
