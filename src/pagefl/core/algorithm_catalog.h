// The catalog of algorithms. Every algorithm registers itself from its own file (fl/algorithms/):
// its name, a one-line summary with its paper, the hyperparameters `compare --tune` searches for
// it, and the groups of config fields it owns, declared beside it with their defaults, ranges and
// help. The config reads algorithm.name's choices and those fields from here, so nothing else
// lists algorithms. (The factory that builds an algorithm is registered in fl/algorithm.h, a layer
// above.)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <typeindex>
#include <utility>
#include <vector>

namespace pagefl {

class ConfigFieldVisitor;

// One hyperparameter searched: drawn uniformly in [low, high], on a log scale when `log`, rounded
// when `integer`.
struct TuneDimension {
  std::string key;
  double low = 0, high = 0;
  bool log = false, integer = false;
};

struct AlgorithmEntry {
  std::string name;                             // algorithm.name
  std::string summary;                          // one line: the method and its paper
  std::vector<TuneDimension> own_coefficients;  // searched by `compare --tune` with lr and epochs
};

// A group of config fields owned by algorithms: a struct with defaults and
// `void describe(ConfigFieldVisitor&)`, registered once (Ditto's lambda; the head size that
// FedPer, FedRep, FedBABU and FedRecon share).
class SettingsGroup {
 public:
  virtual ~SettingsGroup() = default;
  virtual std::unique_ptr<SettingsGroup> clone() const = 0;
  virtual void describe(ConfigFieldVisitor& visitor) = 0;
};

template <typename T>
class SettingsGroupOf final : public SettingsGroup {
 public:
  std::unique_ptr<SettingsGroup> clone() const override { return std::make_unique<SettingsGroupOf>(*this); }
  void describe(ConfigFieldVisitor& visitor) override { value.describe(visitor); }
  T value;
};

// The registered groups, each at its defaults until a config sets it. Part of Config.
class AlgorithmSettings {
 public:
  AlgorithmSettings();
  AlgorithmSettings(const AlgorithmSettings& other);
  AlgorithmSettings& operator=(const AlgorithmSettings& other);
  AlgorithmSettings(AlgorithmSettings&&) noexcept = default;
  AlgorithmSettings& operator=(AlgorithmSettings&&) noexcept = default;
  ~AlgorithmSettings();

  template <typename T>
  const T& get() const {
    return static_cast<const SettingsGroupOf<T>&>(find(typeid(T))).value;
  }
  template <typename T>
  T& get() {
    return static_cast<SettingsGroupOf<T>&>(const_cast<SettingsGroup&>(find(typeid(T)))).value;
  }
  // Every group's fields, groups in the order of their names.
  void describe(ConfigFieldVisitor& visitor);

 private:
  const SettingsGroup& find(std::type_index type) const;
  struct Group {
    std::string name;
    std::type_index type;
    std::unique_ptr<SettingsGroup> settings;
  };
  std::vector<Group> groups_;
};

void registerAlgorithmEntry(AlgorithmEntry entry);
void registerSettingsGroup(std::string name, std::type_index type,
                           std::function<std::unique_ptr<SettingsGroup>()> make);

// Every registered algorithm, by name.
const std::vector<AlgorithmEntry>& registeredAlgorithms();
// Throws pagefl::Error listing the names when `name` is not registered.
const AlgorithmEntry& algorithmEntry(const std::string& name);

// Registers the group T under `name` (any name unique among groups) at static initialisation:
// `const SettingsRegistration<DittoSettings> kDittoSettings("ditto");`
template <typename T>
struct SettingsRegistration {
  explicit SettingsRegistration(std::string name) {
    registerSettingsGroup(std::move(name), typeid(T), [] { return std::make_unique<SettingsGroupOf<T>>(); });
  }
};

}  // namespace pagefl
