#include "pagefl/dashboard/access.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <random>
#include <set>

#include "pagefl/core/error.h"

namespace pagefl::dashboard {
namespace {

constexpr std::size_t kMinTokenLength = 16;
constexpr std::size_t kMaxUsers = 10000;
constexpr std::size_t kMaxSessions = 4096;

// Compares every character, so the time taken does not tell how much of a guess was right.
bool equalInConstantTime(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string randomSessionId() {
  static thread_local std::random_device device;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", device(), device(), device(), device());
}

}  // namespace

const char* roleName(Role role) { return role == Role::Operator ? "operator" : "viewer"; }

AccessPolicy::AccessPolicy(std::vector<AccessUser> users) : users_(std::move(users)) {}

std::optional<Identity> AccessPolicy::byToken(const std::string& token) const {
  if (token.empty()) return std::nullopt;
  std::optional<Identity> found;
  for (const AccessUser& user : users_)  // no early exit: every entry is compared
    if (!user.token.empty() && equalInConstantTime(user.token, token)) found = Identity{user.name, user.role};
  return found;
}

std::optional<Identity> AccessPolicy::byCertificate(const std::string& common_name) const {
  if (common_name.empty()) return std::nullopt;
  for (const AccessUser& user : users_)
    if (user.certificate == common_name) return Identity{user.name, user.role};
  return std::nullopt;
}

std::string AccessPolicy::openSession(const Identity& identity) {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.first < oldest->second.first) oldest = it;
    sessions_.erase(oldest);
  }
  std::string id = randomSessionId();
  sessions_[id] = {++opened_, identity};
  return id;
}

std::optional<Identity> AccessPolicy::session(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.second;
}

std::vector<AccessUser> readAccessFile(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw Error("access file '{}': {} (line {})", path, std::string(e.description()).substr(0, 120),
                e.source().begin.line);
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)))
    spdlog::warn("access file '{}' can be read by other users of this machine: chmod 600 it", path);
  const toml::array* entries = table["user"].as_array();
  if (!entries || entries->empty())
    throw Error("access file '{}' names nobody: add [[user]] entries with name, role and token (or certificate)", path);
  if (entries->size() > kMaxUsers)
    throw Error("access file '{}' has {} users; at most {} are supported", path, entries->size(), kMaxUsers);
  std::vector<AccessUser> users;
  std::set<std::string> names;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const toml::table* entry = (*entries)[i].as_table();
    const std::string where = fmt::format("access file '{}', user {}", path, i + 1);
    if (!entry) throw Error("{}: write it as a [[user]] table", where);
    for (const auto& [key, value] : *entry)
      if (key != "name" && key != "role" && key != "token" && key != "certificate")
        throw Error("{}: unknown key '{}' (name, role, token, certificate)", where,
                    std::string(key.str()).substr(0, 40));
    AccessUser user;
    user.name = entry->get_as<std::string>("name") ? entry->get_as<std::string>("name")->get() : "";
    if (user.name.empty() || user.name.size() > 64) throw Error("{}: give it a name of 1 to 64 characters", where);
    if (!names.insert(user.name).second) throw Error("{}: the name '{}' is used twice", where, user.name);
    const std::string role = entry->get_as<std::string>("role") ? entry->get_as<std::string>("role")->get() : "";
    if (role == "viewer")
      user.role = Role::Viewer;
    else if (role == "operator")
      user.role = Role::Operator;
    else
      throw Error("{} ('{}'): role must be \"viewer\" or \"operator\", not '{}'", where, user.name, role.substr(0, 40));
    if (auto token = entry->get_as<std::string>("token")) user.token = token->get();
    if (auto cn = entry->get_as<std::string>("certificate")) user.certificate = cn->get();
    if (user.token.empty() && user.certificate.empty())
      throw Error("{} ('{}'): give a token or a certificate (its common name)", where, user.name);
    if (!user.token.empty() && user.token.size() < kMinTokenLength)
      throw Error("{} ('{}'): the token is {} characters; use at least {} (e.g. openssl rand -hex 16)", where,
                  user.name, user.token.size(), kMinTokenLength);
    users.push_back(std::move(user));
  }
  return users;
}

bool sameOrigin(const std::string& origin, const std::string& scheme, const std::string& host) {
  return !origin.empty() && !host.empty() && origin == scheme + "://" + host;
}

bool loopbackHost(const std::string& host) {
  std::string name = host;
  if (name.rfind("[::1]", 0) == 0) return name.size() == 5 || name[5] == ':';
  const auto colon = name.find(':');
  if (colon != std::string::npos) name = name.substr(0, colon);
  return name == "localhost" || name == "127.0.0.1";
}

}  // namespace pagefl::dashboard
