#include "pagefl/mpi/sharded_simulation.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <map>
#include <optional>

#include "pagefl/core/error.h"
#include "pagefl/engine/upload_score_cache.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/mpi/shard_messages.h"
#include "pagefl/sim/local_simulation.h"

namespace pagefl::mpi {
namespace {

constexpr int kUploadsTag = 1;
constexpr int kBlockTag = 2;
constexpr auto kTrainChunk = static_cast<std::size_t>(kClientsPerChunk);

std::vector<std::int64_t> ownedBy(const SimulationShards& shards, const std::vector<std::int64_t>& clients) {
  std::vector<std::int64_t> owned;
  for (std::int64_t c : clients)
    if (shards.owns(c)) owned.push_back(c);
  return owned;
}

// Tests end a rank abruptly here (PAGEFL_TEST_KILL_RANK=<rank>:<round>) to check that the job
// then ends with a message, not a hang.
void dieWhenTestAsks(int rank, std::int64_t round) {
  const char* asked = std::getenv("PAGEFL_TEST_KILL_RANK");
  if (asked && std::string(asked) == fmt::format("{}:{}", rank, round)) std::raise(SIGKILL);
}

// One rank's part of a round: its participants trained, what the server needs of each, and its
// sound uploads kept for the weighted block sums.
class RankRound {
 public:
  RankRound(InProcessClients& clients, ServerEvaluator& evaluator, std::optional<std::int64_t> score_samples)
      : clients_(clients), evaluator_(evaluator), score_samples_(score_samples) {}

  void train(const ServerMessage& message, const std::vector<std::int64_t>& owned) {
    UploadScoreCache scores(evaluator_);  // P->S scores uploads already when asked
    for (std::size_t begin = 0; begin < owned.size(); begin += kTrainChunk) {
      const std::size_t end = std::min(owned.size(), begin + kTrainChunk);
      std::vector<CheckedUpdate> checked =
          clients_.trainChecked(message, {owned.begin() + begin, owned.begin() + end}, &scores);
      const std::size_t first = uploads.size(), first_kept = kept_.size();
      for (CheckedUpdate& one : checked) take(one, message.export_personal);
      if (score_samples_) score(first, first_kept, scores);
    }
  }

  // The weighted sum of this rank's next aggregation block, or nullopt after its last.
  std::optional<std::pair<std::int64_t, WeightedSum>> nextBlock(const std::map<std::int64_t, double>& weights) {
    if (next_ == kept_.size()) return std::nullopt;
    const std::int64_t block = aggregationBlockOf(kept_[next_].first);
    WeightedSum partial;
    for (; next_ < kept_.size() && aggregationBlockOf(kept_[next_].first) == block; ++next_) {
      const auto weight = weights.find(kept_[next_].first);
      if (weight == weights.end()) throw Error("the server rank sent no weight for client {}", kept_[next_].first);
      partial.add(kept_[next_].second, weight->second);
      kept_[next_].second = torch::Tensor();
    }
    return std::pair{block, std::move(partial)};
  }

  std::vector<RankUpload> uploads;  // in client order

 private:
  void take(CheckedUpdate& one, bool export_personal) {
    ClientUpdate& update = one.update;
    RankUpload upload;
    upload.facts.client = update.client;
    upload.refusal = one.refusal;
    const ClientShard& shard = clients_.data().clients[update.client];
    upload.train_size = shard.trainSize();
    upload.test_size = shard.testSize();
    if (one.refusal.empty()) {
      upload.facts.num_samples = update.num_samples;
      upload.facts.has_params = update.params.defined();
      upload.facts.metrics = std::move(update.metrics);
      // The personalised model is the upload unless the client sent one apart (as the engine exports it).
      if (export_personal) upload.personal = update.personal.defined() ? update.personal : update.params;
      if (update.params.defined()) kept_.emplace_back(update.client, update.params);
    }
    uploads.push_back(std::move(upload));
  }

  // The aggregation's scores of the uploads from `first` on, whose parameters are kept from
  // `kept_at` on (stacked by block, as the server half scores them in one process).
  void score(std::size_t first, std::size_t kept_at, UploadScoreCache& scores) {
    std::vector<RankUpload*> scored;
    std::vector<torch::Tensor> params;
    std::vector<std::int64_t> blocks;
    for (std::size_t i = first; i < uploads.size(); ++i) {
      if (!uploads[i].facts.has_params) continue;
      scored.push_back(&uploads[i]);
      params.push_back(kept_[kept_at++].second);
      blocks.push_back(aggregationBlockOf(uploads[i].facts.client));
    }
    const std::vector<EvalResult> results = scores.evaluateEach(params, *score_samples_, blocks);
    for (std::size_t j = 0; j < scored.size(); ++j) scored[j]->facts.score = results[j];
  }

