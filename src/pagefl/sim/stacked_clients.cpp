#include "pagefl/sim/stacked_clients.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "pagefl/core/error.h"
#include "pagefl/nn/stacked_sgd.h"

namespace pagefl {
namespace {

// Clients per stack: enough to spread each operation's overhead thin (on Synthetic's 100 clients
// two stacks of 50 trained faster than four of 25), few enough that a round has stacks to share
// among a few workers.
constexpr std::int64_t kStackSize = 64;

std::optional<std::string> whyNotStacked(const Config& config, const ModelSpec& spec, const ClientAlgorithm& client) {
  if (auto why = whyNotStackable(spec)) return why;
  if (config.train.momentum != 0) return std::string("train.momentum is not 0");
  if (!dynamic_cast<const LocalSgdClient*>(&client))
    return "algorithm.name = \"" + config.algorithm.name +
           "\" does not train by plain local SGD (stacking serves fedavg, fedprox, "
           "fedavg-ft, fedbabu, page, dapfl, ditto and fedala)";
  return std::nullopt;
}

// Stacks of at most kStackSize positions in [0, count). Positions are dealt round-robin in
// order of their step count, so every stack gets a like share of long and short jobs and the
// workers finish together.
std::vector<std::vector<std::size_t>> dealStacks(const std::vector<std::int64_t>& steps) {
  const auto count = static_cast<std::int64_t>(steps.size());
  std::vector<std::size_t> order(steps.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return steps[a] > steps[b]; });
  const std::int64_t stacks = (count + kStackSize - 1) / kStackSize;
  std::vector<std::vector<std::size_t>> dealt(static_cast<std::size_t>(stacks));
  for (std::size_t i = 0; i < order.size(); ++i) dealt[i % dealt.size()].push_back(order[i]);
  for (auto& stack : dealt) std::sort(stack.begin(), stack.end());
  return dealt;
}

}  // namespace

const LocalSgdClient* stackedClientHalf(const Config& config, const ModelSpec& spec, std::int64_t parameters,
                                        const ClientAlgorithm& client) {
  const std::string& mode = config.run.batched_clients;
  if (mode == "off") return nullptr;
  const std::optional<std::string> why = whyNotStacked(config, spec, client);
  if (mode == "on" && why)
    throw Error("run.batched_clients = \"on\" cannot stack this run's clients: {}; set it to \"auto\" or \"off\"", *why);
  if (why || (mode == "auto" && parameters > kAutoStackParameters)) return nullptr;
  return dynamic_cast<const LocalSgdClient*>(&client);
}

std::vector<ClientUpdate> runStacked(const LocalSgdClient& half, const ServerMessage& message,
                                     const std::vector<std::int64_t>& clients, const ContextFactory& contextOf,
                                     WorkerPool& pool) {
  const auto count = static_cast<std::int64_t>(clients.size());
  std::vector<LocalSgdJob> jobs(clients.size());
  std::vector<Dataset> train(clients.size());
  pool.forEach(count, [&](std::int64_t i, FlatModel& replica) {
    ClientContext context = contextOf(clients[i], replica);
    jobs[i] = half.prepare(message, context);
    train[i] = context.train;
  });

  // Every training of the round: each job's upload training, then its side training if it has one.
  struct Training {
    std::size_t job;
    bool side;
  };
  std::vector<Training> trainings;
  std::vector<StackedSgdJob> described;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    LocalSgdJob& job = jobs[i];
    trainings.push_back({i, false});
    described.push_back(
        {train[i], trainingStart(job, message), job.sgd, &job.shuffle, job.proximal_mu, message.global});
    if (job.side) {
      trainings.push_back({i, true});
      described.push_back(
          {train[i], job.side->start, job.sgd, &job.side->shuffle, job.side->proximal_mu, message.global});
    }
  }

  // Units of work: a stack of trainings, or one training that cannot be stacked, trained alone.
  struct Unit {
    std::vector<std::size_t> trainings;
    bool alone = false;
  };
  std::vector<Unit> units;
  std::vector<std::size_t> stacked;
  std::vector<std::int64_t> steps;
  for (std::size_t t = 0; t < described.size(); ++t) {
    if (whyNotStackable(described[t].sgd)) {
      units.push_back({{t}, true});
    } else {
      stacked.push_back(t);
      steps.push_back(stepsOf(described[t]));
    }
  }
  for (const auto& stack : dealStacks(steps)) {
    Unit unit;
    for (std::size_t s : stack) unit.trainings.push_back(stacked[s]);
    units.push_back(std::move(unit));
  }

  std::vector<StackedSgdResult> trained(described.size());
  const ParamLayout& layout = pool.replica(0).layout();
  pool.forEach(static_cast<std::int64_t>(units.size()), [&](std::int64_t u, FlatModel& replica) {
    const Unit& unit = units[static_cast<std::size_t>(u)];
    if (unit.alone) {
      const std::size_t t = unit.trainings.front();
      StackedSgdJob& training = described[t];
      replica.load(training.start);
      trained[t].stats = trainSgd(replica, training.train, training.sgd, *training.shuffle,
                                  proximalHook(training.proximal_mu, training.centre));
      trained[t].params = replica.snapshot();
      return;
    }
    std::vector<StackedSgdJob> stack;
    for (std::size_t t : unit.trainings) stack.push_back(described[t]);
    std::vector<StackedSgdResult> results = trainStacked(layout, stack);
    for (std::size_t j = 0; j < unit.trainings.size(); ++j) trained[unit.trainings[j]] = std::move(results[j]);
  });

  std::vector<std::size_t> upload_training(clients.size());
  for (std::size_t t = 0; t < trainings.size(); ++t) {
    if (trainings[t].side)
      jobs[trainings[t].job].side->trained = trained[t].params;
    else
      upload_training[trainings[t].job] = t;
  }
  std::vector<ClientUpdate> updates(clients.size());
  pool.forEach(count, [&](std::int64_t i, FlatModel& replica) {
    ClientContext context = contextOf(clients[i], replica);
    const StackedSgdResult& upload = trained[upload_training[static_cast<std::size_t>(i)]];
    replica.load(upload.params);
    updates[i] = half.finish(message, context, jobs[i], upload.stats);
  });
  return updates;
}

}  // namespace pagefl
