// The dashboard's server side: who may do what (access file, roles, Origin, Host), the event log
// browsers follow, the controls' refusals, the pilot's request checks, and that no request reads a
// file outside the bundle or the results directory. The page itself is tested in headless
// Chromium (web/dashboard/tests/).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "pagefl/core/error.h"
#include "pagefl/dashboard/access.h"
#include "pagefl/dashboard/control_point.h"
#include "pagefl/dashboard/dashboard_server.h"
#include "pagefl/dashboard/event_log.h"
#include "pagefl/dashboard/pilot_jobs.h"
#include "pagefl/dashboard/result_files.h"
#include "pagefl/dashboard/static_bundle.h"
#include "test_support.h"

namespace pagefl::dashboard {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::errorOf;
using testing::TempDir;

constexpr const char* kOperatorToken = "operator-token-0123456789";
constexpr const char* kViewerToken = "viewer-token-0123456789ab";

std::string writeText(const TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.file(name)) << text;
  return dir.file(name);
}

std::string accessFile(const TempDir& dir) {
  return writeText(dir, "access.toml",
                   fmt::format("[[user]]\nname = \"ops\"\nrole = \"operator\"\ntoken = \"{}\"\n\n"
                               "[[user]]\nname = \"hq\"\nrole = \"viewer\"\ntoken = \"{}\"\n",
                               kOperatorToken, kViewerToken));
}

TEST(DashboardAccess, ReadsUsersAndTheirRoles) {
  TempDir dir;
  const std::vector<AccessUser> users = readAccessFile(accessFile(dir));
  ASSERT_EQ(users.size(), 2u);
  AccessPolicy policy(users);
  EXPECT_FALSE(policy.open());
  ASSERT_TRUE(policy.byToken(kOperatorToken));
  EXPECT_EQ(policy.byToken(kOperatorToken)->who, "ops");
  EXPECT_EQ(policy.byToken(kOperatorToken)->role, Role::Operator);
  EXPECT_EQ(policy.byToken(kViewerToken)->role, Role::Viewer);
  EXPECT_FALSE(policy.byToken("operator-token-012345678"));  // a prefix is not the token
  EXPECT_FALSE(policy.byToken(""));
  const std::string session = policy.openSession(*policy.byToken(kViewerToken));
  EXPECT_EQ(session.size(), 32u);
  EXPECT_EQ(policy.session(session)->who, "hq");
  EXPECT_FALSE(policy.session(session + "0"));
}

TEST(DashboardAccess, RefusesAnAccessFileThatWouldLetTheWrongPeopleIn) {
  TempDir dir;
  const auto error = [&](const std::string& text) {
    return errorOf([&] { readAccessFile(writeText(dir, "a.toml", text)); });
  };
  EXPECT_NE(error("[[user]]\nname = \"a\"\nrole = \"admin\"\ntoken = \"0123456789abcdef\"\n").find("role must be"),
            std::string::npos);
  EXPECT_NE(error("[[user]]\nname = \"a\"\nrole = \"viewer\"\ntoken = \"short\"\n").find("at least 16"),
            std::string::npos);
  EXPECT_NE(error("[[user]]\nname = \"a\"\nrole = \"viewer\"\n").find("give a token or a certificate"),
            std::string::npos);
  EXPECT_NE(error("[[user]]\nname = \"a\"\nrole = \"viewer\"\ncertificate = \"a\"\n[[user]]\nname = \"a\"\n"
                  "role = \"viewer\"\ncertificate = \"b\"\n")
                .find("used twice"),
            std::string::npos);
  EXPECT_NE(error("[[user]]\nname = \"a\"\nrole = \"viewer\"\npassword = \"x\"\n").find("unknown key 'password'"),
            std::string::npos);
  EXPECT_NE(error("title = \"nobody\"\n").find("names nobody"), std::string::npos);
  EXPECT_NE(error("[[user]\n").find("access file"), std::string::npos);
}