  InProcessClients& clients_;
  ServerEvaluator& evaluator_;
  std::optional<std::int64_t> score_samples_;
  std::vector<std::pair<std::int64_t, torch::Tensor>> kept_;  // (client, upload), ascending
  std::size_t next_ = 0;
};

// The weights as (client, weight) pairs, so that each rank finds those of its own uploads.
std::string encodeClientWeights(const std::vector<UploadFacts>& facts, const std::vector<double>& weights) {
  if (weights.size() != facts.size())
    throw Error("the aggregation gave {} weights for {} uploads", weights.size(), facts.size());
  std::vector<double> pairs;
  for (std::size_t i = 0; i < facts.size(); ++i)
    pairs.push_back(static_cast<double>(facts[i].client)), pairs.push_back(weights[i]);
  return encodeWeights(pairs);
}

std::map<std::int64_t, double> decodeClientWeights(const std::string& bytes, std::size_t participants) {
  const std::vector<double> pairs = decodeWeights(bytes, 2 * participants);
  std::map<std::int64_t, double> weights;
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) weights[static_cast<std::int64_t>(pairs[i])] = pairs[i + 1];
  return weights;
}

// The server rank's reach: participants trained where they are owned, uploads weighed by the
// server half from their facts, block sums added in block order.
class ShardedReach final : public ClientReach {
 public:
  ShardedReach(const MpiWorld& world, MpiShards& shards, InProcessClients& local, WeightedAggregation& aggregation,
               ServerEvaluator& evaluator)
      : world_(world), shards_(shards), local_(local), aggregation_(aggregation), evaluator_(evaluator) {}

  std::optional<std::vector<std::int64_t>> candidates(std::int64_t round) override { return local_.candidates(round); }
  void complete(RoundRecord& record, const torch::Tensor& global) override { local_.complete(record, global); }

  RoundOutcome collect(const ServerMessage& message, const std::vector<std::int64_t>& participants,
                       UpdateIntake& intake, std::string& /*why*/) override {
    Command command{Command::Kind::Round, {}, false, message, participants};
    std::string bytes = encodeCommand(command);
    world_.broadcast(bytes);

    const std::int64_t model_size = message.global.numel();
    RankRound mine(local_, evaluator_, aggregation_.uploadScoreSamples());
    mine.train(message, ownedBy(shards_, participants));
    std::vector<std::vector<RankUpload>> from(static_cast<std::size_t>(shards_.size()));
    from[0] = std::move(mine.uploads);
    const std::int64_t limit =
        static_cast<std::int64_t>(participants.size()) * (4 * model_size + (1 << 16)) + (1 << 20);
    std::int64_t gathered = 0;
    for (int r = 1; r < shards_.size(); ++r) {
      const std::string uploads = world_.receive(r, kUploadsTag, limit);
      gathered += static_cast<std::int64_t>(uploads.size());
      from[r] = decodeUploads(uploads, r);
    }

    std::vector<UploadFacts> facts;
    std::vector<std::size_t> next(from.size(), 0);
    for (std::int64_t client : participants) {
      const auto owner = static_cast<std::size_t>(shards_.ownerOf(client));
      if (next[owner] >= from[owner].size() || from[owner][next[owner]].facts.client != client)
        throw Error("round {}: rank {} did not report client {} in its turn", message.round, owner, client);
      RankUpload& upload = from[owner][next[owner]++];
      if (!upload.refusal.empty()) {
        intake.refuse(client, upload.refusal);
        continue;
      }
      ClientUpdate update;  // the upload stays with its rank: only what the server needs arrives
      update.client = client;
      update.round = message.round;
      update.num_samples = upload.facts.num_samples;
      update.metrics = upload.facts.metrics;
      update.personal = std::move(upload.personal);
      intake.accept(std::move(update), upload.train_size, upload.test_size);
      facts.push_back(std::move(upload.facts));
    }

    const std::vector<double> weights = aggregation_.weigh(message.round, facts);
    std::string weight_bytes = encodeClientWeights(facts, weights);
    world_.broadcast(weight_bytes);
    const std::map<std::int64_t, double> by_client = decodeClientWeights(weight_bytes, participants.size());

    std::vector<std::int64_t> blocks;
    for (const UploadFacts& upload : facts)
      if (upload.has_params && (blocks.empty() || blocks.back() != aggregationBlockOf(upload.client)))
        blocks.push_back(aggregationBlockOf(upload.client));
    BlockedSum sum;
    for (std::int64_t block : blocks) {
      const int owner = shards_.ownerOfBlock(block);
      if (owner == 0) {
        auto partial = mine.nextBlock(by_client);
        if (!partial || partial->first != block)
          throw Error("round {}: the server rank lost block {}", message.round, block);
        sum.addBlock(block, partial->second);
      } else {
        const std::string partial = world_.receive(owner, kBlockTag, 8 * model_size + (1 << 16));
        gathered += static_cast<std::int64_t>(partial.size());
        sum.addBlock(block, decodeBlock(partial, block, model_size, owner));
      }
    }
    intake.aggregated(aggregation_.finish(message.round, sum, evaluator_));
    shards_.countRound(static_cast<std::int64_t>(bytes.size() + weight_bytes.size()), gathered);
    return RoundOutcome::Collected;
  }

