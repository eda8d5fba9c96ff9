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

// A client's n samples in their split order (a permutation drawn from the client's own stream):
// the first `fit` train, those up to `train_end` are validation, the rest test. The validation
// split is the last share of the training samples, so a client's test split is the same with or
// without it.
struct LocalSplit {
  torch::Tensor order;
  std::int64_t fit = 0, train_end = 0;
};

LocalSplit localSplit(std::int64_t n, const Config& config, const RngStreams& streams, std::int64_t client) {
  auto gen = streams.torchGenerator(Purpose::LocalSplit, kNoRound, client);
  LocalSplit split{torch::randperm(n, gen, torch::kInt64)};
  split.train_end = trainCount(n, config.partition.train_fraction);
  split.fit = split.train_end - validationCount(split.train_end, config.partition.validation_fraction);
  return split;
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

  // The next client, from its samples (those of a client not read: only its validation split,
  // which federated_dataset.h says why it keeps) and the labels of its training split.
  void add(const ClientSplit<Dataset>& client, const torch::Tensor& train_labels) {
    const auto c = static_cast<std::int64_t>(out_.clients.size());
    const bool read = selection_.readsClient(c);
    parts_.insert(parts_.end(), {client.train, client.validation, client.test});
    const std::int64_t train_end = offset_ + client.train.size();
    const std::int64_t validation_end = train_end + client.validation.size();
    out_.clients.push_back({client.name, offset_, train_end, validation_end, validation_end + client.test.size(),
                            labelHistogram(train_labels, num_classes_), read});
    offset_ = out_.clients.back().end;
  }
  void add(const ClientSplit<Dataset>& client) {
    const bool read = selection_.readsClient(static_cast<std::int64_t>(out_.clients.size()));
    const Dataset none = client.validation.slice(0, 0);
    add({client.name, read ? client.train : none, client.validation, read ? client.test : none}, client.train.y);
  }

  FederatedDataset finish(Dataset server_test) {
    out_.local = concatenate(parts_);
    out_.local.x = out_.local.x.contiguous();
    parts_.clear();
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

// The pool's clients into `federation`: their rows split first, so that one pass over the source
// reads the samples kept and no other.
void addPartitioned(FederationBuilder& federation, const SamplePool& pool, const ClientIndices& indices,
                    const ClientSelection& selection, const Config& config, const RngStreams& streams) {
  std::vector<ClientSplit<torch::Tensor>> splits;
  std::vector<std::int64_t> kept;
  for (std::size_t c = 0; c < indices.size(); ++c) {
    const auto client = static_cast<std::int64_t>(c);
    const torch::Tensor rows = torch::tensor(indices[c], torch::kInt64);
    const LocalSplit split = localSplit(rows.numel(), config, streams, client);
    const torch::Tensor order = rows.index_select(0, split.order);
    splits.push_back({fmt::format("client_{}", c), order.slice(0, 0, split.fit),
                      order.slice(0, split.fit, split.train_end), order.slice(0, split.train_end)});
    const bool read = selection.readsClient(client);
    for (const torch::Tensor* part : {&splits.back().train, &splits.back().validation, &splits.back().test})
      if (read || part == &splits.back().validation)
        kept.insert(kept.end(), part->data_ptr<std::int64_t>(), part->data_ptr<std::int64_t>() + part->numel());
  }
  std::sort(kept.begin(), kept.end());
  const Dataset read = pool.read(kept);
  // Where each kept pool row lies in `read`.
  torch::Tensor at = torch::full({pool.size()}, -1, torch::kInt64);
  at.index_put_({torch::tensor(kept, torch::kInt64)}, torch::arange(static_cast<std::int64_t>(kept.size())));
  // Not a view of `read`, which must be freed before the federation is concatenated.
  const Dataset none{read.x.slice(0, 0, 0).clone(), read.y.slice(0, 0, 0).clone()};
  for (std::size_t c = 0; c < splits.size(); ++c) {
    const ClientSplit<torch::Tensor>& rows = splits[c];
    const bool was_read = selection.readsClient(static_cast<std::int64_t>(c));
    auto samples = [&](const torch::Tensor& of) { return read.select(at.index_select(0, of)); };
    federation.add({rows.name, was_read ? samples(rows.train) : none, samples(rows.validation),
                    was_read ? samples(rows.test) : none},
                   pool.labels().index_select(0, rows.train));
  }
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
    addPartitioned(federation, source.pool, partitionPool(config, source, streams), selection, config, streams);
    return federation.finish(source.server_test);
  }
  for (std::size_t c = 0; c < source.natural.size(); ++c) {
    const NaturalClient& client = source.natural[c];
    const auto id = static_cast<std::int64_t>(c);
    if (client.test.size() == 0) {  // split the client's samples
      const LocalSplit split = localSplit(client.local.size(), config, streams, id);
      const Dataset ordered = client.local.select(split.order);
      federation.add({client.name, ordered.slice(0, split.fit), ordered.slice(split.fit, split.train_end),
                      ordered.slice(split.train_end, ordered.size())});
      continue;
    }
    // The source's own test split; the validation split is carved from its training samples.
    const std::int64_t n_validation = validationCount(client.local.size(), validation_fraction);
    if (n_validation == 0) {
      federation.add({client.name, client.local, client.local.slice(0, 0), client.test});
      continue;
    }
    auto gen = streams.torchGenerator(Purpose::LocalSplit, kNoRound, id);
    const Dataset ordered = client.local.select(torch::randperm(client.local.size(), gen, torch::kInt64));
    const std::int64_t n_fit = client.local.size() - n_validation;
    federation.add({client.name, ordered.slice(0, n_fit), ordered.slice(n_fit, ordered.size()), client.test});
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