TEST(DashboardAccess, OriginAndHostChecks) {
  EXPECT_TRUE(sameOrigin("http://127.0.0.1:8050", "http", "127.0.0.1:8050"));
  EXPECT_FALSE(sameOrigin("http://evil.example", "http", "127.0.0.1:8050"));
  EXPECT_FALSE(sameOrigin("", "http", "127.0.0.1:8050"));
  EXPECT_FALSE(sameOrigin("http://127.0.0.1:8050", "https", "127.0.0.1:8050"));
  EXPECT_TRUE(loopbackHost("localhost:8050"));
  EXPECT_TRUE(loopbackHost("127.0.0.1"));
  EXPECT_TRUE(loopbackHost("[::1]:8050"));
  EXPECT_FALSE(loopbackHost("127.0.0.1.evil.example:8050"));
  EXPECT_FALSE(loopbackHost("[::1]evil"));
  EXPECT_FALSE(loopbackHost("rebound.example:8050"));
}

TEST(DashboardEvents, NumbersEventsAndKeepsOnlyTheNewest) {
  EventLog log(3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(log.append({{"type", "tick"}, {"i", i}}), i + 1);
  EXPECT_EQ(log.oldestKept(), 3);
  EXPECT_EQ(log.newest(), 5);
  const auto events = log.after(0, 10, std::chrono::milliseconds(0));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.front().seq, 3);
  const json first = json::parse(events.front().json);
  EXPECT_EQ(first["i"], 2);
  EXPECT_EQ(first["seq"], 3);
  EXPECT_TRUE(first.contains("at"));
  EXPECT_EQ(log.after(4, 10, std::chrono::milliseconds(0)).size(), 1u);
  EXPECT_EQ(log.after(3, 1, std::chrono::milliseconds(0)).size(), 1u);
}

TEST(DashboardEvents, AWaitingReaderWakesOnAnEventAndOnClose) {
  EventLog log;
  std::thread writer([&] { log.append({{"type", "late"}}); });
  // Generous: the reader must wake on the append, not on the timeout.
  EXPECT_EQ(log.after(0, 10, std::chrono::minutes(2)).size(), 1u);
  writer.join();
  std::thread closer([&] { log.close(); });
  EXPECT_TRUE(log.after(1, 10, std::chrono::minutes(2)).empty());
  closer.join();
  EXPECT_TRUE(log.closed());
}

TEST(DashboardControls, RefusesWhatCannotBeApplied) {
  ControlPoint point;
  EXPECT_NE(errorOf([&] {
              point.apply({{"action", "pause"}}, "ops");
            }).find("no run is in progress"),
            std::string::npos);
  Config config;
  config.algorithm.name = "page";
  RunControls controls(config, RunKind::Simulated);
  point.attach(&controls);
  EXPECT_NE(errorOf([&] { point.apply(json::array(), "ops"); }).find("JSON object"), std::string::npos);
  EXPECT_NE(errorOf([&] {
              point.apply({{"action", "reboot"}}, "ops");
            }).find("unknown control action"),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              point.apply({{"action", "set"}, {"value", 1}}, "ops");
            }).find("names its \"setting\""),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              point.apply({{"action", "set"}, {"setting", "train.lr"}, {"value", 1}}, "ops");
            }).find("cannot change during this run"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { point.apply({{"action", "set"}, {"setting", "page.balance"}, {"value", 7}}, "ops"); }), "");
  EXPECT_NE(errorOf([&] {
              point.apply({{"action", "set"}, {"setting", "page.balance"}, {"value", json::object()}}, "ops");
            }).find("must be a number"),
            std::string::npos);
  EXPECT_EQ(errorOf([&] {
              point.apply({{"action", "set"}, {"setting", "page.balance"}, {"value", 0.25}}, "ops");
            }),
            "");
  const std::vector<ControlRequest> due = controls.takeDue(1);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].setting, "page.balance");
  EXPECT_EQ(due[0].value, "0.25");
  EXPECT_EQ(due[0].who, "ops");
  point.attach(nullptr);
}

