// A long chaotic deployment on loopback: sites killed and restarted at random moments, the server
// killed with SIGKILL and resumed twice, two sites whose poisoned updates are refused. Whatever
// happens, the audit log must hold exactly one applied update per site and round that answered,
// nothing refused may be applied, the final model must be the one the audit log recorded last,
// and the server's memory must not grow with the rounds.
//
// `make test` runs a short version; `make soak` runs the full one (PAGEFL_SOAK=full: 16 sites,
// 100 rounds), whose figures are in bench/RESULTS.md.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "deployment_support.h"
#include "pagefl/core/sha256.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/net/wire_codec.h"

namespace pagefl::testing {
namespace {

using std::chrono::seconds;

struct SoakPlan {
  int sites, rounds, site_kills;
  std::vector<int> server_kills_after;  // SIGKILL the server once it has completed these rounds
  int rss_from_round;                   // RSS compared between this round and the last
};

SoakPlan planFromEnvironment() {
  const char* mode = std::getenv("PAGEFL_SOAK");
  if (mode && std::string(mode) == "full") return {16, 100, 40, {3, 6}, 10};
  return {6, 14, 6, {2, 4}, 8};
}

// The last round recorded in the run's rounds.jsonl (cut back on resume), or 0.
int completedRounds(const std::string& run_dir) {
  std::ifstream in(run_dir + "/rounds.jsonl");
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  if (last.empty()) return 0;
  const auto parsed = nlohmann::json::parse(last, nullptr, false);
  return parsed.is_object() ? parsed.value("round", 0) : 0;
}

std::map<int, nlohmann::json> linesByRound(const std::string& path) {
  std::map<int, nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) {
      const auto parsed = nlohmann::json::parse(line);
      lines[parsed.at("round").get<int>()] = parsed;
    }
  return lines;
}

TEST(Soak, AChaoticDeploymentLosesNothingAndAppliesNothingRefused) {
  const SoakPlan plan = planFromEnvironment();
  TempDir dir;
  const std::vector<std::string> attackers = {fmt::format("client_{}", plan.sites - 2),
                                              fmt::format("client_{}", plan.sites - 1)};
  // Honest logistic-regression updates move the model by about 1; the attackers' by hundreds.
  const Federation federation =
      makeFederation(dir, {"[robust]", "max_update_norm = 25"}, plan.sites);
  const std::vector<std::string> overrides = {fmt::format("run.rounds={}", plan.rounds),
                                              fmt::format("deploy.min_clients={}", plan.sites / 2),
                                              "deploy.min_updates=2", "deploy.round_deadline_s=4",
                                              "deploy.client_timeout_s=6"};
  std::vector<std::string> resume = overrides;
  resume.insert(resume.begin(), "--resume");
  const std::string run_dir = federation.runs + "/deployed";

  auto startSite = [&](const std::string& site, int generation) {
    std::vector<std::string> args = clientArgs(federation, dir, site);
    if (std::find(attackers.begin(), attackers.end(), site) != attackers.end())
      args.insert(args.end(), {"--attack", "scale:1000"});
    return std::make_unique<Process>(args, dir.file(fmt::format("{}-{}.log", site, generation)));
  };
  std::map<std::string, std::unique_ptr<Process>> sites;
  for (const std::string& site : federation.sites) sites[site] = startSite(site, 0);

  std::mt19937 chaos(2026);
  int generation = 0, site_kills = 0;
  std::size_t server_kills = 0;
  // Each server process is held after the round following its planned kill, so that it cannot
  // finish the run before the kill lands, however fast the rounds go; the kill itself still falls
  // at a random moment of that round.
  auto holdFor = [&](std::size_t kill) -> std::vector<std::string> {
    if (kill >= plan.server_kills_after.size()) return {};
    return {fmt::format("PAGEFL_TEST_HOLD_AFTER_ROUND={}", plan.server_kills_after[kill] + 1)};
  };
  auto server = std::make_unique<Process>(serverArgs(federation, overrides), dir.file("server-0.log"), holdFor(0));
  const auto give_up = std::chrono::steady_clock::now() + seconds(60 + 20 * plan.rounds);
  int exit_code = -1;
  while (std::chrono::steady_clock::now() < give_up) {
    if ((exit_code = server->wait(seconds(0))) >= 0 && server_kills == plan.server_kills_after.size()) break;
    const int done = completedRounds(run_dir);
    if (server_kills < plan.server_kills_after.size() && done >= plan.server_kills_after[server_kills]) {
      server->signal(SIGKILL);
      server->wait(seconds(10));
      ++server_kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(0, 1500)(chaos)));
      server = std::make_unique<Process>(serverArgs(federation, resume),
                                         dir.file(fmt::format("server-{}.log", server_kills)), holdFor(server_kills));
    }
    // No site is killed near the end: a site restarted after the server has gone would wait for it.
    if (site_kills < plan.site_kills && done < plan.rounds - 3) {
      const std::string& victim = federation.sites[std::uniform_int_distribution<std::size_t>(
          0, federation.sites.size() - 1)(chaos)];
      sites[victim]->signal(SIGKILL);
      sites[victim]->wait(seconds(10));
      ++site_kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(0, 1500)(chaos)));
      sites[victim] = startSite(victim, ++generation);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(300, 1500)(chaos)));
  }
  ASSERT_EQ(exit_code, 0) << server->output();
  EXPECT_EQ(server_kills, plan.server_kills_after.size());
  for (auto& [name, site] : sites) EXPECT_EQ(site->wait(seconds(60)), 0) << name << ": " << site->output();

  const std::string audit = run_dir + "/audit.sqlite";
  // One applied update at most per site and round, and none left merely accepted.
  EXPECT_TRUE(auditRows(audit, "SELECT client, round FROM updates WHERE status='applied' GROUP BY client, round "
                               "HAVING COUNT(*) > 1").empty());
  EXPECT_TRUE(auditRows(audit, "SELECT 1 FROM updates WHERE status='accepted'").empty());
  // The poisoned updates were refused, every time, and none of them applied.
  for (const std::string& attacker : attackers) {
    EXPECT_FALSE(auditRows(audit, "SELECT 1 FROM updates WHERE status='rejected' AND client='" + attacker + "'").empty());
    EXPECT_TRUE(auditRows(audit, "SELECT 1 FROM updates WHERE status='applied' AND client='" + attacker + "'").empty());
  }
  EXPECT_TRUE(auditRows(audit, "SELECT 1 FROM updates u WHERE status='applied' AND EXISTS (SELECT 1 FROM updates r "
                               "WHERE r.status='rejected' AND r.client=u.client AND r.round=u.round AND r.sha256="
                               "u.sha256)").empty());
  // Each round's metrics count exactly the updates the audit log applied in it.
  std::map<int, int> answered;
  std::ifstream clients(run_dir + "/clients.jsonl");
  for (std::string line; std::getline(clients, line);)
    if (!line.empty()) ++answered[nlohmann::json::parse(line).at("round").get<int>()];
  for (int round = 1; round <= plan.rounds; ++round)
    EXPECT_EQ(auditRows(audit, fmt::format("SELECT 1 FROM updates WHERE status='applied' AND round={}", round)).size(),
              static_cast<std::size_t>(answered[round]))
        << "round " << round;
  // The final model is the one the audit log recorded for the last round.
  const NamedTensors final_model = deserializeTensors(readFile(run_dir + "/global_model.pt"), "the final model");
  const std::string final_sha = sha256Hex(net::parameterBytes(final_model.at("global")));
  EXPECT_EQ(auditRows(audit, fmt::format("SELECT sha256 FROM models WHERE round={} AND kind='aggregated' ORDER BY id "
                                         "DESC LIMIT 1",
                                         plan.rounds)),
            std::vector<std::string>{final_sha});
  EXPECT_EQ(auditRows(audit, "SELECT sha256 FROM models WHERE kind LIKE 'final%'"), std::vector<std::string>{final_sha});
  // The last server process ran from before rss_from_round to the end; its peak must not grow.
  const auto timing = linesByRound(run_dir + "/timing.jsonl");
  const double early = timing.at(plan.rss_from_round).at("peak_rss_mb").get<double>();
  const double late = timing.at(plan.rounds).at("peak_rss_mb").get<double>();
  EXPECT_LE(late, 1.10 * early) << "peak RSS " << early << " MB after round " << plan.rss_from_round << ", " << late
                                << " MB after round " << plan.rounds;
  std::printf("soak: %d sites, %d rounds, %d site kills, %zu server kills; %zu updates applied, %zu refused; peak RSS "
              "%.1f MB after round %d, %.1f MB after round %d\n",
              plan.sites, plan.rounds, site_kills, server_kills,
              auditRows(audit, "SELECT 1 FROM updates WHERE status='applied'").size(),
              auditRows(audit, "SELECT 1 FROM updates WHERE status='rejected'").size(), early, plan.rss_from_round,
              late, plan.rounds);
}

}  // namespace
}  // namespace pagefl::testing
