// The data of a federated run: every client's local train and test samples, stored once,
// contiguously, client after client, so a client's data is a zero-copy view; and the server's
// test set. A deterministic function of (dataset, partition scheme and parameters, seed).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/data/dataset.h"

namespace pagefl {

// A client's samples in FederatedDataset::local: train, then validation (carved from its training
// data by partition.validation_fraction; empty by default), then test.
struct ClientShard {
  std::string name;
  std::int64_t begin = 0;           // first train sample
  std::int64_t train_end = 0;       // end of train = first validation sample
  std::int64_t validation_end = 0;  // end of validation = first test sample
  std::int64_t end = 0;             // end of test
  std::vector<std::int64_t> train_label_counts;  // per class, known even when its samples were not read
  bool samples_read = true;                      // false: train and test left unread (ClientSelection)
  std::int64_t trainSize() const { return train_end - begin; }
  std::int64_t validationSize() const { return validation_end - train_end; }
  std::int64_t testSize() const { return end - validation_end; }
};

struct FederatedDataset {
  Dataset local;
  std::vector<ClientShard> clients;
  Dataset server_test;
  std::int64_t num_classes = 0;
  bool is_validation_view = false;  // made by validationView()

  std::int64_t numClients() const { return static_cast<std::int64_t>(clients.size()); }
  Dataset clientTrain(std::int64_t c) const { return local.slice(clients[c].begin, clients[c].train_end); }
  Dataset clientValidation(std::int64_t c) const { return local.slice(clients[c].train_end, clients[c].validation_end); }
  Dataset clientTest(std::int64_t c) const { return local.slice(clients[c].validation_end, clients[c].end); }
  std::vector<std::int64_t> sampleShape() const { return server_test.sampleShape(); }
};

// Which clients' samples a process reads: every client's by default; under mpirun a rank's own
// (sim/sharding.h). The others' shards keep their name and label counts, and their validation
// samples, which tuning pools as the server test set on every rank; their train and test splits
// are empty. Image sources then read only the samples kept; synthetic data is drawn and LEAF
// files parsed whole, and what is not kept is dropped at once.
struct ClientSelection {
  std::function<bool(std::int64_t)> reads;  // null: every client
  bool readsClient(std::int64_t client) const { return !reads || reads(client); }
};

FederatedDataset buildFederatedDataset(const Config& config, const ClientSelection& selection = {});

// The seed of every draw of the data (subsets, the partition, the local splits): partition.seed,
// or run.seed when it is 0. A deployed server draws its server test set with it too, so that a
// model file's config tells anyone which samples its run scored it on.
std::uint64_t dataSeed(const Config& config);

// The same federation with every client's validation split in place of its test split and all
// validation splits pooled as the server test set: what tuning trains and scores on, so that it
// never reads a test split. Throws pagefl::Error when a client has no validation samples.
FederatedDataset validationView(const FederatedDataset& data);

// A per-client table: sizes and label histogram, for `pagefl partition`.
std::string partitionReport(const FederatedDataset& data);

// Writes train.json, test.json (one LEAF user per client) and server_test.json into `directory`.
void exportLeaf(const FederatedDataset& data, const std::string& directory);

}  // namespace pagefl
