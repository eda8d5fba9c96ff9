// The round engine's observer and control seams, on a simulated and on a deployed run: the same
// events in the same order from both; pause, resume, stop and a mid-run change of PAGE's reward
// weight applied between rounds, recorded, and replayed identically; bad control values refused.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "deployment_support.h"
#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/run_controls.h"
#include "pagefl/net/federation_server.h"
#include "pagefl/net/server_checkpoint.h"
#include "pagefl/report/run_recorder.h"
#include "pagefl/sim/simulator.h"

namespace pagefl::testing {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

// Every event as a line of text; `on_closed` runs on the engine's thread after each round.
class EventLog final : public RunObserver {
 public:
  std::function<void(std::int64_t round)> on_closed;
  std::function<void(const AppliedControl&)> on_control;

  void onRunStarted(const RunStarted& run) override {
    add(fmt::format("start {} rounds {}-{} of {} clients", run.algorithm, run.first_round, run.total_rounds,
                    run.num_clients));
  }
  void onControlApplied(const AppliedControl& c) override {
    add(fmt::format("control {} {} {} -> {} by {}", c.round, c.setting, c.old_value, c.new_value, c.who));
    if (on_control) on_control(c);
  }
  void onRoundStarted(std::int64_t round, const std::vector<std::int64_t>& participants) override {
    add(fmt::format("round {} with {}", round, fmt::join(participants, ",")));
  }
  void onUpdateReceived(std::int64_t round, const ClientRecord& client) override {
    add(fmt::format("update {} from {} ({} train samples)", round, client.client, client.train_size));
  }
  void onUpdateRefused(std::int64_t round, const RejectedUpdate& refusal) override {
    add(fmt::format("refused {} from {}", round, refusal.client));
  }
  void onRoundDiscarded(std::int64_t round, const std::string& reason) override {
    add(fmt::format("discarded {}: {}", round, reason));
  }
  void onRoundClosed(const RoundRecord& record) override {
    add(fmt::format("closed {} ({} updates)", record.round, record.clients.size()));
    if (on_closed) on_closed(record.round);
  }
  void onRunEnded(RunEnd end, std::int64_t completed) override {
    add(fmt::format("{} after {}", end == RunEnd::Finished ? "finished" : "stopped", completed));
  }

  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::int64_t closedRounds() const {
    std::lock_guard lock(mutex_);
    return std::count_if(lines_.begin(), lines_.end(), [](const std::string& l) { return l.rfind("closed", 0) == 0; });
  }

 private:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

const std::vector<std::string> kPage = {"algorithm.name=page", "run.rounds=5", "algorithm.participation=0.5",
                                        "run.batched_clients=off"};

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// The simulator on the federation's config, recorded in run.name = `name`.
std::string simulateInProcess(const Federation& federation, const std::vector<std::string>& overrides,
                              const std::string& name, std::vector<RunObserver*> observers = {},
                              RunControls* controls = nullptr) {
  const Config config = loadConfig(federation.config, with(overrides, {"run.name=" + name}));
  const FederatedDataset data = buildFederatedDataset(config);
  RunRecorder recorder(config);
  observers.insert(observers.begin(), &recorder);
  std::unique_ptr<RunControls> own;
  if (!controls) own = std::make_unique<RunControls>(config, RunKind::Simulated), controls = own.get();
  Simulator(config, data).run(observers, controls);
  return recorder.directory();
}

// The deployed server in this process (so that the test can observe and steer it) with every site
// a `pagefl client` process. Returns the server's exit code.
int deployInProcess(const TempDir& dir, const Federation& federation, const std::vector<std::string>& overrides,
                    EventLog& log, std::function<void(RunControls&)> on_controls = {}) {
  std::vector<std::unique_ptr<Process>> sites;
  for (const std::string& site : federation.sites)
    sites.push_back(std::make_unique<Process>(clientArgs(federation, dir, site), dir.file(site + ".log")));
  net::ServerOptions options;
  options.config_path = federation.config;
  options.overrides = overrides;
  options.observers = {&log};
  options.on_controls = std::move(on_controls);
  return net::runServer(options);
}

std::vector<std::string> lineRange(const std::string& text, std::size_t count) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; lines.size() < count && std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(RoundEngine, ASimulatedAndADeployedRunSendTheSameEvents) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  EventLog simulated, deployed;
  simulateInProcess(federation, kPage, "simulated", {&simulated});
  ASSERT_EQ(deployInProcess(dir, federation, kPage, deployed), 0);
  EXPECT_EQ(deployed.lines(), simulated.lines());
  EXPECT_EQ(simulated.lines().front(), "start page rounds 1-5 of 4 clients");
  EXPECT_EQ(simulated.lines().back(), "finished after 5");
  EXPECT_EQ(simulated.closedRounds(), 5);
}

// A simulation of the federation scheduled with the controls `run_dir` recorded computes the
// same metrics files.
void expectReplayEquals(const Federation& federation, const std::string& run_dir) {
  RunControls replay(loadConfig(federation.config, kPage), RunKind::Simulated);
  for (const AppliedControl& control : readControls(run_dir + "/controls.jsonl")) replay.schedule(control);
  const std::string replayed = simulateInProcess(federation, kPage, "replayed", {}, &replay);
  EXPECT_EQ(readFile(replayed + "/rounds.jsonl"), readFile(run_dir + "/rounds.jsonl"));
  EXPECT_EQ(readFile(replayed + "/clients.jsonl"), readFile(run_dir + "/clients.jsonl"));
}

// An operator who pauses the run after round 2, changes PAGE's client reward weight to 3 while it
// is paused, checks that no round runs meanwhile and resumes it; optionally stops it later.
struct Operator {
  RunControls* controls = nullptr;
  std::promise<void> paused;

