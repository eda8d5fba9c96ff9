#include "pagefl/sim/simulator.h"

#include <torch/torch.h>

#include <filesystem>

#include "pagefl/engine/pooled_evaluator.h"
#include "pagefl/engine/round_engine.h"
#include "pagefl/engine/worker_pool.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/sim/in_process_clients.h"
#include "pagefl/sim/stacked_clients.h"

namespace pagefl {

Simulator::Simulator(const Config& config, const FederatedDataset& data) : config_(config), data_(data) {}

torch::Tensor Simulator::run(const std::vector<RunObserver*>& observers, RunControls* controls) {
  const RngStreams streams(static_cast<std::uint64_t>(config_.run.seed));
  const ModelSpec spec{config_.model.name, data_.sampleShape(), data_.num_classes, config_.model.hidden};
  WorkerPool pool(config_.run.workers, [&] { return std::make_unique<FlatModel>(makeNetwork(spec)); });
  const ParamLayout& layout = pool.replica(0).layout();

  Algorithm algorithm = makeAlgorithm(config_);
  const LocalSgdClient* stacked = stackedClientHalf(config_, spec, layout.size(), *algorithm.client);
  algorithm.server->initialise(
      initialParameters(layout, config_.model.init, streams.torchGenerator(Purpose::ModelInit)), data_.numClients());
  ClientStateStore store(config_.run.state_memory_mb * 1024 * 1024,
                         config_.run.spill_dir.empty() ? std::filesystem::temp_directory_path().string()
                                                       : config_.run.spill_dir);
  PooledServerEvaluator evaluator(pool, data_.server_test, config_.eval.batch_size, streams, stacked != nullptr);
  InProcessClients clients(config_, data_, pool, *algorithm.client, stacked, algorithm.server->expectsModels(),
                           evaluator, store);
  RoundEngine engine(config_, {data_.numClients(), 1, spec, config_.run.export_personal}, *algorithm.server, evaluator,
                     clients, observers, controls);
  engine.run();
  return algorithm.server->global();
}

}  // namespace pagefl
