// The pagefl command line: run, compare, sweep, partition, report, config, dashboard, evaluate,
// predict; server, client, audit.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>

#include "dashboard_commands.h"
#include "model_commands.h"
#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/fl/attack.h"
#include "pagefl/net/audit_log.h"
#include "pagefl/net/federation_client.h"
#include "pagefl/net/federation_server.h"
#include "pagefl/pilot/compare.h"
#include "pagefl/pilot/comparison_report.h"
#include "pagefl/pilot/run_results.h"
#include "pagefl/report/progress_bar.h"
#include "pagefl/report/run_recorder.h"
#include "pagefl/sim/sharding.h"
#include "pagefl/sim/simulator.h"
#ifdef PAGEFL_WITH_MPI
#include "pagefl/mpi/sharded_simulation.h"
#endif

namespace {

using namespace pagefl;

// `replay_controls`: a controls.jsonl of an earlier run, whose changes are applied at the same rounds.
int runExperiment(const std::string& config_path, const std::vector<std::string>& overrides,
                  const std::string& replay_controls) {
  Config config = loadConfig(config_path, overrides);
  RunControls controls(config, RunKind::Simulated);
  if (!replay_controls.empty())
    for (const AppliedControl& recorded : readControls(replay_controls)) controls.schedule(recorded);
  configureSingleThreadedKernels();
  spdlog::info("loading data: {}", config.data.source);
  FederatedDataset data = buildFederatedDataset(config, dataSelection(config));
  spdlog::info("{} clients, {} local samples{}, {} server test samples; {} on {} worker(s), {} rounds",
               data.numClients(), data.local.size(), simulationShards() ? " read by this rank" : "",
               data.server_test.size(), config.algorithm.name, config.run.workers, config.run.rounds);

  RunRecorder recorder(config);
  ProgressBar progress;
  std::vector<RunObserver*> observers = {&recorder};
  if (config.run.progress) observers.push_back(&progress);
  Simulator(config, data).run(observers, &controls);

  fmt::print("\n{} on {} ({} clients, {} rounds, {:.2f} s/round)\n", config.algorithm.name, config.data.source,
             data.numClients(), config.run.rounds, recorder.totalSeconds() / static_cast<double>(config.run.rounds));
  fmt::print("{}", formatSummary(recorder.summary()));
  fmt::print("run directory: {}\n", recorder.directory());
  return 0;
}

int compareAlgorithms(const CompareOptions& options) {
  configureSingleThreadedKernels();
  ComparisonOutcome outcome = runComparison(options);
  fmt::print("\n{}", comparisonText(outcome.rows));
  fmt::print("{} runs trained, {} finished runs reused\n", outcome.runs_done, outcome.runs_reused);
  fmt::print("results: {}  (summary.md, summary.csv, one directory per run)\n", outcome.directory);
  fmt::print("report: {}\n", outcome.report);
  return 0;
}

// The table and HTML report over every finished run directory inside `directory`: simulated,
// deployed, or both side by side.
int reportRuns(const std::string& directory) {
  std::vector<RunResult> results;
  for (const auto& entry : std::filesystem::directory_iterator(directory))
    if (entry.is_directory() && isFinishedRun(entry.path().string()))
      results.push_back(readRunResult(entry.path().string()));
  if (results.empty())
    throw Error("'{}' holds no finished run (a directory with summary.json): pass the parent of run directories, "
                "e.g. runs/",
                directory);
  const std::vector<ComparisonRow> rows = summariseComparison(results);
  fmt::print("{}", comparisonText(rows));
  fmt::print("report: {}\n", writeComparisonReport(directory, rows));
  return 0;
}

int showPartition(const std::string& config_path, const std::vector<std::string>& overrides,
                  const std::string& export_dir) {
  Config config = loadConfig(config_path, overrides);
  FederatedDataset data = buildFederatedDataset(config);
  fmt::print("{}", partitionReport(data));
  if (!export_dir.empty()) {
    exportLeaf(data, export_dir);
    fmt::print("exported as LEAF JSON: {}/{{train,test,server_test}}.json\n", export_dir);
  }
  return 0;
}

class FieldPrinter final : public ConfigFieldVisitor {
 public:
  void integer(const std::string& key, std::int64_t& value, Bounds, const char* help) override {
    show(key, fmt::format("{}", value), help);
  }
  void real(const std::string& key, double& value, Bounds, const char* help) override {
    show(key, fmt::format("{}", value), help);
  }
  void flag(const std::string& key, bool& value, const char* help) override { show(key, value ? "true" : "false", help); }
  void text(const std::string& key, std::string& value, const std::vector<std::string>& choices,
            const char* help) override {
    std::string shown = fmt::format("\"{}\"", value);
    if (!choices.empty()) shown += fmt::format("  [{}]", fmt::join(choices, "|"));
    show(key, shown, help);
  }
  void integers(const std::string& key, std::vector<std::int64_t>& value, Bounds, const char* help) override {
    show(key, fmt::format("[{}]", fmt::join(value, ", ")), help);
  }
  void texts(const std::string& key, std::vector<std::string>& value, const char* help) override {
    show(key, fmt::format("[{}]", fmt::join(value, ", ")), help);
  }