  void watch(EventLog& log, std::int64_t stop_after = 0) {
    log.on_closed = [this, stop_after](std::int64_t round) {
      if (round == 2) {
        controls->pause("ops@hq");
        controls->set("page.client_reward_weight", "3", "ops@hq");
      }
      if (round == stop_after) controls->stop("ops@hq");
    };
    log.on_control = [this](const AppliedControl& c) {
      if (c.new_value == "paused") paused.set_value();
    };
  }

  void resumeOncePaused(const EventLog& log) {
    ASSERT_EQ(paused.get_future().wait_for(seconds(120)), std::future_status::ready);
    EXPECT_EQ(log.closedRounds(), 2);  // the engine waits between rounds, before round 3 starts
    controls->resume("ops@hq");
  }
};

TEST(RoundEngine, PauseResumeAndARewardWeightChangeApplyBetweenRoundsAndReplayFromTheRecord) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  const Config config = loadConfig(federation.config, kPage);
  RunControls controls(config, RunKind::Simulated);
  EventLog log;
  Operator ops;
  ops.controls = &controls;
  ops.watch(log);
  auto running = std::async(std::launch::async,
                            [&] { return simulateInProcess(federation, kPage, "changed", {&log}, &controls); });
  ops.resumeOncePaused(log);
  const std::string changed = running.get();
  const std::string plain = simulateInProcess(federation, kPage, "plain");

  const std::vector<AppliedControl> recorded = readControls(changed + "/controls.jsonl");
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[0].setting, kRunState);
  EXPECT_EQ(recorded[0].new_value, "paused");
  EXPECT_EQ(recorded[1].round, 3);
  EXPECT_EQ(recorded[1].who, "ops@hq");
  EXPECT_EQ(recorded[1].setting, "page.client_reward_weight");
  EXPECT_EQ(recorded[1].old_value, "1");
  EXPECT_EQ(recorded[1].new_value, "3");
  EXPECT_EQ(recorded[2].new_value, "running");
  // Rounds before the change are today's run; the change moves what follows.
  const std::string changed_clients = readFile(changed + "/clients.jsonl");
  const std::string plain_clients = readFile(plain + "/clients.jsonl");
  EXPECT_EQ(lineRange(changed_clients, 4), lineRange(plain_clients, 4));  // rounds 1-2, 2 sites each
  EXPECT_NE(changed_clients, plain_clients);
  EXPECT_TRUE(readFile(plain + "/controls.jsonl").empty());
  // The round the change applied from carries it in rounds.jsonl; the others, as without controls.
  const std::vector<std::string> rounds = lineRange(readFile(changed + "/rounds.jsonl"), 10);
  ASSERT_GE(rounds.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(rounds[2])["settings_changed"],
            nlohmann::json::parse(R"([{"setting":"page.client_reward_weight","old":"1","new":"3","who":"ops@hq"}])"));
  EXPECT_FALSE(nlohmann::json::parse(rounds[1]).contains("settings_changed"));
  EXPECT_FALSE(nlohmann::json::parse(rounds[3]).contains("settings_changed"));

  // A new run scheduled with the record replays the changed one exactly.
  expectReplayEquals(federation, changed);
}

