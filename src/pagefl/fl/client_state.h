// The ClientState store: all per-client state of an algorithm (personal models, control
// variates, agents), keyed by client id. A client costs memory only for what its algorithm
// keeps; plain FedAvg keeps nothing here.
#pragma once

#include <torch/types.h>

#include <functional>
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
  // Tensor bytes only; objects (agents) are not counted.
  std::int64_t bytes() const;

  // A stateful object (an RL agent, say) kept for this client, made on first use.
  template <typename T>
  T& object(const std::string& key, const std::function<std::unique_ptr<T>()>& make) {
    auto& slot = objects_[key];
    if (!slot) slot = std::shared_ptr<T>(make());
    return *static_cast<T*>(slot.get());
  }

 private:
  std::map<std::string, torch::Tensor> tensors_;
  std::map<std::string, std::shared_ptr<void>> objects_;
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
