// Applying a model file (model_file.h) to data: `pagefl evaluate` and `pagefl predict`.
//
// The samples are drawn exactly as the run that wrote the file drew them, from its config and
// seed: a global model is scored on the run's server test set (G->S), a site's personalised model
// on that site's local test split (P->L), so that the numbers are the run's own. Another copy of
// the same data in any supported format may be given (`data_path`); samples of another shape or
// with more classes than the model's are refused, naming both.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "pagefl/data/dataset.h"
#include "pagefl/modelfile/model_file.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {

struct ScoredData {
  Dataset data;
  std::string description;  // "the server test set (2000 samples)", "client 3's local test split (...)"
};

// `data_path` empty: the run's own data.path (or its source's default location).
ScoredData dataFor(const LoadedModel& model, const std::string& data_path);

struct ModelEvaluation {
  EvalResult overall;                 // the run's evaluation, batch for batch
  std::vector<EvalResult> per_class;  // by true label
};

ModelEvaluation evaluateModel(LoadedModel& model, const Dataset& data, std::int64_t batch_size);
std::string formatEvaluation(const ModelEvaluation& evaluation, const ScoredData& scored, const LoadedModel& model);

// One CSV line per sample: its index, label, predicted class and the probability of each class.
void writePredictions(LoadedModel& model, const Dataset& data, std::int64_t batch_size, std::ostream& out);

}  // namespace pagefl
