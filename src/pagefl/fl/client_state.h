// The ClientState store: all per-client state of an algorithm (personal models, control
// variates, agents), keyed by client id. A client costs memory only for what its algorithm
// keeps; plain FedAvg keeps nothing here.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace pagefl {

class ClientState {
 public:
  bool has(const std::string& key) const { return tensors_.count(key) > 0; }
  torch::Tensor& tensor(const std::string& key) { return tensors_[key]; }
  const std::map<std::string, torch::Tensor>& tensors() const { return tensors_; }
  std::int64_t bytes() const;

 private:
  std::map<std::string, torch::Tensor> tensors_;
};

// Thread-safe lookup; each client's state is touched by one task at a time, so the state itself
// needs no lock.
class ClientStateStore {
 public:
  ClientState& at(std::int64_t client);
  std::int64_t size() const;
  std::int64_t bytes() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::int64_t, std::unique_ptr<ClientState>> states_;
};

}  // namespace pagefl
