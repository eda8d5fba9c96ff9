#include "model_commands.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"
#include "pagefl/modelfile/model_use.h"

namespace pagefl {
namespace {

// The batch size the run evaluated with, so that the loss sums in the same order.
std::int64_t runBatchSize(const LoadedModel& model) { return parseConfig(model.info.config).eval.batch_size; }

}  // namespace

int evaluateModelFile(const std::string& model_path, const std::string& data_path) {
  configureSingleThreadedKernels();
  LoadedModel model = readModelFile(model_path);
  const ScoredData scored = dataFor(model, data_path);
  fmt::print("{}", formatEvaluation(evaluateModel(model, scored.data, runBatchSize(model)), scored, model));
  return 0;
}

int predictWithModelFile(const std::string& model_path, const std::string& data_path, const std::string& out_path) {
  configureSingleThreadedKernels();
  LoadedModel model = readModelFile(model_path);
  const ScoredData scored = dataFor(model, data_path);
  if (out_path.empty()) {
    writePredictions(model, scored.data, runBatchSize(model), std::cout);
    return 0;
  }
  std::ofstream out(out_path);
  if (!out) throw Error("cannot write '{}': check the directory exists and is writable", out_path);
  writePredictions(model, scored.data, runBatchSize(model), out);
  fmt::print("{} predictions of {} written to {}\n", scored.data.size(), scored.description, out_path);
  return 0;
}

}  // namespace pagefl
