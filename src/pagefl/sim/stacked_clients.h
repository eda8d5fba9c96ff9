// The simulator's stacked-clients path (run.batched_clients): a round's clients of a small fully
// connected model whose algorithm trains by plain local SGD (LocalSgdClient) are
// prepared and finished one at a time on the worker pool, but trained together, stacked
// (nn/stacked_sgd.h). The stacks are fixed by the round's clients alone, never by the worker
// count, so results are the same for any number of workers.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/fl/local_sgd_client.h"
#include "pagefl/nn/models.h"
#include "pagefl/engine/worker_pool.h"

namespace pagefl {

// Under "auto", models up to this many parameters are stacked: beyond it a step's arithmetic,
// not per-operation overhead, dominates and stacking gains little.
constexpr std::int64_t kAutoStackParameters = 100'000;

// The client half to train stacked in this run, or null to train one client at a time, as
// run.batched_clients decides. Throws pagefl::Error under "on" when stacking cannot serve the
// run, saying why.
const LocalSgdClient* stackedClientHalf(const Config& config, const ModelSpec& spec, std::int64_t parameters,
                                        const ClientAlgorithm& client);

using ContextFactory = std::function<ClientContext(std::int64_t client, FlatModel& replica)>;

// The round's updates of `clients`, in their order. Jobs that cannot be stacked (FedBABU's frozen
// head) train one at a time inside the same pass.
std::vector<ClientUpdate> runStacked(const LocalSgdClient& half, const ServerMessage& message,
                                     const std::vector<std::int64_t>& clients, const ContextFactory& contextOf,
                                     WorkerPool& pool);

}  // namespace pagefl
