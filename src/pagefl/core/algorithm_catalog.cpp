#include "pagefl/core/algorithm_catalog.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

// Filled during static initialisation, from the algorithms' own files; function-local so that it
// exists before the first registration, whatever the order files are initialised in.
std::vector<AlgorithmEntry>& entries() {
  static std::vector<AlgorithmEntry> registered;
  return registered;
}

struct GroupMaker {
  std::type_index type;
  std::function<std::unique_ptr<SettingsGroup>()> make;
};

std::map<std::string, GroupMaker>& groupMakers() {
  static std::map<std::string, GroupMaker> registered;
  return registered;
}

}  // namespace

void registerAlgorithmEntry(AlgorithmEntry entry) {
  auto& all = entries();
  auto at = std::lower_bound(all.begin(), all.end(), entry.name,
                             [](const AlgorithmEntry& e, const std::string& name) { return e.name < name; });
  if (at != all.end() && at->name == entry.name)
    throw std::logic_error("two algorithms register the name '" + entry.name + "'");
  all.insert(at, std::move(entry));
}

void registerSettingsGroup(std::string name, std::type_index type,
                           std::function<std::unique_ptr<SettingsGroup>()> make) {
  if (!groupMakers().emplace(name, GroupMaker{type, std::move(make)}).second)
    throw std::logic_error("two settings groups register the name '" + name + "'");
}

const std::vector<AlgorithmEntry>& registeredAlgorithms() { return entries(); }

const AlgorithmEntry& algorithmEntry(const std::string& name) {
  for (const AlgorithmEntry& entry : entries())
    if (entry.name == name) return entry;
  std::vector<std::string> names;
  for (const AlgorithmEntry& entry : entries()) names.push_back(entry.name);
  throw Error("unknown algorithm.name '{}'; choose one of {}", excerpt(name), fmt::join(names, ", "));
}

AlgorithmSettings::AlgorithmSettings() {
  for (const auto& [name, maker] : groupMakers()) groups_.push_back({name, maker.type, maker.make()});
}

AlgorithmSettings::AlgorithmSettings(const AlgorithmSettings& other) {
  for (const Group& group : other.groups_) groups_.push_back({group.name, group.type, group.settings->clone()});
}

AlgorithmSettings& AlgorithmSettings::operator=(const AlgorithmSettings& other) {
  if (this != &other) *this = AlgorithmSettings(other);
  return *this;
}

AlgorithmSettings::~AlgorithmSettings() = default;

void AlgorithmSettings::describe(ConfigFieldVisitor& visitor) {
  for (Group& group : groups_) group.settings->describe(visitor);
}

const SettingsGroup& AlgorithmSettings::find(std::type_index type) const {
  for (const Group& group : groups_)
    if (group.type == type) return *group.settings;
  // A program bug, not a user's: the group's file registers it, so it is linked whenever used.
  throw std::logic_error(fmt::format("settings group {} is not registered", type.name()));
}

}  // namespace pagefl
