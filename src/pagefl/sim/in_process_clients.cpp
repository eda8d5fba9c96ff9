#include "pagefl/sim/in_process_clients.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/attack.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/fl/streams.h"
#include "pagefl/sim/stacked_clients.h"

namespace pagefl {
namespace {

// What a deployed server refuses on arrival (wrong size, NaN, beyond robust.max_update_norm).
std::optional<std::string> refusalOf(const ClientUpdate& update, std::int64_t model_size, bool params_required,
                                     const torch::Tensor& global, const RobustConfig& robust) {
  if (auto defect = findUpdateDefect(update, model_size, params_required)) return defect;
  if (robust.max_update_norm > 0 && update.params.defined())
    return normBoundDefect((update.params - global).norm().item<double>(), robust);
  return std::nullopt;
}

// The optional P->S stream: every client's personalised model (its upload unless it sent one
// apart) on the server test set. The personalised copies are dropped afterwards (unless the run exports them); scores
// of uploads go to `uploads` when given, for the server half to reuse.
void scorePersonalOnServer(std::vector<ClientUpdate*>& updates, ServerEvaluator& evaluator, UploadScoreCache* uploads,
                           bool keep_personal) {
  std::vector<torch::Tensor> models;
  std::vector<std::int64_t> blocks;
  std::vector<ClientUpdate*> owners;
  for (ClientUpdate* update : updates) {
    const torch::Tensor& personal = update->personal.defined() ? update->personal : update->params;
    if (!personal.defined()) continue;
    models.push_back(personal);
    blocks.push_back(aggregationBlockOf(update->client));
    owners.push_back(update);
  }
  auto results = evaluator.evaluateEach(models, 0, blocks);
  for (std::size_t i = 0; i < owners.size(); ++i) {
    streams::record(owners[i]->metrics, streams::kPersonalOnServer, results[i]);
    if (uploads && !owners[i]->personal.defined()) uploads->remember(owners[i]->params, results[i]);
    if (!keep_personal) owners[i]->personal = torch::Tensor();  // kept only to be exported
  }
}

// G->N and FT->N: the global model on clients never trained on, as it is and after `steps` local
// SGD steps on each one's train split.
std::vector<ClientRecord> scoreNewClients(const std::vector<std::int64_t>& clients, const torch::Tensor& global,
                                          const FederatedDataset& data, const Config& config,
                                          const RngStreams& streams, std::int64_t round, WorkerPool& pool) {
  for (std::int64_t client : clients)
    if (!data.clients[client].samples_read)
      throw Error(
          "client {} is held out as a new site (eval.new_clients = {}) but this process did not read its "
          "samples: under mpirun, every run of a comparison must hold out the same sites, so set "
          "eval.new_clients in the base config, not per variant",
          client, config.eval.new_clients);
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
    // From the label counts, which a rank of a sharded simulation knows of every client.
    const std::vector<std::int64_t>& counts = data.clients[c].train_label_counts;
    const std::int64_t all = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
    const std::int64_t upper =
        std::accumulate(counts.begin() + std::min<std::int64_t>(data.num_classes / 2, std::ssize(counts)), counts.end(),
                        std::int64_t{0});
    upper_share.emplace_back(all ? -static_cast<double>(upper) / static_cast<double>(all) : 0.0, c);
  }
  std::sort(upper_share.begin(), upper_share.end());
  const auto count = static_cast<std::size_t>(std::llround(share * static_cast<double>(candidates.size())));
  std::vector<bool> late(static_cast<std::size_t>(data.numClients()), false);
  for (std::size_t i = 0; i < count && i < upper_share.size(); ++i) late[static_cast<std::size_t>(upper_share[i].second)] = true;
  return late;
}

}  // namespace

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