 private:
  static void show(const std::string& key, const std::string& value, const char* help) {
    fmt::print("{:<28} = {:<34} # {}\n", key, value, help);
  }
};

}  // namespace

int runCommand(int argc, char** argv) {
  CLI::App app{"pagefl: federated learning that balances personalisation and generalisation"};
  app.require_subcommand(1);

  std::string config_path;
  std::vector<std::string> overrides;
  std::string export_dir;

  auto* run = app.add_subcommand("run", "run a simulated federated experiment");
  run->add_option("--config,-c", config_path, "TOML experiment config")->required()->check(CLI::ExistingFile);
  run->add_option("overrides", overrides, "key=value overrides, e.g. train.lr=0.05 run.workers=2");
  std::string replay_controls;
  run->add_option("--replay-controls", replay_controls,
                  "apply the control changes an earlier run recorded (its controls.jsonl) at the same rounds")
      ->check(CLI::ExistingFile);

  auto* partition = app.add_subcommand("partition", "show (and optionally export) the partition of a config");
  partition->add_option("--config,-c", config_path, "TOML experiment config")->required()->check(CLI::ExistingFile);
  partition->add_option("--export-leaf", export_dir, "write the partition as LEAF JSON into this directory");
  partition->add_option("overrides", overrides, "key=value overrides");

  CompareOptions compare_options;
  std::vector<std::string> algorithms;
  auto* compare = app.add_subcommand("compare", "run several algorithms x seeds on one partition and tabulate them");
  compare->add_option("--config,-c", compare_options.config_path, "TOML experiment config")
      ->required()
      ->check(CLI::ExistingFile);
  compare->add_option("--algorithms,-a", algorithms, "comma-separated algorithm names, e.g. page,fedavg,ditto")
      ->required()
      ->delimiter(',');
  compare->add_option("--seeds", compare_options.seeds, "seeds per algorithm (run.seed, run.seed + 1, ...)")
      ->check(CLI::PositiveNumber);
  compare->add_option("--output,-o", compare_options.output_dir,
                      "results directory (default <run.output_dir>/<run.name>-compare); rerun to resume");
  compare->add_option("overrides", compare_options.overrides, "key=value overrides");

  std::vector<std::string> ratios = {"5:1", "2:1", "1:1", "1:2", "1:5"}, balances, baselines = {"fedavg", "ditto"};
  bool ablations = false;
  auto* sweep = app.add_subcommand("sweep", "PAGE across reward weights (and ablations) against baselines: the trade-off");
  sweep->add_option("--config,-c", compare_options.config_path, "TOML experiment config")
      ->required()
      ->check(CLI::ExistingFile);
  sweep->add_option("--balance", balances,
                    "page.balance values, e.g. 0,0.25,0.5,0.75,1 (0: each site's own model, 1: the company-wide "
                    "model); alone, it replaces the default --ratios")
      ->delimiter(',');
  auto* ratios_option =
      sweep->add_option("--ratios", ratios, "client:server reward weights, e.g. 5:1,1:1,1:5")->delimiter(',');
  sweep->add_flag("--ablations", ablations, "add PAGE with fixed lr, fixed epochs and uniform weights");
  sweep->add_option("--baselines", baselines, "algorithms to place on the same chart (none: PAGE only)")
      ->delimiter(',');
  sweep->add_option("--seeds", compare_options.seeds, "seeds per variant")->check(CLI::PositiveNumber);
  sweep->add_option("--output,-o", compare_options.output_dir, "results directory; rerun to resume");
  sweep->add_option("overrides", compare_options.overrides, "key=value overrides");
  // --tune on compare and sweep: random search per contender on the validation splits.
  bool tune = false;
  TuneOptions tune_options;
  for (CLI::App* command : {compare, sweep}) {
    command->add_flag("--tune", tune,
                      "first tune each contender's lr, epochs and own coefficient on validation splits carved from "
                      "the clients' training data (needs partition.validation_fraction > 0), never on a test split");
    command->add_option("--trials", tune_options.trials, "--tune: trial runs per contender (the first is the config's own)")
        ->check(CLI::Range(1, 10000));
    command->add_option("--tune-rounds", tune_options.rounds, "--tune: rounds per trial (default run.rounds)")
        ->check(CLI::NonNegativeNumber);
    command->add_option("--tune-for", tune_options.objective,
                        "--tune: what a trial is ranked by: mean of global and local validation accuracy, global, local")
        ->check(CLI::IsMember({"mean", "global", "local"}));
  }

  auto* config_cmd =
      app.add_subcommand("config", "list every config key with its default and meaning, and every algorithm");

  net::ServerOptions server_options;
  auto* server = app.add_subcommand("server", "run the federation's server for deployed sites ([deploy] section)");
  server->add_option("--config,-c", server_options.config_path, "TOML experiment config")
      ->required()
      ->check(CLI::ExistingFile);
  server->add_flag("--resume", server_options.resume, "continue the run from its last checkpoint");
  server->add_flag("--new-audit-log", server_options.new_audit_log,
                   "with --resume when audit.sqlite is lost: start a new, empty audit log");
  server->add_option("overrides", server_options.overrides, "key=value overrides, e.g. deploy.listen=0.0.0.0:50051");

  // The dashboard's address and security, the same for `pagefl dashboard` and `server --dashboard`.
  dashboard::DashboardOptions dashboard_options;
  auto add_dashboard_security = [&dashboard_options](CLI::App* command) {
    command
        ->add_option("--access", dashboard_options.access_file,
                     "TOML file of the dashboard's users ([[user]] name, role = viewer|operator, token or "
                     "certificate); required off 127.0.0.1")
        ->check(CLI::ExistingFile);
    command->add_option("--tls-cert", dashboard_options.tls_cert, "PEM certificate for HTTPS (required off 127.0.0.1)")
        ->check(CLI::ExistingFile);
    command->add_option("--tls-key", dashboard_options.tls_key, "PEM private key of --tls-cert")
        ->check(CLI::ExistingFile);
    command
        ->add_option("--client-ca", dashboard_options.client_ca,
                     "also accept client certificates signed by this CA (their common name is the user)")
        ->check(CLI::ExistingFile);
  };
  std::string dashboard_address;
  server->add_option("--dashboard", dashboard_address,
                     "also serve the operator dashboard on host:port, e.g. 127.0.0.1:8050");
  add_dashboard_security(server);

  std::string dashboard_config = "configs/pilot-fmnist.toml", results_dir = "runs";
  auto* dashboard_cmd = app.add_subcommand("dashboard", "the operator dashboard: run the pilot from a web page");
  dashboard_cmd->add_option("--listen", dashboard_options.listen, "host:port to serve on (port 0: any free port)");
  dashboard_cmd->add_option("--config,-c", dashboard_config, "TOML config every comparison from the page starts from")
      ->check(CLI::ExistingFile);
  dashboard_cmd->add_option("--results", results_dir, "directory of comparisons: written by the page, and browsed");
  add_dashboard_security(dashboard_cmd);

  std::string model_path, model_data, predictions_out;
  auto* evaluate_cmd = app.add_subcommand(
      "evaluate", "score an exported model (models/*.safetensors of a run) on the data its run scored it on");
  auto* predict_cmd = app.add_subcommand(
      "predict", "apply an exported model to that data: each sample's predicted class and probabilities as CSV");
  for (CLI::App* command : {evaluate_cmd, predict_cmd}) {
    command->add_option("--model,-m", model_path, "a model file a run wrote, e.g. runs/x/models/global.safetensors")
        ->required()
        ->check(CLI::ExistingFile);
    command->add_option("--data", model_data,
                        "where the run's dataset is (default: the run's data.path); a global model is scored on the "
                        "server test set, a site's model on that site's test split");
  }
  predict_cmd->add_option("--out,-o", predictions_out, "CSV file to write (default: standard output)");

  net::ClientOptions client_options;
  bool insecure = false;
  auto* client = app.add_subcommand("client", "run one deployed site: train on local data for the server");
  client->add_option("--server", client_options.server, "the server's host:port")->required();
  client->add_option("--id", client_options.id, "this site's name (in the server's deploy.clients)")->required();
  client->add_option("--data", client_options.data_path, "directory of this site's data (LEAF JSON, IDX or CIFAR binary)")
      ->required();
  client->add_option("--state", client_options.state_dir, "directory for this site's persistent state "
                                                          "(default ./pagefl-site-<id>)");
  client->add_option("--ca", client_options.tls.ca, "PEM file of the federation's CA");
  client->add_option("--cert", client_options.tls.cert, "PEM file of this site's certificate");
  client->add_option("--key", client_options.tls.key, "PEM file of this site's private key");
  client->add_flag("--insecure", insecure, "plaintext, for a server with deploy.tls = false (local tests only)");
  std::string attack;
  client->add_option("--attack", attack,
                     "drill: poison every update this site sends (scale:F, sign-flip:F or random:F) to test the "
                     "server's [robust] defences");
  client
      ->add_option("--stall-at-round", client_options.stall_at_round,
                   "drill: hang after training in the first sampled round from N on, before sending, to test "
                   "the server's deadline and a site's recovery when it is killed there")
      ->check(CLI::PositiveNumber);
  client->add_option("--give-up-after", client_options.give_up_s, "seconds of an unreachable server before stopping")
      ->check(CLI::PositiveNumber);

  std::string report_dir;
  auto* report = app.add_subcommand("report", "table and HTML report of the finished runs in a directory (simulated or deployed)");
  report->add_option("directory", report_dir, "a directory of run directories, e.g. runs/")
      ->required()
      ->check(CLI::ExistingDirectory);

  net::AuditQuery audit_query;
  std::string audit_db;
  std::int64_t audit_round = -1;
  auto* audit = app.add_subcommand("audit", "query a server's audit log: updates, published models, events");
  audit->add_option("db", audit_db, "audit.sqlite in the server's run directory")->required();
  audit->add_option("--client", audit_query.client, "only this site's updates");
  audit->add_option("--round", audit_round, "only this round");
  audit->add_option("--status", audit_query.status, "only updates with this status")
      ->check(CLI::IsMember({"accepted", "applied", "rejected", "discarded"}));
  audit->add_flag("--models", audit_query.models, "the models published (sent and aggregated), with hashes");
  audit->add_flag("--events", audit_query.events, "the server's events: joins, starts, resumes, stops");

  CLI11_PARSE(app, argc, argv);
  try {
    if (run->parsed()) return runExperiment(config_path, overrides, replay_controls);
    if (partition->parsed()) return showPartition(config_path, overrides, export_dir);
    if (tune) compare_options.tune = tune_options;
    if (compare->parsed()) {
      compare_options.variants = algorithmVariants(algorithms);
      return compareAlgorithms(compare_options);
    }
    if (sweep->parsed()) {
      if (!balances.empty() && ratios_option->count() == 0) ratios.clear();
      compare_options.variants = sweepVariants(ratios, balances, ablations, baselines);
      return compareAlgorithms(compare_options);
    }
    if (server->parsed()) {
      if (dashboard_address.empty()) {
        if (!dashboard_options.access_file.empty() || !dashboard_options.tls_cert.empty())
          throw Error("--access and --tls-cert are the dashboard's: give --dashboard host:port too");
        return net::runServer(server_options);
      }
      dashboard_options.listen = dashboard_address;
      return serveDeploymentWithDashboard(server_options, dashboard_options);
    }
    if (evaluate_cmd->parsed()) return evaluateModelFile(model_path, model_data);
    if (predict_cmd->parsed()) return predictWithModelFile(model_path, model_data, predictions_out);
    if (dashboard_cmd->parsed()) return serveDashboard(dashboard_options, dashboard_config, results_dir);
    if (client->parsed()) {
      client_options.tls.enabled = !insecure;
      if (!attack.empty()) client_options.attack = parseAttack(attack);
      return net::runClient(client_options);
    }
    if (report->parsed()) return reportRuns(report_dir);
    if (audit->parsed()) {
      if (audit_round >= 0) audit_query.round = audit_round;
      fmt::print("{}", net::queryAudit(audit_db, audit_query));
      return 0;
    }
    if (config_cmd->parsed()) {
      Config defaults;
      FieldPrinter printer;
      describeConfig(defaults, printer);
      fmt::print("\nalgorithm.name, as each algorithm registers itself (src/pagefl/fl/algorithms/):\n");
      for (const AlgorithmEntry& entry : registeredAlgorithms()) fmt::print("  {:<10} {}\n", entry.name, entry.summary);
      return 0;
    }
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "error: out of memory: the config or the data asks for more memory than this machine has; "
                       "use a smaller model, fewer clients or a subset of the data\n");
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "internal error: {}\n", e.what());
    return 3;
  }
  return 0;
}

