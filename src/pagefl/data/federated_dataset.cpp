#include "pagefl/data/federated_dataset.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "pagefl/core/error.h"
#include "pagefl/core/rng.h"
#include "pagefl/data/data_source.h"
#include "pagefl/data/leaf_json.h"
#include "pagefl/data/partition.h"

namespace pagefl {
namespace {

// Fewer samples per client on average than this cannot give a client both a train and a test
// split worth the name.
constexpr std::int64_t kFewestSamplesPerClient = 10;

ClientIndices partitionPool(const Config& config, const SourceData& source, const RngStreams& streams) {
  const PartitionConfig& p = config.partition;
  auto rng = streams.engine(Purpose::Partition);
  if (source.pool.size() == 0)
    throw Error("data.source = \"{}\" has no pooled samples to partition", config.data.source);
  const std::int64_t samples = source.pool.size();
  if (p.num_clients > samples)
    throw Error("partition.num_clients = {} is more than the {} samples to share out: {} clients would hold no data; "
                "lower partition.num_clients or use more data",
                p.num_clients, samples, p.num_clients - samples);
  if (samples < kFewestSamplesPerClient * p.num_clients)
    spdlog::warn("partition.num_clients = {} over {} samples leaves about {} samples per client, too few to train and "
                 "test on; results will be noise",
                 p.num_clients, samples, samples / p.num_clients);
  if (p.scheme == "iid") return partitionIid(source.pool.size(), p.num_clients, rng);
  if (p.scheme == "dirichlet")
    return partitionDirichlet(source.pool.labels(), source.num_classes, p.num_clients, p.alpha, p.min_size,
                              p.max_retries, rng);
  if (p.scheme == "shards") return partitionShards(source.pool.labels(), p.num_clients, p.shards_per_client, rng);
  throw Error("unknown partition.scheme '{}'", p.scheme);
}

// How many of a client's n samples train; keeps at least one sample on each side when it can.
std::int64_t trainCount(std::int64_t n, double fraction) {
  auto count = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(n)));
  const std::int64_t most = fraction < 1.0 && n >= 2 ? n - 1 : n;
  return std::clamp(count, std::min<std::int64_t>(1, n), most);
}

// How many of a client's n_train training samples become validation; keeps at least one on each
// side when it can.
std::int64_t validationCount(std::int64_t n_train, double fraction) {
  if (fraction <= 0 || n_train < 2) return 0;
  const auto count = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(n_train)));
  return std::clamp<std::int64_t>(count, 1, n_train - 1);
}

}  // namespace

std::uint64_t dataSeed(const Config& config) {
  return static_cast<std::uint64_t>(config.partition.seed ? config.partition.seed : config.run.seed);
}

namespace {

// A client's samples as they are split: rows of the pool, or samples in memory.
template <typename Samples>
struct ClientSplit {
  std::string name;
  Samples train, validation, test;
};

// The federation assembled client after client, each client's samples one contiguous range.
class FederationBuilder {
 public:
  FederationBuilder(const ClientSelection& selection, std::int64_t num_classes)
      : selection_(selection), num_classes_(num_classes) {}

  // A client not read keeps its validation samples alone (federated_dataset.h says why).
  void add(const ClientSplit<Dataset>& client) {
    const auto c = static_cast<std::int64_t>(out_.clients.size());
    const bool read = selection_.readsClient(c);
    const Dataset none = client.validation.slice(0, 0);
    const Dataset& train = read ? client.train : none;
    const Dataset& test = read ? client.test : none;
    parts_.insert(parts_.end(), {train, client.validation, test});
    const std::int64_t train_end = offset_ + train.size(), validation_end = train_end + client.validation.size();
    out_.clients.push_back({client.name, offset_, train_end, validation_end, validation_end + test.size(),
                            labelHistogram(client.train.y, num_classes_), read});
    offset_ = out_.clients.back().end;
  }

