#include "pagefl/sim/simulator.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/attack.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/fl/streams.h"
#include "pagefl/sim/pooled_evaluator.h"
#include "pagefl/sim/stacked_clients.h"
#include "pagefl/sim/upload_score_cache.h"
#include "pagefl/sim/worker_pool.h"

namespace pagefl {
namespace {

// Clients per chunk when the algorithm folds updates: enough to keep every worker busy.
constexpr std::int64_t kFoldChunk = 64;

// What a deployed server refuses on arrival (wrong size, NaN, beyond robust.max_update_norm).
std::optional<std::string> refusalOf(const ClientUpdate& update, std::int64_t model_size, bool params_required,
                                     const torch::Tensor& global, const RobustConfig& robust) {
  if (auto defect = findUpdateDefect(update, model_size, params_required)) return defect;
  if (robust.max_update_norm > 0 && update.params.defined())
    return normBoundDefect((update.params - global).norm().item<double>(), robust);
  return std::nullopt;
}

// Sets aside updates that must not be aggregated, logging each in the record.
std::vector<ClientUpdate> keepSoundUpdates(std::vector<ClientUpdate> updates, std::int64_t model_size,
                                           bool params_required, const torch::Tensor& global,
                                           const RobustConfig& robust, RoundRecord& record) {
  std::vector<ClientUpdate> sound;
  for (ClientUpdate& update : updates) {
    if (auto defect = refusalOf(update, model_size, params_required, global, robust)) {
      spdlog::warn("round {}: rejected the update of client {}: {}", record.round, update.client, *defect);
      record.rejected.push_back({update.client, *defect});
    } else {
      sound.push_back(std::move(update));
    }
  }
  return sound;
}

// The optional P->S stream: every client's personalised model (its upload unless it sent one
// apart) on the server test set. The personalised copies are dropped afterwards; scores of
// uploads go to `uploads` when given, for the server half to reuse.
void scorePersonalOnServer(std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator, UploadScoreCache* uploads) {
  std::vector<torch::Tensor> models;
  std::vector<ClientUpdate*> owners;
  for (ClientUpdate& update : updates) {
    const torch::Tensor& personal = update.personal.defined() ? update.personal : update.params;
    if (personal.defined()) models.push_back(personal), owners.push_back(&update);
  }
  auto results = evaluator.evaluateEach(models, 0);
  for (std::size_t i = 0; i < owners.size(); ++i) {
    streams::record(owners[i]->metrics, streams::kPersonalOnServer, results[i]);
    if (uploads && !owners[i]->personal.defined()) uploads->remember(owners[i]->params, results[i]);
    owners[i]->personal = torch::Tensor();
  }
}

// G->N and FT->N: the global model on clients never trained on, as it is and after `steps` local
// SGD steps on each one's train split.
std::vector<ClientRecord> scoreNewClients(const std::vector<std::int64_t>& clients, const torch::Tensor& global,
                                          const FederatedDataset& data, const Config& config,
                                          const RngStreams& streams, std::int64_t round, WorkerPool& pool) {
  std::vector<ClientRecord> records(clients.size());
  const SgdOptions sgd = sgdOptions(config.train);
  pool.forEach(static_cast<std::int64_t>(clients.size()), [&](std::int64_t i, FlatModel& model) {
    const std::int64_t client = clients[i];
    const Dataset train = data.clientTrain(client), test = data.clientTest(client);
    ClientRecord& record = records[i];
    record = {client, train.size(), test.size(), {}};
    model.load(global);
    streams::record(record.metrics, streams::kGlobalOnNew, evaluate(model, test, config.eval.batch_size));
    auto rng = streams.engine(Purpose::FineTuneShuffle, round, client);
    for (std::int64_t step = 0; step < config.eval.new_client_steps && train.size() > 0;) {
      EpochBatches batches(train, sgd.batch_size, rng);
      for (std::int64_t b = 0; b < batches.count() && step < config.eval.new_client_steps; ++b, ++step) {
        lossAndGradient(model, batches.batch(b));
        sgdStep(model, sgd.lr, sgd);
      }
    }
    streams::record(record.metrics, streams::kFineTunedOnNew, evaluate(model, test, config.eval.batch_size));
  });
  return records;
}

// The late clients of a demand shift: the `share` of `candidates` with the largest fraction of
// training samples in the upper half of the classes (ties by id), so that the clients joining
// late bring a label distribution the early ones lack.
std::vector<bool> lateClients(const FederatedDataset& data, const std::vector<std::int64_t>& candidates,
                              double share) {
  std::vector<std::pair<double, std::int64_t>> upper_share;
  for (std::int64_t c : candidates) {
    const torch::Tensor labels = data.clientTrain(c).y;
    const double upper = labels.numel() ? labels.ge(data.num_classes / 2).to(torch::kFloat64).mean().item<double>() : 0;
    upper_share.emplace_back(-upper, c);
  }
  std::sort(upper_share.begin(), upper_share.end());
  const auto count = static_cast<std::size_t>(std::llround(share * static_cast<double>(candidates.size())));
  std::vector<bool> late(static_cast<std::size_t>(data.numClients()), false);
  for (std::size_t i = 0; i < count && i < upper_share.size(); ++i) late[static_cast<std::size_t>(upper_share[i].second)] = true;
  return late;
}

// Who trains when: clients held out as new sites never do; late clients from their join round on;
// everyone else from round 1.
struct ClientRoster {
  std::vector<std::int64_t> early, everyone, held_out;
  std::int64_t join_round = 0;

