// The ClientState store: all per-client state of an algorithm (personal models, control
// variates, agents), keyed by client id. A client costs memory only for what its algorithm
// keeps; plain FedAvg keeps nothing here.
#pragma once

#include <torch/types.h>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pagefl/fl/state_spill_file.h"

namespace pagefl {

class ClientState {
 public:
  bool has(const std::string& key) const { return tensors_.count(key) > 0; }
  torch::Tensor& tensor(const std::string& key) { return tensors_[key]; }
  const std::map<std::string, torch::Tensor>& tensors() const { return tensors_; }
  // Tensor bytes only; objects (agents) are not counted.
  std::int64_t bytes() const;

  // A stateful object (an RL agent, say) kept for this client, made on first use. T saves itself
  // to a std::ostream and loads from a std::istream, so that a deployed client's state persists.
  template <typename T>
  T& object(const std::string& key, const std::function<std::unique_ptr<T>()>& make) {
    ObjectSlot& slot = objects_[key];
    if (!slot.object) {
      std::shared_ptr<T> made(make());
      if (auto saved = restored_objects_.find(key); saved != restored_objects_.end()) {
        loadObject(saved->second, [&](std::istream& in) { made->load(in); });
        restored_objects_.erase(saved);
      }
      slot.save = [raw = made.get()](std::ostream& out) { raw->save(out); };
      slot.object = std::move(made);
    }
    return *static_cast<T*>(slot.object.get());
  }

  // The whole state as named tensors (objects as their saved bytes), and back. Restored objects
  // are loaded when their algorithm first asks for them.
  std::map<std::string, torch::Tensor> save() const;
  void restore(const std::map<std::string, torch::Tensor>& saved);

 private:
  struct ObjectSlot {
    std::shared_ptr<void> object;
    std::function<void(std::ostream&)> save;
  };
  static void loadObject(const std::string& bytes, const std::function<void(std::istream&)>& load);

  std::map<std::string, torch::Tensor> tensors_;
  std::map<std::string, ObjectSlot> objects_;
  std::map<std::string, std::string> restored_objects_;
};

// Thread-safe lookup; each client's state is touched by one task at a time, so the state itself
// needs no lock. With a memory budget, the least recently used states beyond it go to a spill
// file on local disk (StateSpillFile) and come back when their client next needs them; results
// are the same as with everything in memory.
class ClientStateStore {
 public:
  ClientStateStore();  // everything in memory
  // Keeps at most `memory_bytes` of state in memory after each enforceBudget(), spilling the rest
  // to a file in `spill_directory`. 0: no budget.
  ClientStateStore(std::int64_t memory_bytes, const std::string& spill_directory);
  ~ClientStateStore();

  // The client's state; a spilled one is read back first. Throws pagefl::Error when the spill
  // file cannot be read.
  ClientState& at(std::int64_t client);
  // Spills the least recently used states until those in memory fit the budget. Call only while
  // no task holds a state (between chunks of a round). Throws pagefl::Error on a full or damaged disk.
  void enforceBudget();

  std::int64_t size() const;
  std::int64_t bytes() const;        // every client's tensor bytes, in memory or spilled
  std::int64_t memoryBytes() const;  // those in memory

 private:
  mutable std::mutex mutex_;
  std::map<std::int64_t, std::unique_ptr<ClientState>> states_;
  std::map<std::int64_t, std::uint64_t> last_use_;
  std::map<std::int64_t, std::int64_t> spilled_bytes_;  // clients whose state is in the spill file
  std::uint64_t uses_ = 0;
  std::int64_t budget_ = 0;
  std::unique_ptr<StateSpillFile> spill_;
};

}  // namespace pagefl