InProcessClients::InProcessClients(const Config& config, const FederatedDataset& data, WorkerPool& pool,
                                   const ClientAlgorithm& client, const LocalSgdClient* stacked, bool expects_models,
                                   ServerEvaluator& evaluator, ClientStateStore& store)
    : config_(config),
      data_(data),
      streams_(static_cast<std::uint64_t>(config.run.seed)),
      pool_(pool),
      client_(client),
      stacked_(stacked),
      expects_models_(expects_models),
      evaluator_(evaluator),
      store_(store),
      roster_(buildRoster(data, config)) {}

std::optional<std::vector<std::int64_t>> InProcessClients::candidates(std::int64_t round) {
  return roster_.trainingIn(round);
}

std::vector<ClientUpdate> InProcessClients::train(const ServerMessage& message,
                                                  const std::vector<std::int64_t>& clients) {
  const ContextFactory contextOf = [&](std::int64_t client, FlatModel& replica) {
    return ClientContext{client, data_.clientTrain(client), data_.clientTest(client), replica, store_.at(client),
                         streams_};
  };
  if (stacked_) return runStacked(*stacked_, message, clients, contextOf, pool_);
  std::vector<ClientUpdate> updates(clients.size());
  pool_.forEach(static_cast<std::int64_t>(clients.size()), [&](std::int64_t i, FlatModel& replica) {
    ClientContext context = contextOf(clients[i], replica);
    updates[i] = client_.run(message, context);
  });
  return updates;
}

std::vector<CheckedUpdate> InProcessClients::trainChecked(const ServerMessage& message,
                                                          const std::vector<std::int64_t>& clients,
                                                          UploadScoreCache* uploads) {
  const std::int64_t model_size = pool_.replica(0).layout().size();
  std::vector<ClientUpdate> updates = train(message, clients);
  if (!config_.attack.clients.empty())
    for (ClientUpdate& update : updates)
      if (isAttacker(config_.attack, update.client)) poisonUpload(update, message.global, config_.attack, streams_);
  std::vector<CheckedUpdate> checked(updates.size());
  std::vector<ClientUpdate*> sound;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (auto defect = refusalOf(updates[i], model_size, expects_models_, message.global, config_.robust)) {
      spdlog::warn("round {}: rejected the update of client {}: {}", message.round, updates[i].client, *defect);
      checked[i].refusal = *defect;
      checked[i].update.client = updates[i].client;
    } else {
      checked[i].update = std::move(updates[i]);
      sound.push_back(&checked[i].update);
    }
  }
  if (message.wants_personal) scorePersonalOnServer(sound, evaluator_, uploads, message.export_personal);
  store_.enforceBudget();  // between chunks no task holds a client's state
  return checked;
}

RoundOutcome InProcessClients::collect(const ServerMessage& message, const std::vector<std::int64_t>& participants,
                                       UpdateIntake& intake, std::string& /*why*/) {
  const auto count = static_cast<std::int64_t>(participants.size());
  const std::int64_t chunk = std::min(intake.chunkSize(), std::max<std::int64_t>(count, 1));
  for (std::int64_t begin = 0; begin < count; begin += chunk) {
    const std::int64_t size = std::min(chunk, count - begin);
    std::vector<CheckedUpdate> checked = trainChecked(
        message, {participants.begin() + begin, participants.begin() + begin + size}, intake.uploadScores());
    for (CheckedUpdate& one : checked)
      if (!one.refusal.empty()) intake.refuse(one.update.client, one.refusal);
    for (CheckedUpdate& one : checked) {
      if (!one.refusal.empty()) continue;
      const ClientShard& shard = data_.clients[one.update.client];
      intake.accept(std::move(one.update), shard.trainSize(), shard.testSize());
    }
  }
  return RoundOutcome::Collected;
}

void InProcessClients::complete(RoundRecord& record, const torch::Tensor& global) {
  if (record.evaluated && !roster_.held_out.empty())
    record.new_clients = scoreNewClients(roster_.held_out, global, data_, config_, streams_, record.round, pool_);
  record.client_state_bytes = store_.bytes();
  record.client_state_memory_bytes = store_.memoryBytes();
}

}  // namespace pagefl