  FederatedDataset finish(Dataset server_test) {
    out_.local = concatenate(parts_);
    out_.local.x = out_.local.x.contiguous();
    out_.server_test = std::move(server_test);
    out_.num_classes = num_classes_;
    if (out_.local.sampleShape() != out_.server_test.sampleShape())
      throw Error("client samples have shape [{}] but server test samples [{}]: the data files do not match",
                  fmt::join(out_.local.sampleShape(), ", "), fmt::join(out_.server_test.sampleShape(), ", "));
    return std::move(out_);
  }

 private:
  const ClientSelection& selection_;
  std::int64_t num_classes_;
  std::vector<Dataset> parts_;
  std::int64_t offset_ = 0;
  FederatedDataset out_;
};

// The pool's clients: their rows split first, so that one pass reads the samples kept and no other.
std::vector<ClientSplit<Dataset>> readPartitioned(const SamplePool& pool, const ClientIndices& indices,
                                                  const ClientSelection& selection, const Config& config,
                                                  const RngStreams& streams) {
  std::vector<ClientSplit<torch::Tensor>> splits;
  std::vector<std::int64_t> kept;
  for (std::size_t c = 0; c < indices.size(); ++c) {
    const auto client = static_cast<std::int64_t>(c);
    const torch::Tensor rows = torch::tensor(indices[c], torch::kInt64);
    auto gen = streams.torchGenerator(Purpose::LocalSplit, kNoRound, client);
    const torch::Tensor order = rows.index_select(0, torch::randperm(rows.numel(), gen, torch::kInt64));
    const std::int64_t n_train = trainCount(rows.numel(), config.partition.train_fraction);
    const std::int64_t n_fit = n_train - validationCount(n_train, config.partition.validation_fraction);
    splits.push_back({fmt::format("client_{}", c), order.slice(0, 0, n_fit), order.slice(0, n_fit, n_train),
                      order.slice(0, n_train)});
    for (const torch::Tensor* part : {&splits.back().train, &splits.back().validation, &splits.back().test}) {
      if (part != &splits.back().validation && !selection.readsClient(client)) continue;
      kept.insert(kept.end(), part->data_ptr<std::int64_t>(), part->data_ptr<std::int64_t>() + part->numel());
    }
  }
  std::sort(kept.begin(), kept.end());
  const Dataset read = pool.read(kept);
  // Where each kept pool row lies in `read`.
  torch::Tensor at = torch::full({pool.size()}, -1, torch::kInt64);
  at.index_put_({torch::tensor(kept, torch::kInt64)}, torch::arange(static_cast<std::int64_t>(kept.size())));
  auto samples = [&](const torch::Tensor& rows, bool was_read) {
    if (!was_read) return Dataset{read.x.slice(0, 0, 0), pool.labels().index_select(0, rows)};  // labels only
    return read.select(at.index_select(0, rows));
  };
  std::vector<ClientSplit<Dataset>> clients;
  for (std::size_t c = 0; c < splits.size(); ++c) {
    const bool was_read = selection.readsClient(static_cast<std::int64_t>(c));
    clients.push_back({splits[c].name, samples(splits[c].train, was_read), samples(splits[c].validation, true),
                       samples(splits[c].test, was_read)});
  }
  return clients;
}

}  // namespace