  const std::vector<std::int64_t>& trainingIn(std::int64_t round) const {
    return join_round > 1 && round < join_round ? early : everyone;
  }
};

ClientRoster buildRoster(const FederatedDataset& data, const Config& config) {
  ClientRoster roster;
  roster.join_round = config.partition.late_join_round;
  for (std::int64_t c = 0; c < data.numClients(); ++c)
    (inEvenShare(c, config.eval.new_clients) ? roster.held_out : roster.everyone).push_back(c);
  const std::vector<bool> late = roster.join_round > 1
                                     ? lateClients(data, roster.everyone, config.partition.late_clients)
                                     : std::vector<bool>(static_cast<std::size_t>(data.numClients()), false);
  for (std::int64_t c : roster.everyone)
    if (!late[static_cast<std::size_t>(c)]) roster.early.push_back(c);
  if (roster.early.empty())
    throw Error("eval.new_clients = {} and partition.late_clients = {} leave no client to train from round 1",
                config.eval.new_clients, config.partition.late_clients);
  return roster;
}

}  // namespace

bool isEvaluationRound(std::int64_t round, std::int64_t total, std::int64_t every) {
  return every > 0 && (round % every == 0 || round == total);
}

Simulator::Simulator(const Config& config, const FederatedDataset& data) : config_(config), data_(data) {}

std::vector<std::int64_t> Simulator::sampleParticipants(const RngStreams& streams, std::int64_t round,
                                                        std::int64_t num_clients, double participation) {
  std::vector<std::int64_t> clients(static_cast<std::size_t>(num_clients));
  std::iota(clients.begin(), clients.end(), 0);
  const auto count = std::clamp<std::int64_t>(
      std::llround(participation * static_cast<double>(num_clients)), 1, num_clients);
  if (count == num_clients) return clients;
  auto rng = streams.engine(Purpose::Participation, round);
  for (std::int64_t i = 0; i < count; ++i) {  // partial Fisher-Yates
    std::uniform_int_distribution<std::int64_t> pick(i, num_clients - 1);
    std::swap(clients[i], clients[pick(rng)]);
  }
  clients.resize(static_cast<std::size_t>(count));
  std::sort(clients.begin(), clients.end());
  return clients;
}

torch::Tensor Simulator::run(const std::vector<RoundObserver*>& observers) {
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

  const ClientRoster roster = buildRoster(data_, config_);
  const std::int64_t total = config_.run.rounds;
  for (std::int64_t round = 1; round <= total; ++round) {
    const auto started = std::chrono::steady_clock::now();
    RoundRecord record;
    record.round = round;
    record.total_rounds = total;
    record.evaluated = isEvaluationRound(round, total, config_.eval.every);

    ServerMessage message = algorithm.server->configureRound(round);
    message.evaluate = record.evaluated;
    message.wants_personal = record.evaluated && config_.eval.personal_on_server;
    const std::vector<std::int64_t>& training = roster.trainingIn(round);
    std::vector<std::int64_t> participants = sampleParticipants(
        streams, round, static_cast<std::int64_t>(training.size()), config_.algorithm.participation);
    for (std::int64_t& index : participants) index = training[static_cast<std::size_t>(index)];

    // With a fold, clients run in chunks whose uploads are folded in and dropped, so memory does
    // not grow with the client count; the result does not depend on the chunk size.
    std::unique_ptr<UpdateFold> fold = algorithm.server->beginFold(round);
    const auto count = static_cast<std::int64_t>(participants.size());
    const std::int64_t chunk = fold ? kFoldChunk : count;
    std::vector<ClientUpdate> kept;
    UploadScoreCache scores(evaluator);  // only uploads kept for aggregate() are remembered
    for (std::int64_t begin = 0; begin < count; begin += chunk) {
      const std::int64_t size = std::min(chunk, count - begin);
      const std::vector<std::int64_t> clients(participants.begin() + begin, participants.begin() + begin + size);
      const ContextFactory contextOf = [&](std::int64_t client, FlatModel& replica) {
        return ClientContext{client, data_.clientTrain(client), data_.clientTest(client), replica, store.at(client),
                             streams};
      };
      std::vector<ClientUpdate> updates(static_cast<std::size_t>(size));
      if (stacked) {
        updates = runStacked(*stacked, message, clients, contextOf, pool);
      } else {
        pool.forEach(size, [&](std::int64_t i, FlatModel& replica) {
          ClientContext context = contextOf(clients[i], replica);
          updates[i] = algorithm.client->run(message, context);
        });
      }
      if (!config_.attack.clients.empty())
        for (ClientUpdate& update : updates)
          if (isAttacker(config_.attack, update.client)) poisonUpload(update, message.global, config_.attack, streams);
      std::vector<ClientUpdate> sound = keepSoundUpdates(std::move(updates), layout.size(),
                                                         algorithm.server->expectsModels(), message.global,
                                                         config_.robust, record);
      if (record.evaluated && config_.eval.personal_on_server)
        scorePersonalOnServer(sound, evaluator, fold ? nullptr : &scores);
      for (ClientUpdate& update : sound) {
        const ClientShard& shard = data_.clients[update.client];
        record.clients.push_back({update.client, shard.trainSize(), shard.testSize(), update.metrics});
        if (fold) {
          fold->add(update);
        } else {
          kept.push_back(std::move(update));
        }
      }
      store.enforceBudget();  // between chunks no task holds a client's state
    }
    if (record.clients.empty())
      throw Error("round {}: every client's update was rejected ({}); the run cannot continue", round,
                  record.rejected.front().reason);

    record.server_metrics = fold ? fold->finish() : algorithm.server->aggregate(round, kept, scores);
    if (record.evaluated) {
      auto cached = algorithm.server->globalOnServer();
      record.global_on_server = cached ? *cached : evaluator.evaluate(algorithm.server->global());
      if (!roster.held_out.empty())
        record.new_clients =
            scoreNewClients(roster.held_out, algorithm.server->global(), data_, config_, streams, round, pool);
    }

    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    record.client_state_bytes = store.bytes();
    record.client_state_memory_bytes = store.memoryBytes();
    record.peak_resident_bytes = peakResidentBytes();
    for (RoundObserver* observer : observers) observer->onRound(record);
  }
  for (RoundObserver* observer : observers) observer->onFinish();
  return algorithm.server->global();
}

}  // namespace pagefl
