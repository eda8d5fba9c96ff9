#include "pagefl/dashboard/dashboard_server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "pagefl/core/algorithm_catalog.h"
#include "pagefl/core/error.h"
#include "pagefl/dashboard/result_files.h"
#include "pagefl/dashboard/static_bundle.h"
#include "pagefl/net/audit_log.h"

namespace pagefl::dashboard {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kMaxRequestBytes = 64 * 1024;
constexpr int kMaxEventStreams = 64;  // each holds a thread; the rest of the pool serves requests
constexpr int kServerThreads = kMaxEventStreams + 16;
constexpr std::uintmax_t kMaxServedFileBytes = 64ull << 20;
constexpr std::int64_t kAuditRows = 1000;
constexpr const char* kSessionCookie = "pagefl_session";

struct Address {
  std::string host;
  int port = 0;
};

Address parseListen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw Error("--listen '{}' is not host:port, e.g. 127.0.0.1:8050", listen.substr(0, 60));
  Address address{listen.substr(0, colon), 0};
  if (address.host.front() == '[' && address.host.back() == ']')
    address.host = address.host.substr(1, address.host.size() - 2);
  try {
    std::size_t end = 0;
    address.port = std::stoi(listen.substr(colon + 1), &end);
    if (end != listen.size() - colon - 1 || address.port < 0 || address.port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw Error("--listen '{}': the port must be a number from 0 to 65535", listen.substr(0, 60));
  }
  return address;
}

bool loopbackAddress(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1"; }

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

void refuse(httplib::Response& res, int status, const std::string& message) {
  reply(res, status, {{"error", message}});
}

std::string cookieValue(const std::string& header, const std::string& name) {
  std::size_t at = 0;
  while (at < header.size()) {
    const std::size_t end = std::min(header.find(';', at), header.size());
    std::string pair = header.substr(at, end - at);
    pair.erase(0, pair.find_first_not_of(' '));
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    at = end + 1;
  }
  return "";
}

// The common name of the client certificate that the TLS handshake verified, if any.
std::string peerCommonName(const httplib::Request& req) {
  if (!req.ssl) return "";
  X509* certificate = SSL_get1_peer_certificate(req.ssl);
  if (!certificate) return "";
  char name[256] = {};
  const int length = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, name, sizeof name);
  X509_free(certificate);
  return length > 0 ? std::string(name, static_cast<std::size_t>(length)) : "";
}

json parseBody(const httplib::Request& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw Error("the request body is not JSON");
  return body;
}

std::string param(const httplib::Request& req, const char* key) {
  std::string value = req.has_param(key) ? req.get_param_value(key) : "";
  if (value.size() > 4096) throw Error("the parameter '{}' is too long", key);
  return value;
}

double numberParam(const httplib::Request& req, const char* key, double fallback) {
  const std::string text = param(req, key);
  if (text.empty()) return fallback;
  try {
    std::size_t end = 0;
    const double value = std::stod(text, &end);
    if (end == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw Error("the parameter '{}' must be a number, not '{}'", key, text.substr(0, 20));
}

json auditRows(const std::string& path, const httplib::Request& req) {
  net::AuditQuery query;
  const std::string kind = param(req, "kind");
  if (kind == "models")
    query.models = true;
  else if (kind == "events")
    query.events = true;
  else if (!kind.empty() && kind != "updates")
    throw Error("kind must be updates, models or events, not '{}'", kind.substr(0, 20));
  query.client = param(req, "site");
  query.status = param(req, "status");
  const std::string round = param(req, "round");
  if (!round.empty()) query.round = static_cast<std::int64_t>(numberParam(req, "round", 0));
  query.full_hashes = true;
  query.limit = kAuditRows;
  const net::AuditTable table = net::selectAudit(path, query);
  return {{"columns", table.columns}, {"rows", table.rows}, {"limit", kAuditRows}};
}

}  // namespace

DashboardServer::DashboardServer(DashboardOptions options, DashboardParts parts)
    : options_(std::move(options)),
      parts_(std::move(parts)),
      access_(options_.access_file.empty() ? AccessPolicy() : AccessPolicy(readAccessFile(options_.access_file))) {
  if (!parts_.events || !parts_.controls) throw Error("the dashboard needs an event log and a control point");
  const Address address = parseListen(options_.listen);
  tls_ = !options_.tls_cert.empty() || !options_.tls_key.empty();
  if (tls_ && (options_.tls_cert.empty() || options_.tls_key.empty()))
    throw Error("HTTPS needs both --tls-cert and --tls-key (the deployment's server.crt and server.key)");
  if (!options_.client_ca.empty() && !tls_) throw Error("--client-ca needs HTTPS: give --tls-cert and --tls-key too");
  if (!loopbackAddress(address.host)) {
    if (!tls_)
      throw Error("the dashboard listens on {} only over HTTPS: give --tls-cert and --tls-key (or listen on 127.0.0.1)",
                  address.host);
    if (access_.open())
      throw Error("the dashboard listens on {} only with an access file naming viewers and operators: give --access",
                  address.host);
  }
  for (const std::string& file : {options_.tls_cert, options_.tls_key, options_.client_ca})
    if (!file.empty() && !fs::is_regular_file(file)) throw Error("cannot read '{}': no such file", file);
  if (tls_) {
    auto secure =
        std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str(),
                                             options_.client_ca.empty() ? nullptr : options_.client_ca.c_str());
    if (!secure->is_valid())
      throw Error("cannot start HTTPS with '{}' and '{}': are they a PEM certificate and its key?", options_.tls_cert,
                  options_.tls_key);
    server_ = std::move(secure);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server_->set_payload_max_length(kMaxRequestBytes);
  routes();
}

DashboardServer::~DashboardServer() { stop(); }

std::string DashboardServer::start() {
  const Address address = parseListen(options_.listen);
  int port = address.port;
  if (port == 0)
    port = server_->bind_to_any_port(address.host);
  else if (!server_->bind_to_port(address.host, port))
    port = -1;
  if (port <= 0)
    throw Error("the dashboard cannot listen on {}: is the address this machine's and the port free?", options_.listen);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  const std::string host = address.host.find(':') != std::string::npos ? "[" + address.host + "]" : address.host;
  return fmt::format("{}://{}:{}", tls_ ? "https" : "http", host, port);
}

void DashboardServer::stop() {
  if (!thread_.joinable()) return;
  parts_.events->close();  // ends every event stream
  server_->stop();
  thread_.join();
}

void DashboardServer::routes() {
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, const Identity&)>;
  enum class Needs { Viewer, Operator };
  // Every route goes through here: who asks, with what right, from which page.
  auto guarded = [this](Needs needs, Handler handler) {
    return [this, needs, handler](const httplib::Request& req, httplib::Response& res) {
      try {
        const std::string host = req.get_header_value("Host");
        if (access_.open() && !loopbackHost(host))
          return refuse(res, 403, "this dashboard answers only to localhost and 127.0.0.1");
        if (req.method != "GET" && !sameOrigin(req.get_header_value("Origin"), tls_ ? "https" : "http", host))
          return refuse(res, 403, "refused: a change must come from the dashboard's own page (Origin)");
        std::optional<Identity> who;
        if (access_.open()) who = Identity{"local", Role::Operator};
        if (!who) who = access_.byCertificate(peerCommonName(req));
        if (!who) who = access_.session(cookieValue(req.get_header_value("Cookie"), kSessionCookie));
        const std::string authorization = req.get_header_value("Authorization");
        if (!who && authorization.rfind("Bearer ", 0) == 0) who = access_.byToken(authorization.substr(7));
        if (!who) return reply(res, 401, {{"error", "log in with your dashboard token"}, {"login", true}});
        if (needs == Needs::Operator && who->role != Role::Operator)
          return refuse(res, 403, fmt::format("{} is a viewer: only an operator may do this", who->who));
        handler(req, res, *who);
      } catch (const Error& e) {
        refuse(res, 400, e.what());
      } catch (const std::exception& e) {
        spdlog::error("dashboard: {} {}: {}", req.method, req.path, e.what());
        refuse(res, 500, fmt::format("the dashboard failed: {}", std::string(e.what()).substr(0, 200)));
      }
    };
  };
  httplib::Server& s = *server_;

  s.Post("/api/login", [this](const httplib::Request& req, httplib::Response& res) {
    if (!sameOrigin(req.get_header_value("Origin"), tls_ ? "https" : "http", req.get_header_value("Host")))
      return refuse(res, 403, "refused: log in from the dashboard's own page (Origin)");
    const json body = json::parse(req.body, nullptr, false);
    const std::string token =
        body.is_object() && body.contains("token") && body["token"].is_string() ? body["token"].get<std::string>() : "";
    const std::optional<Identity> who = access_.open() ? Identity{"local", Role::Operator} : access_.byToken(token);
    if (!who) return refuse(res, 401, "that token is not in the dashboard's access file");
    res.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict{}", kSessionCookie,
                                             access_.openSession(*who), tls_ ? "; Secure" : ""));
    reply(res, 200, {{"who", who->who}, {"role", roleName(who->role)}});
  });

  s.Get("/api/session", guarded(Needs::Viewer, [this](const auto&, auto& res, const Identity& who) {
          reply(res, 200,
                {{"who", who.who},
                 {"role", roleName(who.role)},
                 {"mode", parts_.pilot ? "pilot" : "deployment"},
                 {"open", access_.open()},
                 {"newest_event", parts_.events->newest()}});
        }));

  s.Get("/api/events",
        guarded(Needs::Viewer, [this](const httplib::Request& req, httplib::Response& res, const Identity&) {
          if (streams_ >= kMaxEventStreams)
            return refuse(res, 503,
                          fmt::format("{} pages are following this run already; close one", kMaxEventStreams));
          std::int64_t from = 0;
          const std::string last = req.get_header_value("Last-Event-ID");
          from = static_cast<std::int64_t>(last.empty() ? numberParam(req, "from", 0) : std::atof(last.c_str()));
          auto position = std::make_shared<std::int64_t>(from);
          ++streams_;
          res.set_header("Cache-Control", "no-store");
          res.set_chunked_content_provider(
              "text/event-stream",
              [this, position](std::size_t, httplib::DataSink& sink) {
                const auto events = parts_.events->after(*position, 500, std::chrono::seconds(15));
                if (parts_.events->closed()) {
                  sink.done();
                  return true;
                }
                std::string text;
                if (!events.empty() && events.front().seq > *position + 1 && *position > 0)
                  text += fmt::format("event: gap\ndata: {{\"from\":{}}}\n\n", events.front().seq);
                for (const NumberedEvent& event : events)
                  text += fmt::format("id: {}\ndata: {}\n\n", event.seq, event.json);
                if (events.empty())
                  text = ": still here\n\n";  // keeps proxies from closing an idle stream
                else
                  *position = events.back().seq;
                return sink.write(text.data(), text.size());
              },
              [this](bool) { --streams_; });
        }));

  s.Get("/api/algorithms", guarded(Needs::Viewer, [](const auto&, auto& res, const Identity&) {
          json list = json::array();
          for (const AlgorithmEntry& entry : registeredAlgorithms())
            list.push_back({{"name", entry.name}, {"summary", entry.summary}});
          reply(res, 200, {{"algorithms", list}, {"data", dataSources()}});
        }));

  s.Get("/api/partition", guarded(Needs::Viewer, [this](const httplib::Request& req, auto& res, const Identity&) {
          if (!parts_.pilot) return refuse(res, 404, "this dashboard watches a deployment: it has no pilot");
          const std::string source = param(req, "data").empty() ? "fashion-mnist" : param(req, "data");
          reply(res, 200,
                parts_.pilot->partitionPreview(source, param(req, "path"), numberParam(req, "alpha", 0.5),
                                               static_cast<std::int64_t>(numberParam(req, "sites", 10))));
        }));

  s.Post("/api/comparisons",
         guarded(Needs::Operator, [this](const httplib::Request& req, auto& res, const Identity& who) {
           if (!parts_.pilot) return refuse(res, 404, "this dashboard watches a deployment: it starts no comparisons");
           const ComparisonRequest request = parseComparisonRequest(parseBody(req));
           if (parts_.pilot->running())
             return refuse(res, 409, "a comparison is already running: wait for it, or stop it");
           parts_.pilot->start(request, who.who);
           reply(res, 202, {{"directory", request.name}});
         }));

  s.Get("/api/controls", guarded(Needs::Viewer, [this](const auto&, auto& res, const Identity&) {
          reply(res, 200, {{"settings", parts_.controls->changeableSettings()}});
        }));

  s.Post("/api/controls", guarded(Needs::Operator, [this](const httplib::Request& req, auto& res, const Identity& who) {
           parts_.controls->apply(parseBody(req), who.who);
           reply(res, 202, {{"applied_from", "the next round"}});
         }));

  s.Get("/api/results", guarded(Needs::Viewer, [this](const auto&, auto& res, const Identity&) {
          reply(res, 200, {{"results", resultsListing(parts_.results_dir)}});
        }));

  s.Get("/api/deployment", guarded(Needs::Viewer, [this](const auto&, auto& res, const Identity&) {
          if (parts_.deployment.is_null())
            return refuse(res, 404, "this dashboard runs the pilot: there is no deployment");
          reply(res, 200, parts_.deployment);
        }));

  s.Get("/api/audit", guarded(Needs::Viewer, [this](const httplib::Request& req, auto& res, const Identity&) {
          if (parts_.audit_path.empty())
            return refuse(res, 404, "there is no audit log: this dashboard runs the pilot");
          reply(res, 200, auditRows(parts_.audit_path, req));
        }));

  s.Get("/results/(.*)", guarded(Needs::Viewer, [this](const httplib::Request& req, auto& res, const Identity&) {
          const std::optional<fs::path> file = resultFile(parts_.results_dir, req.matches[1]);
          std::error_code error;
          if (!file || !fs::is_regular_file(*file, error) || fs::file_size(*file, error) > kMaxServedFileBytes)
            return refuse(res, 404, "no such result file");
          std::ifstream in(*file, std::ios::binary);
          std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          // A report runs as a sandboxed page of its own origin: whatever a results directory holds
          // cannot act as the dashboard with the viewer's session.
          res.set_header("Content-Security-Policy", "sandbox allow-scripts");
          res.set_header("X-Content-Type-Options", "nosniff");
          res.set_content(content, contentTypeOf(file->string()));
        }));

  // The page itself: only the bundle's files, whatever the path says.
  s.Get("/(.*)", [this](const httplib::Request& req, httplib::Response& res) {
    if (access_.open() && !loopbackHost(req.get_header_value("Host"))) return refuse(res, 403, "localhost only");
    const BundleFile* file = findBundleFile(req.path);
    if (!file) return refuse(res, 404, "not part of the dashboard");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(reinterpret_cast<const char*>(file->data), file->size, contentTypeOf(file->path));
  });
}

}  // namespace pagefl::dashboard
