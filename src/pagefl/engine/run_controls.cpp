#include "pagefl/engine/run_controls.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <optional>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

// A reward weight or the balance and the key of its demand-shift value.
const std::map<std::string, std::string> kShiftedBy = {
    {"page.client_reward_weight", "page.shift_client_reward_weight"},
    {"page.server_reward_weight", "page.shift_server_reward_weight"},
    {"page.balance", "page.shift_balance"}};

// Finds one field by key and writes its value as text.
class FieldText final : public ConfigFieldVisitor {
 public:
  explicit FieldText(std::string key) : key_(std::move(key)) {}
  std::optional<std::string> found;

  void integer(const std::string& key, std::int64_t& value, Bounds, const char*) override { put(key, value); }
  void real(const std::string& key, double& value, Bounds, const char*) override { put(key, value); }
  void flag(const std::string& key, bool& value, const char*) override { put(key, value); }
  void text(const std::string& key, std::string& value, const std::vector<std::string>&, const char*) override {
    if (key == key_) found = fmt::format("\"{}\"", value);
  }
  void integers(const std::string& key, std::vector<std::int64_t>& value, Bounds, const char*) override {
    if (key == key_) found = fmt::format("[{}]", fmt::join(value, ", "));
  }
  void texts(const std::string& key, std::vector<std::string>& value, const char*) override {
    if (key == key_) found = fmt::format("[\"{}\"]", fmt::join(value, "\", \""));
  }

 private:
  template <typename T>
  void put(const std::string& key, const T& value) {
    if (key == key_) found = fmt::format("{}", value);
  }
  std::string key_;
};

}  // namespace

std::string settingText(const Config& config, const std::string& setting) {
  Config copy = config;
  FieldText finder(setting);
  describeConfig(copy, finder);
  if (!finder.found) throw Error("'{}' is not a config key; run `pagefl config` to list them", setting);
  return *finder.found;
}

Config withSetting(const Config& config, const std::string& setting, const std::string& value) {
  std::vector<std::string> overrides = {setting + "=" + value};
  if (auto shifted = kShiftedBy.find(setting); shifted != kShiftedBy.end())
    overrides.push_back(shifted->second + "=" + value);
  return parseConfig(toToml(config), overrides, "the control change");
}

RunControls::RunControls(const Config& config, RunKind kind) : config_(config), kind_(kind) {}

std::vector<std::string> RunControls::changeableSettings() const {
  std::vector<std::string> settings = {"algorithm.participation"};
  if (kind_ == RunKind::Deployed) settings.push_back("deploy.round_deadline_s");
  if (config_.algorithm.name == "page") {
    settings.push_back("page.client_reward_weight");
    settings.push_back("page.server_reward_weight");
    if (balanceAt(config_.page, 1)) settings.push_back("page.balance");
  }
  return settings;
}

void RunControls::pause(const std::string& who) { push({ControlRequest::Kind::Pause, "", "", who}); }
void RunControls::resume(const std::string& who) { push({ControlRequest::Kind::Resume, "", "", who}); }

void RunControls::stop(const std::string& who) { push({ControlRequest::Kind::Stop, "", "", who}); }

void RunControls::check(const std::string& setting, const std::string& value, const std::string& refusal) const {
  const std::vector<std::string> allowed = changeableSettings();
  if (std::find(allowed.begin(), allowed.end(), setting) == allowed.end())
    throw Error("{}; what can change: {}", refusal, fmt::join(allowed, ", "));
  withSetting(config_, setting, value);  // throws with the allowed range
}

void RunControls::set(const std::string& setting, const std::string& value, const std::string& who) {
  check(setting, value, fmt::format("'{}' cannot change during this run", setting));
  push({ControlRequest::Kind::Set, setting, value, who});
}

void RunControls::schedule(const AppliedControl& recorded) {
  if (recorded.setting == kRunState) {
    if (recorded.new_value == "stopped") push({ControlRequest::Kind::Stop, "", "", recorded.who, recorded.round});
    return;
  }
  check(recorded.setting, recorded.new_value,
        fmt::format("the recorded change of '{}' (round {}) cannot be replayed in this run", recorded.setting,
                    recorded.round));
  push({ControlRequest::Kind::Set, recorded.setting, recorded.new_value, recorded.who, recorded.round});
}

std::vector<ControlRequest> RunControls::takeDue(std::int64_t round) {
  std::lock_guard lock(mutex_);
  std::vector<ControlRequest> due;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->round <= round) {
      due.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return due;
}

void RunControls::waitForRequest(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, timeout, [&] { return !queue_.empty(); });
}

void RunControls::push(ControlRequest request) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(request));
  arrived_.notify_all();
}

}  // namespace pagefl
