// What one process of a simulation holds: the worker pool with its model replicas, the algorithm,
// the clients' state, the server evaluator and the in-process clients. The simulator builds one;
// so does every rank of a sharded simulation, on the clients it owns (sim/sharding.h).
#pragma once

#include <filesystem>

#include "pagefl/core/config.h"
#include "pagefl/core/rng.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/pooled_evaluator.h"
#include "pagefl/engine/worker_pool.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/client_state.h"
#include "pagefl/nn/models.h"
#include "pagefl/sim/in_process_clients.h"
#include "pagefl/sim/stacked_clients.h"

namespace pagefl {

struct LocalSimulation {
  LocalSimulation(const Config& config, const FederatedDataset& data)
      : streams(static_cast<std::uint64_t>(config.run.seed)),
        spec{config.model.name, data.sampleShape(), data.num_classes, config.model.hidden},
        pool(config.run.workers, [this] { return std::make_unique<FlatModel>(makeNetwork(spec)); }),
        algorithm(makeAlgorithm(config)),
        stacked(stackedClientHalf(config, spec, pool.replica(0).layout().size(), *algorithm.client)),
        store(config.run.state_memory_mb * 1024 * 1024,
              config.run.spill_dir.empty() ? std::filesystem::temp_directory_path().string() : config.run.spill_dir),
        evaluator(pool, data.server_test, config.eval.batch_size, streams, stacked != nullptr),
        clients(config, data, pool, *algorithm.client, stacked, algorithm.server->expectsModels(), evaluator, store) {
    algorithm.server->initialise(
        initialParameters(layout(), config.model.init, streams.torchGenerator(Purpose::ModelInit)), data.numClients());
  }

  const ParamLayout& layout() { return pool.replica(0).layout(); }

  RngStreams streams;
  ModelSpec spec;
  WorkerPool pool;
  Algorithm algorithm;
  const LocalSgdClient* stacked;  // the client half to train stacked, or null
  ClientStateStore store;
  PooledServerEvaluator evaluator;
  InProcessClients clients;
};

}  // namespace pagefl