TEST(RoundEngine, AStoppedSimulationEndsAfterTheRoundInHandAndDoesNotLookFinished) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  const Config config = loadConfig(federation.config, kPage);
  RunControls controls(config, RunKind::Simulated);
  EventLog log;
  log.on_closed = [&](std::int64_t round) {
    if (round == 2) controls.stop("ops@hq");
  };
  const std::string run = simulateInProcess(federation, kPage, "stopped", {&log}, &controls);
  EXPECT_EQ(log.lines().back(), "stopped after 2");
  EXPECT_EQ(lineRange(readFile(run + "/rounds.jsonl"), 10).size(), 2u);
  EXPECT_FALSE(fs::exists(run + "/summary.json"));
  EXPECT_FALSE(fs::exists(run + "/models/global.safetensors"));  // nothing is handed over from a stopped run
  EXPECT_NE(readFile(run + "/controls.jsonl").find("stopped"), std::string::npos);
}

TEST(RoundEngine, ADeployedRunIsPausedChangedAndStoppedByAnOperatorAndTheAuditLogSaysWho) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  EventLog log;
  Operator ops;
  ops.watch(log, /*stop_after=*/3);
  auto serving = std::async(std::launch::async, [&] {
    return deployInProcess(dir, federation, kPage, log, [&](RunControls& controls) { ops.controls = &controls; });
  });
  ops.resumeOncePaused(log);
  EXPECT_EQ(serving.get(), 0);
  const std::string run_dir = federation.runs + "/deployed";
  EXPECT_EQ(log.lines().back(), "stopped after 3");
  const std::string audit = run_dir + "/audit.sqlite";
  const std::vector<std::string> events = auditRows(audit, "SELECT kind, detail FROM events WHERE kind IN "
                                                           "('control', 'stop') ORDER BY id");
  ASSERT_EQ(events.size(), 5u) << fmt::format("{}", fmt::join(events, "\n"));
  EXPECT_EQ(events[1], "control|ops@hq changed page.client_reward_weight from 1 to 3, in force from round 3");
  EXPECT_EQ(events[4], "stop|control after round 3");
  EXPECT_EQ(net::loadCheckpoint(net::checkpointPath(run_dir), 5, 10 * 5 + 5).round, 3);

  // The change reached the sites as it reaches simulated clients: a simulation replaying the
  // deployment's record computes the same rounds.
  expectReplayEquals(federation, run_dir);
}

TEST(RunControls, RefusesAValueOutOfRangeOrASettingThatCannotChangeNamingWhatIsAllowed) {
  Config config;
  config.algorithm.name = "page";
  RunControls simulated(config, RunKind::Simulated);
  EXPECT_NE(errorOf([&] { simulated.set("page.balance", "1.5", "ops"); }).find("must be between 0 and 1"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { simulated.set("algorithm.participation", "0", "ops"); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { simulated.set("page.client_reward_weight", "lots", "ops"); }).find("must be a number"),
            std::string::npos);
  const std::string not_changeable = errorOf([&] { simulated.set("train.lr", "0.1", "ops"); });
  EXPECT_NE(not_changeable.find("cannot change during this run"), std::string::npos);
  EXPECT_NE(not_changeable.find("algorithm.participation, page.client_reward_weight"), std::string::npos);
  // The round deadline is a deployment's; PAGE's weights are PAGE's.
  EXPECT_NE(errorOf([&] { simulated.set("deploy.round_deadline_s", "30", "ops"); }).find("cannot change"),
            std::string::npos);
  config.algorithm.name = "fedavg";
  RunControls deployed(config, RunKind::Deployed);
  EXPECT_NO_THROW(deployed.set("deploy.round_deadline_s", "30", "ops"));
  EXPECT_NE(errorOf([&] { deployed.set("page.balance", "0.2", "ops"); }).find("cannot change"), std::string::npos);
  // Nothing refused was queued.
  EXPECT_EQ(simulated.takeDue(1).size(), 0u);
  EXPECT_EQ(deployed.takeDue(1).size(), 1u);
}

TEST(RunControls, RecordedControlsWithADamagedLineAreRefusedNamingTheLine) {
  TempDir dir;
  std::ofstream(dir.file("controls.jsonl")) << R"({"round":3,"who":"a","setting":"page.balance","old":"0.5","new":"0.7"})"
                                            << "\n{\"round\":\"x\"}\n";
  EXPECT_NE(errorOf([&] { readControls(dir.file("controls.jsonl")); }).find("line 2"), std::string::npos);
  EXPECT_NE(errorOf([&] { readControls(dir.file("missing.jsonl")); }).find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace pagefl::testing
