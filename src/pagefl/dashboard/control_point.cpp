#include "pagefl/dashboard/control_point.h"

#include "pagefl/core/error.h"

namespace pagefl::dashboard {
namespace {

constexpr std::size_t kMaxValueLength = 64;

// A value as TOML writes it: numbers and booleans as JSON writes them, strings as given.
std::string valueText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  throw Error("a control's \"value\" must be a number, true/false or text");
}

std::string textField(const nlohmann::json& request, const char* key) {
  if (!request.contains(key)) return "";
  if (!request[key].is_string()) throw Error("a control's \"{}\" must be text", key);
  std::string text = request[key].get<std::string>();
  if (text.size() > kMaxValueLength)
    throw Error("a control's \"{}\" is longer than {} characters", key, kMaxValueLength);
  return text;
}

}  // namespace

void ControlPoint::attach(RunControls* controls) {
  std::lock_guard lock(mutex_);
  controls_ = controls;
}

void ControlPoint::apply(const nlohmann::json& request, const std::string& who) {
  if (!request.is_object()) throw Error("send a control as a JSON object: {\"action\": \"pause\"}");
  const std::string action = textField(request, "action");
  std::lock_guard lock(mutex_);
  if (!controls_) throw Error("no run is in progress: start one, then steer it");
  if (action == "pause") return controls_->pause(who);
  if (action == "resume") return controls_->resume(who);
  if (action == "stop") return controls_->stop(who);
  if (action == "set") {
    const std::string setting = textField(request, "setting");
    if (setting.empty()) throw Error("a \"set\" control names its \"setting\", e.g. \"page.balance\"");
    if (!request.contains("value")) throw Error("a \"set\" control gives the new \"value\"");
    std::string value = valueText(request["value"]);
    if (value.size() > kMaxValueLength)
      throw Error("a control's \"value\" is longer than {} characters", kMaxValueLength);
    return controls_->set(setting, value, who);
  }
  throw Error("unknown control action '{}': pause, resume, stop or set", action);
}

std::vector<std::string> ControlPoint::changeableSettings() const {
  std::lock_guard lock(mutex_);
  return controls_ ? controls_->changeableSettings() : std::vector<std::string>{};
}

}  // namespace pagefl::dashboard