 private:
  const MpiWorld& world_;
  MpiShards& shards_;
  InProcessClients& local_;
  WeightedAggregation& aggregation_;
  ServerEvaluator& evaluator_;
};

}  // namespace

std::unique_ptr<ClientReach> MpiShards::startRun(const Config& config, bool validation_view, InProcessClients& local,
                                                 ServerAlgorithm& server, ServerEvaluator& evaluator) {
  WeightedAggregation* aggregation = server.weightedAggregation();
  if (!aggregation && robustAtAggregation(config.robust))
    throw Error(
        "{} under mpirun: the [robust] settings (robust.rule = '{}', or clipping) need every upload itself "
        "at the server, which a sharded simulation keeps where it was trained; run it in one process "
        "(without mpirun), or drop those settings",
        config.algorithm.name, excerpt(config.robust.rule));
  if (!aggregation)
    throw Error(
        "{} under mpirun: this algorithm's server needs every upload itself, which a sharded simulation "
        "keeps where it was trained; run it in one process (without mpirun), or choose an algorithm whose "
        "server takes a weighted sum (fedavg, fedprox, fedavg-ft, ditto, fedala, page, ...)",
        config.algorithm.name);
  std::string bytes = encodeCommand({Command::Kind::StartRun, toToml(config), validation_view, {}, {}});
  world_.broadcast(bytes);
  in_run_ = true;
  return std::make_unique<ShardedReach>(world_, *this, local, *aggregation, evaluator);
}

void MpiShards::countRound(std::int64_t broadcast_bytes, std::int64_t gathered_bytes) {
  ++rounds_;
  broadcast_bytes_ += broadcast_bytes;
  gathered_bytes_ += gathered_bytes;
}

void MpiShards::endRun() {
  if (rounds_ > 0)
    spdlog::info(
        "mpi: {} rounds over {} ranks; per round {:.1f} KiB broadcast to each rank and {:.1f} KiB gathered "
        "from the other ranks in all",
        rounds_, size(), static_cast<double>(broadcast_bytes_) / 1024.0 / static_cast<double>(rounds_),
        static_cast<double>(gathered_bytes_) / 1024.0 / static_cast<double>(rounds_));
  rounds_ = broadcast_bytes_ = gathered_bytes_ = 0;
  std::string bytes = encodeCommand({Command::Kind::EndRun, {}, false, {}, {}});
  world_.broadcast(bytes);
  in_run_ = false;
}

void MpiShards::shutdown() {
  std::string bytes = encodeCommand({Command::Kind::Shutdown, {}, false, {}, {}});
  world_.broadcast(bytes);
}

namespace {

Command nextCommand(const MpiWorld& world) {
  std::string bytes;
  world.broadcast(bytes);
  return decodeCommand(bytes);
}

// One run as a follower: the clients this rank owns, trained when the server rank says.
void followRun(const MpiWorld& world, const SimulationShards& shards, const Command& start) {
  const Config config = parseConfig(start.config_toml);
  FederatedDataset data = buildFederatedDataset(config, dataSelection(config));
  spdlog::info("rank {}: {} local samples read (its clients' and every client's validation split)", world.rank(),
               data.local.size());
  if (start.validation_view) data = validationView(data);
  LocalSimulation local(config, data);
  WeightedAggregation* aggregation = local.algorithm.server->weightedAggregation();
  if (!aggregation) throw Error("{}: the server rank started a run this rank cannot aggregate", config.algorithm.name);
  for (;;) {
    const Command command = nextCommand(world);
    if (command.kind == Command::Kind::EndRun) return;
    if (command.kind != Command::Kind::Round) throw Error("the server rank sent a command out of turn");
    dieWhenTestAsks(world.rank(), command.message.round);
    RankRound mine(local.clients, local.evaluator, aggregation->uploadScoreSamples());
    mine.train(command.message, ownedBy(shards, command.participants));
    world.send(encodeUploads(mine.uploads), 0, kUploadsTag);
    std::string weight_bytes;
    world.broadcast(weight_bytes);
    const std::map<std::int64_t, double> weights = decodeClientWeights(weight_bytes, command.participants.size());
    while (auto block = mine.nextBlock(weights)) world.send(encodeBlock(block->first, block->second), 0, kBlockTag);
  }
}

}  // namespace

void MpiShards::followRuns() {
  for (;;) {
    const Command command = nextCommand(world_);
    if (command.kind == Command::Kind::Shutdown) return;
    if (command.kind != Command::Kind::StartRun) throw Error("the server rank sent a command out of turn");
    followRun(world_, *this, command);
  }
}

}  // namespace pagefl::mpi