TEST(DashboardPilot, ChecksARequestBeforeAnythingRuns) {
  const json good = {{"name", "trial"}, {"methods", {"fedavg"}}, {"alpha", 0.3}, {"sites", 5}, {"rounds", 3}};
  const ComparisonRequest request = parseComparisonRequest(good);
  EXPECT_EQ(request.name, "trial");
  EXPECT_EQ(request.sites, 5);
  EXPECT_DOUBLE_EQ(request.alpha, 0.3);
  const auto error = [&](const char* key, const json& value) {
    json body = good;
    body[key] = value;
    return errorOf([&] { parseComparisonRequest(body); });
  };
  EXPECT_NE(error("alpha", 0.0).find("between 0.01 and 100"), std::string::npos);
  EXPECT_NE(error("sites", 1).find("number of sites"), std::string::npos);
  EXPECT_NE(error("rounds", 5000).find("number of rounds"), std::string::npos);
  EXPECT_NE(error("seeds", 0).find("number of seeds"), std::string::npos);
  EXPECT_NE(error("name", "../etc").find("letters, digits"), std::string::npos);
  EXPECT_NE(error("methods", {"nosuch"}).find("nosuch"), std::string::npos);
  EXPECT_NE(error("methods", json::array()).find("at least one method"), std::string::npos);
  EXPECT_NE(error("sites", "ten").find("wrong type"), std::string::npos);
  EXPECT_NE(error("path", std::string("a\nb")).find("control character"), std::string::npos);
}

TEST(DashboardFiles, ServesNothingOutsideTheResultsDirectory) {
  TempDir dir;
  fs::create_directories(dir.path() / "results" / "cmp");
  writeText(dir, "results/cmp/summary.csv", "algorithm\n");
  writeText(dir, "secret.txt", "no");
  fs::create_symlink(dir.path() / "secret.txt", dir.path() / "results" / "link.txt");
  const fs::path root = dir.path() / "results";
  EXPECT_TRUE(fileInside(root, "cmp/summary.csv"));
  EXPECT_FALSE(fileInside(root, "../secret.txt"));
  EXPECT_FALSE(fileInside(root, "cmp/../../secret.txt"));
  EXPECT_FALSE(fileInside(root, (dir.path() / "secret.txt").string()));
  EXPECT_FALSE(fileInside(root, "link.txt"));  // a link that leads out
  EXPECT_FALSE(fileInside(root, "cmp\\..\\..\\secret.txt"));
  EXPECT_FALSE(fileInside(root, "missing.csv"));
  EXPECT_FALSE(fileInside(root, ""));
  writeText(dir, "results/cmp/config.toml", "[run]\n");
  writeText(dir, "results/cmp/audit.sqlite", "");
  EXPECT_TRUE(resultFile(root, "cmp/summary.csv"));
  EXPECT_TRUE(fileInside(root, "cmp/config.toml"));
  EXPECT_FALSE(resultFile(root, "cmp/config.toml"));  // configs may name key files: not a result
  EXPECT_FALSE(resultFile(root, "cmp/audit.sqlite"));
  EXPECT_TRUE(findBundleFile("/"));
  EXPECT_TRUE(findBundleFile("/app.js"));
  EXPECT_FALSE(findBundleFile("/../CMakeLists.txt"));
}

// The least a dashboard needs: an event log and a control point.
struct MinimalParts {
  EventLog events;
  ControlPoint controls;
  DashboardParts parts() {
    DashboardParts parts;
    parts.events = &events;
    parts.controls = &controls;
    return parts;
  }
};