#ifdef PAGEFL_WITH_MPI
namespace {

// Under mpirun: rank 0 runs the command and drives every simulation; the other ranks follow them
// (mpi/sharded_simulation.h). A failure on any rank ends the whole job, naming the rank, since
// the others may be waiting for it anywhere in a round.
int runSharded(int argc, char** argv) {
  pagefl::mpi::MpiWorld world(argc, argv);
  pagefl::mpi::MpiShards shards(world);
  pagefl::setSimulationShards(&shards);
  if (world.rank() != 0) {
    try {
      pagefl::configureSingleThreadedKernels();
      shards.followRuns();
      return 0;
    } catch (const std::exception& e) {
      fmt::print(stderr, "error: rank {} of {}: {}\n", world.rank(), world.size(), e.what());
      world.abort(2);
    }
  }
  const int code = runCommand(argc, argv);
  if (shards.inRun()) {
    fmt::print(stderr, "error: rank 0 of {} stopped in the middle of a run; ending every rank\n", world.size());
    world.abort(code == 0 ? 2 : code);
  }
  shards.shutdown();
  return code;
}

}  // namespace
#endif

int main(int argc, char** argv) {
  reexecWithBetterBlasCore(argv);
#ifdef PAGEFL_WITH_MPI
  if (pagefl::mpi::launchedByMpirun()) return runSharded(argc, argv);
#else
  if (std::getenv("OMPI_COMM_WORLD_SIZE"))
    spdlog::warn(
        "this pagefl was built without Open MPI: under mpirun every rank runs the whole command on its "
        "own; install libopenmpi-dev (scripts/setup.sh) and rebuild to shard one simulation over ranks");
#endif
  return runCommand(argc, argv);
}
