#include "pagefl/data/partition.h"

#include <algorithm>
#include <numeric>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

std::vector<std::int64_t> shuffledRange(std::int64_t n, std::mt19937_64& rng) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

// Cuts `items` into `parts` consecutive runs whose sizes differ by at most one.
ClientIndices cutEvenly(const std::vector<std::int64_t>& items, std::int64_t parts) {
  ClientIndices out(static_cast<std::size_t>(parts));
  const auto n = static_cast<std::int64_t>(items.size());
  for (std::int64_t p = 0; p < parts; ++p)
    out[p].assign(items.begin() + p * n / parts, items.begin() + (p + 1) * n / parts);
  return out;
}

std::vector<std::int64_t> toVector(const torch::Tensor& labels) {
  auto y = labels.contiguous();
  return {y.data_ptr<std::int64_t>(), y.data_ptr<std::int64_t>() + y.numel()};
}

}  // namespace

ClientIndices partitionIid(std::int64_t num_samples, std::int64_t num_clients, std::mt19937_64& rng) {
  return cutEvenly(shuffledRange(num_samples, rng), num_clients);
}

ClientIndices partitionDirichlet(const torch::Tensor& labels, std::int64_t num_classes, std::int64_t num_clients,
                                 double alpha, std::int64_t min_size, std::int64_t max_retries, std::mt19937_64& rng) {
  const std::vector<std::int64_t> y = toVector(labels);
  const auto n = static_cast<std::int64_t>(y.size());
  if (num_clients * min_size > n)
    throw Error("cannot give {} clients at least {} samples each from {} samples: lower partition.min_size or "
                "partition.num_clients, or use more data",
                num_clients, min_size, n);

  std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(num_classes));
  for (std::int64_t i = 0; i < n; ++i) by_class[y[i]].push_back(i);
  const double fair_share = static_cast<double>(n) / static_cast<double>(num_clients);
  std::gamma_distribution<double> gamma(alpha, 1.0);

  std::int64_t smallest = 0;
  for (std::int64_t attempt = 0; attempt < max_retries; ++attempt) {
    ClientIndices clients(static_cast<std::size_t>(num_clients));
    for (std::vector<std::int64_t> members : by_class) {
      std::shuffle(members.begin(), members.end(), rng);
      std::vector<double> share(static_cast<std::size_t>(num_clients));
      double total = 0;
      for (std::int64_t c = 0; c < num_clients; ++c) {
        share[c] = gamma(rng);
        if (static_cast<double>(clients[c].size()) >= fair_share) share[c] = 0;
        total += share[c];
      }
      if (total <= 0) {  // every client full or all draws underflowed: fall back to equal shares
        std::fill(share.begin(), share.end(), 1.0);
        total = static_cast<double>(num_clients);
      }
      const auto m = static_cast<double>(members.size());
      double cumulative = 0;
      std::int64_t begin = 0;
      for (std::int64_t c = 0; c < num_clients; ++c) {
        cumulative += share[c];
        std::int64_t end = c + 1 == num_clients ? static_cast<std::int64_t>(members.size())
                                                : static_cast<std::int64_t>(cumulative / total * m);
        end = std::clamp(end, begin, static_cast<std::int64_t>(members.size()));
        clients[c].insert(clients[c].end(), members.begin() + begin, members.begin() + end);
        begin = end;
      }
    }
    smallest = static_cast<std::int64_t>(
        std::min_element(clients.begin(), clients.end(), [](auto& a, auto& b) { return a.size() < b.size(); })->size());
    if (smallest >= min_size) {
      for (auto& client : clients) std::sort(client.begin(), client.end());
      return clients;
    }
  }
  throw Error("Dirichlet partition: no draw in {} attempts gave every client at least {} samples (the smallest had "
              "{}); raise partition.alpha, lower partition.min_size or partition.num_clients, or raise "
              "partition.max_retries",
              max_retries, min_size, smallest);
}

ClientIndices partitionShards(const torch::Tensor& labels, std::int64_t num_clients, std::int64_t shards_per_client,
                              std::mt19937_64& rng) {
  const std::vector<std::int64_t> y = toVector(labels);
  const std::int64_t num_shards = num_clients * shards_per_client;
  if (num_shards > static_cast<std::int64_t>(y.size()))
    throw Error("shards partition needs at least one sample per shard: {} clients x {} shards > {} samples; lower "
                "partition.shards_per_client or partition.num_clients",
                num_clients, shards_per_client, y.size());
  std::vector<std::int64_t> sorted(y.size());
  std::iota(sorted.begin(), sorted.end(), 0);
  std::stable_sort(sorted.begin(), sorted.end(), [&](std::int64_t a, std::int64_t b) { return y[a] < y[b]; });
  ClientIndices shards = cutEvenly(sorted, num_shards);
  std::vector<std::int64_t> order = shuffledRange(num_shards, rng);

  ClientIndices clients(static_cast<std::size_t>(num_clients));
  for (std::int64_t s = 0; s < num_shards; ++s) {
    auto& client = clients[s / shards_per_client];
    const auto& shard = shards[order[s]];
    client.insert(client.end(), shard.begin(), shard.end());
  }
  for (auto& client : clients) std::sort(client.begin(), client.end());
  return clients;
}

}  // namespace pagefl
