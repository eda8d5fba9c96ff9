// Who may use the dashboard, and as what. Two roles: a viewer reads; an operator also starts runs
// and steers them. People are named in an access file (TOML), by a token or by the common name of
// a client certificate signed by the deployment's CA:
//
//   [[user]]
//   name = "hq-analyst"
//   role = "viewer"
//   token = "a long random string"      # or: certificate = "hq-analyst" (the certificate's CN)
//
// Without an access file the dashboard may only listen on loopback, and whoever reaches it there
// is the local operator ("local"), as with any tool a user runs on their own machine.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pagefl::dashboard {

enum class Role { Viewer, Operator };

const char* roleName(Role role);

struct Identity {
  std::string who;
  Role role = Role::Viewer;
};

struct AccessUser {
  std::string name;
  Role role = Role::Viewer;
  std::string token;        // empty: not by token
  std::string certificate;  // a client certificate's common name; empty: not by certificate
};

class AccessPolicy {
 public:
  // No access file: everyone who reaches the (loopback) dashboard is the local operator.
  AccessPolicy() = default;
  explicit AccessPolicy(std::vector<AccessUser> users);

  bool open() const { return users_.empty(); }
  std::optional<Identity> byToken(const std::string& token) const;
  std::optional<Identity> byCertificate(const std::string& common_name) const;

  // A login's session: an unguessable id for a cookie. The oldest sessions are forgotten beyond
  // a few thousand, so that logins cannot grow the server without bound.
  std::string openSession(const Identity& identity);
  std::optional<Identity> session(const std::string& id) const;

 private:
  std::vector<AccessUser> users_;
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<std::uint64_t, Identity>> sessions_;  // id -> (opened, who)
  std::uint64_t opened_ = 0;
};

// Reads an access file. Throws pagefl::Error naming the file and the entry to fix: an unknown
// role, a token shorter than 16 characters, a name used twice, an entry with neither a token nor
// a certificate.
std::vector<AccessUser> readAccessFile(const std::string& path);

// Whether a state-changing request's Origin header is the dashboard's own ("http://host:port"
// as the browser addressed it): a page from anywhere else may not make the browser act (CSRF).
bool sameOrigin(const std::string& origin, const std::string& scheme, const std::string& host);

// Whether a Host header names the loopback interface (localhost, 127.0.0.1, [::1], any port): an
// open dashboard answers only those, so that a web page whose name is re-pointed at 127.0.0.1
// (DNS rebinding) cannot read or drive it.
bool loopbackHost(const std::string& host);

}  // namespace pagefl::dashboard