FederatedDataset buildFederatedDataset(const Config& config, const ClientSelection& selection) {
  const RngStreams streams(dataSeed(config));
  const bool natural = config.partition.scheme == "natural";
  if (natural && config.data.source != "synthetic" && config.data.source != "leaf")
    throw Error("partition.scheme = \"natural\" needs a naturally partitioned source (synthetic or leaf), not \"{}\"",
                config.data.source);
  SourceData source = loadSource(config, streams);
  FederationBuilder federation(selection, source.num_classes);
  const double validation_fraction = config.partition.validation_fraction;

  if (!natural) {
    const ClientIndices indices = partitionPool(config, source, streams);
    for (const ClientSplit<Dataset>& client : readPartitioned(source.pool, indices, selection, config, streams))
      federation.add(client);
    return federation.finish(source.server_test);
  }
  for (std::size_t c = 0; c < source.natural.size(); ++c) {
    const NaturalClient& client = source.natural[c];
    // The validation split is the last share of the training samples in the client's split order,
    // so a client's test split is the same with or without it.
    auto gen = streams.torchGenerator(Purpose::LocalSplit, kNoRound, static_cast<std::int64_t>(c));
    if (client.test.size() > 0) {
      const std::int64_t n_validation = validationCount(client.local.size(), validation_fraction);
      if (n_validation == 0) {
        federation.add({client.name, client.local, client.local.slice(0, 0), client.test});
        continue;
      }
      auto order = torch::randperm(client.local.size(), gen, torch::kInt64);
      const std::int64_t n_fit = client.local.size() - n_validation;
      federation.add({client.name, client.local.select(order.slice(0, 0, n_fit)),
                      client.local.select(order.slice(0, n_fit)), client.test});
    } else {
      auto order = torch::randperm(client.local.size(), gen, torch::kInt64);
      const std::int64_t n_train = trainCount(client.local.size(), config.partition.train_fraction);
      const std::int64_t n_fit = n_train - validationCount(n_train, validation_fraction);
      federation.add({client.name, client.local.select(order.slice(0, 0, n_fit)),
                      client.local.select(order.slice(0, n_fit, n_train)),
                      client.local.select(order.slice(0, n_train))});
    }
  }
  return federation.finish(source.server_test);
}

FederatedDataset validationView(const FederatedDataset& data) {
  FederatedDataset view;
  view.local = data.local;
  view.num_classes = data.num_classes;
  std::vector<Dataset> pooled;
  for (std::int64_t c = 0; c < data.numClients(); ++c) {
    const ClientShard& shard = data.clients[c];
    if (shard.validationSize() == 0)
      throw Error("client {} has no validation samples, which tuning scores on: set partition.validation_fraction "
                  "above 0 (e.g. 0.2), and give each client at least 2 training samples",
                  shard.name);
    view.clients.push_back({shard.name, shard.begin, shard.train_end, shard.train_end, shard.validation_end,
                            shard.train_label_counts, shard.samples_read});
    pooled.push_back(data.clientValidation(c));
  }
  view.server_test = concatenate(pooled);
  view.is_validation_view = true;
  return view;
}

std::string partitionReport(const FederatedDataset& data) {
  std::string out = fmt::format("{} clients, {} classes, {} local samples, {} server test samples\n",
                                data.numClients(), data.num_classes, data.local.size(), data.server_test.size());
  const bool validation = std::any_of(data.clients.begin(), data.clients.end(),
                                     [](const ClientShard& shard) { return shard.validationSize() > 0; });
  out += fmt::format("{:<14} {:>7} {}{:>7}  label histogram (local train{} + test, classes 0..{})\n", "client", "train",
                     validation ? fmt::format("{:>7} ", "valid") : "", "test", validation ? " + validation" : "",
                     data.num_classes - 1);
  for (std::int64_t c = 0; c < data.numClients(); ++c) {
    const ClientShard& shard = data.clients[c];
    auto histogram = labelHistogram(data.local.y.slice(0, shard.begin, shard.end), data.num_classes);
    out += fmt::format("{:<14} {:>7} {}{:>7}  {}\n", shard.name, shard.trainSize(),
                       validation ? fmt::format("{:>7} ", shard.validationSize()) : "", shard.testSize(),
                       fmt::join(histogram, " "));
  }
  return out;
}

void exportLeaf(const FederatedDataset& data, const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw Error("cannot create export directory '{}': {}", directory, error.message());
  std::vector<LeafUser> train, test;
  for (std::int64_t c = 0; c < data.numClients(); ++c) {
    // A client's training data as it came, its validation split included.
    train.push_back({data.clients[c].name, data.local.slice(data.clients[c].begin, data.clients[c].validation_end)});
    test.push_back({data.clients[c].name, data.clientTest(c)});
  }
  auto dir = std::filesystem::path(directory);
  writeLeafJson((dir / "train.json").string(), train);
  writeLeafJson((dir / "test.json").string(), test);
  writeLeafJson((dir / "server_test.json").string(), {{"server", data.server_test}});
}

}  // namespace pagefl
