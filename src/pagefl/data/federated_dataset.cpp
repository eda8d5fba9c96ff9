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
    return partitionDirichlet(source.pool.y, source.num_classes, p.num_clients, p.alpha, p.min_size, p.max_retries,
                              rng);
  if (p.scheme == "shards") return partitionShards(source.pool.y, p.num_clients, p.shards_per_client, rng);
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

FederatedDataset buildFederatedDataset(const Config& config) {
  const RngStreams streams(dataSeed(config));
  const bool natural = config.partition.scheme == "natural";
  if (natural && config.data.source != "synthetic" && config.data.source != "leaf")
    throw Error("partition.scheme = \"natural\" needs a naturally partitioned source (synthetic or leaf), not \"{}\"",
                config.data.source);
  SourceData source = loadSource(config, streams);

  // Each client as (train, test) parts, in client order.
  std::vector<Dataset> parts;
  FederatedDataset out;
  std::int64_t offset = 0;
  auto addClient = [&](std::string name, const Dataset& train, const Dataset& validation, const Dataset& test) {
    parts.insert(parts.end(), {train, validation, test});
    const std::int64_t train_end = offset + train.size(), validation_end = train_end + validation.size();
    ClientShard shard{std::move(name), offset, train_end, validation_end, validation_end + test.size()};
    offset = shard.end;
    out.clients.push_back(shard);
  };
  // The validation split is the last share of the training samples in the client's split order,
  // so a client's test split is the same with or without it.
  const double validation_fraction = config.partition.validation_fraction;
  auto splitAndAdd = [&](std::string name, const Dataset& local, std::int64_t client) {
    auto gen = streams.torchGenerator(Purpose::LocalSplit, kNoRound, client);
    auto order = torch::randperm(local.size(), gen, torch::kInt64);
    const std::int64_t n_train = trainCount(local.size(), config.partition.train_fraction);
    const std::int64_t n_fit = n_train - validationCount(n_train, validation_fraction);
    addClient(std::move(name), local.select(order.slice(0, 0, n_fit)), local.select(order.slice(0, n_fit, n_train)),
              local.select(order.slice(0, n_train)));
  };

  if (natural) {
    for (std::size_t c = 0; c < source.natural.size(); ++c) {
      const NaturalClient& client = source.natural[c];
      const std::int64_t n_validation = validationCount(client.local.size(), validation_fraction);
      if (client.test.size() > 0 && n_validation == 0) {
        addClient(client.name, client.local, client.local.slice(0, 0), client.test);
      } else if (client.test.size() > 0) {
        auto gen = streams.torchGenerator(Purpose::LocalSplit, kNoRound, static_cast<std::int64_t>(c));
        auto order = torch::randperm(client.local.size(), gen, torch::kInt64);
        const std::int64_t n_fit = client.local.size() - n_validation;
        addClient(client.name, client.local.select(order.slice(0, 0, n_fit)), client.local.select(order.slice(0, n_fit)),
                  client.test);
      } else
        splitAndAdd(client.name, client.local, static_cast<std::int64_t>(c));
    }
  } else {
    ClientIndices indices = partitionPool(config, source, streams);
    for (std::size_t c = 0; c < indices.size(); ++c) {
      auto idx = torch::tensor(indices[c], torch::kInt64);
      splitAndAdd(fmt::format("client_{}", c), source.pool.select(idx), static_cast<std::int64_t>(c));
    }
  }

  out.local = concatenate(parts);
  out.local.x = out.local.x.contiguous();
  out.server_test = source.server_test;
  out.num_classes = source.num_classes;
  if (out.local.sampleShape() != out.server_test.sampleShape())
    throw Error("client samples have shape [{}] but server test samples [{}]: the data files do not match",
                fmt::join(out.local.sampleShape(), ", "), fmt::join(out.server_test.sampleShape(), ", "));
  return out;
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
    view.clients.push_back({shard.name, shard.begin, shard.train_end, shard.train_end, shard.validation_end});
    pooled.push_back(data.clientValidation(c));
  }
  view.server_test = concatenate(pooled);
  view.is_validation_view = true;
  return view;
}

FederatedDataset keepClients(const FederatedDataset& data, const std::function<bool(std::int64_t)>& keep) {
  FederatedDataset kept;
  kept.server_test = data.server_test;
  kept.num_classes = data.num_classes;
  kept.is_validation_view = data.is_validation_view;
  std::vector<Dataset> parts;
  std::int64_t at = 0;
  for (std::int64_t c = 0; c < data.numClients(); ++c) {
    const ClientShard& shard = data.clients[c];
    if (!keep(c)) {
      kept.clients.push_back({shard.name, at, at, at, at});
      continue;
    }
    parts.push_back(data.local.slice(shard.begin, shard.end));
    const std::int64_t begin = at;
    at += shard.end - shard.begin;
    kept.clients.push_back(
        {shard.name, begin, begin + shard.trainSize(), begin + shard.trainSize() + shard.validationSize(), at});
  }
  // Copies, so that what other ranks own is freed with `data`.
  kept.local = parts.empty() ? Dataset{data.local.x.slice(0, 0, 0).clone(), data.local.y.slice(0, 0, 0).clone()}
                             : concatenate(parts);
  return kept;
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