// A dashboard on a free loopback port with an access file: the whole request path, over HTTP.
class DashboardHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    DashboardOptions options;
    options.listen = "127.0.0.1:0";
    options.access_file = accessFile(dir_);
    DashboardParts parts = minimal_.parts();
    parts.results_dir = dir_.path().string();
    server_ = std::make_unique<DashboardServer>(options, parts);
    url_ = server_->start();
    origin_ = url_;
    client_ = std::make_unique<httplib::Client>(url_);
  }

  httplib::Headers as(const std::string& token, const std::string& origin = "") const {
    httplib::Headers headers = {{"Authorization", "Bearer " + token}};
    headers.emplace("Origin", origin.empty() ? origin_ : origin);
    return headers;
  }

  TempDir dir_;
  MinimalParts minimal_;
  std::unique_ptr<DashboardServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string url_, origin_;
};

TEST_F(DashboardHttp, RefusesTheUnauthenticatedTheViewerAndOtherOrigins) {
  auto anonymous = client_->Get("/api/session");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_TRUE(json::parse(anonymous->body)["login"].get<bool>());

  auto viewer = client_->Get("/api/session", as(kViewerToken));
  ASSERT_TRUE(viewer);
  EXPECT_EQ(viewer->status, 200);
  EXPECT_EQ(json::parse(viewer->body)["role"], "viewer");

  const std::string pause = R"({"action":"pause"})";
  auto viewer_change = client_->Post("/api/controls", as(kViewerToken), pause, "application/json");
  ASSERT_TRUE(viewer_change);
  EXPECT_EQ(viewer_change->status, 403);
  EXPECT_NE(viewer_change->body.find("viewer"), std::string::npos);

  auto cross_origin =
      client_->Post("/api/controls", as(kOperatorToken, "http://evil.example"), pause, "application/json");
  ASSERT_TRUE(cross_origin);
  EXPECT_EQ(cross_origin->status, 403);
  EXPECT_NE(cross_origin->body.find("Origin"), std::string::npos);

  auto no_run = client_->Post("/api/controls", as(kOperatorToken), pause, "application/json");
  ASSERT_TRUE(no_run);
  EXPECT_EQ(no_run->status, 400);
  EXPECT_NE(no_run->body.find("no run is in progress"), std::string::npos);

  auto not_json = client_->Post("/api/controls", as(kOperatorToken), "{pause", "application/json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
}

TEST_F(DashboardHttp, ALoginGivesASessionCookie) {
  httplib::Headers headers = {{"Origin", origin_}};
  auto wrong = client_->Post("/api/login", headers, R"({"token":"guess-guess-guess-guess"})", "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto login =
      client_->Post("/api/login", headers, fmt::format(R"({{"token":"{}"}})", kOperatorToken), "application/json");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200);
  const std::string cookie = login->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  auto session = client_->Get("/api/session", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  ASSERT_TRUE(session);
  EXPECT_EQ(session->status, 200);
  EXPECT_EQ(json::parse(session->body)["who"], "ops");
}

TEST_F(DashboardHttp, ServesOnlyTheBundleAndTheResults) {
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("app.js"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  for (const char* path : {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/CMakeLists.txt", "/src/main.js"}) {
    auto outside = client_->Get(path);
    ASSERT_TRUE(outside) << path;
    EXPECT_EQ(outside->status, 404) << path;
  }
  writeText(dir_, "kept.csv", "result");
  auto result = client_->Get("/results/kept.csv", as(kViewerToken));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "result");
  EXPECT_EQ(result->get_header_value("Content-Security-Policy"), "sandbox allow-scripts");
  auto escape = client_->Get("/results/../kept.csv", as(kViewerToken));
  ASSERT_TRUE(escape);
  EXPECT_EQ(escape->status, 404);
  auto access = client_->Get("/results/access.toml", as(kViewerToken));  // inside, but not a result
  ASSERT_TRUE(access);
  EXPECT_EQ(access->status, 404);
  auto escape_encoded = client_->Get("/results/%2e%2e/kept.csv", as(kViewerToken));
  ASSERT_TRUE(escape_encoded);
  EXPECT_EQ(escape_encoded->status, 404);
}

TEST(DashboardServerSetup, RefusesToListenOffLoopbackWithoutHttpsAndUsers) {
  MinimalParts minimal;
  const DashboardParts parts = minimal.parts();
  DashboardOptions options;
  options.listen = "0.0.0.0:0";
  EXPECT_NE(errorOf([&] { DashboardServer(options, parts); }).find("only over HTTPS"), std::string::npos);
  options.listen = "127.0.0.1";
  EXPECT_NE(errorOf([&] { DashboardServer(options, parts); }).find("host:port"), std::string::npos);
  options.listen = "127.0.0.1:99999";
  EXPECT_NE(errorOf([&] { DashboardServer(options, parts); }).find("0 to 65535"), std::string::npos);
  options.listen = "127.0.0.1:0";
  options.tls_cert = "/nonexistent.crt";
  EXPECT_NE(errorOf([&] { DashboardServer(options, parts); }).find("--tls-key"), std::string::npos);
}

TEST(DashboardServerSetup, AnOpenDashboardAnswersOnlyToLoopbackNames) {
  MinimalParts minimal;
  DashboardOptions options;
  options.listen = "127.0.0.1:0";
  DashboardServer server(options, minimal.parts());
  httplib::Client client(server.start());
  auto local = client.Get("/api/session");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200);
  EXPECT_EQ(json::parse(local->body)["role"], "operator");
  auto rebound = client.Get("/api/session", {{"Host", "rebound.example:8050"}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
}

}  // namespace
}  // namespace pagefl::dashboard

namespace pagefl::dashboard {
namespace {

// Off loopback the dashboard speaks HTTPS with the deployment's certificates, and a client
// certificate signed by the federation's CA names its holder: the access file's `certificate`.
TEST(DashboardHttps, AClientCertificateNamesItsHolderAndNoCertificateIsAsked) {
  TempDir dir;
  const std::string certs = dir.file("certs");
  std::string output;
  ASSERT_EQ(
      testing::runCommand(
          fmt::format("{}/scripts/make-certs.sh {} localhost hq-analyst stranger", PAGEFL_SOURCE_DIR, certs), output),
      0)
      << output;
  const std::string access =
      writeText(dir, "access.toml", "[[user]]\nname = \"analyst\"\nrole = \"viewer\"\ncertificate = \"hq-analyst\"\n");
  MinimalParts minimal;
  DashboardOptions options;
  options.listen = "127.0.0.1:0";
  options.access_file = access;
  options.tls_cert = certs + "/server.pem";
  options.tls_key = certs + "/server.key";
  options.client_ca = certs + "/ca.pem";
  DashboardServer server(options, minimal.parts());
  const std::string url = server.start();
  ASSERT_EQ(url.rfind("https://", 0), 0u);
  const std::string host_port = url.substr(std::string("https://").size());
  const int port = std::stoi(host_port.substr(host_port.rfind(':') + 1));

  httplib::SSLClient analyst("localhost", port, certs + "/hq-analyst.pem", certs + "/hq-analyst.key");
  analyst.set_ca_cert_path((certs + "/ca.pem").c_str());
  auto session = analyst.Get("/api/session");
  ASSERT_TRUE(session) << httplib::to_string(session.error());
  EXPECT_EQ(session->status, 200);
  EXPECT_EQ(json::parse(session->body)["who"], "analyst");
  EXPECT_EQ(json::parse(session->body)["role"], "viewer");

  // A certificate of the same CA whose name the access file does not list: refused.
  httplib::SSLClient stranger("localhost", port, certs + "/stranger.pem", certs + "/stranger.key");
  stranger.set_ca_cert_path((certs + "/ca.pem").c_str());
  auto refused = stranger.Get("/api/session");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  // Without a certificate the TLS handshake itself fails: --client-ca makes one mandatory.
  httplib::SSLClient anonymous("localhost", port);
  anonymous.set_ca_cert_path((certs + "/ca.pem").c_str());
  EXPECT_FALSE(anonymous.Get("/api/session"));
}

}  // namespace
}  // namespace pagefl::dashboard
