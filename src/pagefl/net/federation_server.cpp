#include "pagefl/net/federation_server.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "pagefl/core/config.h"
#include "pagefl/core/directories.h"
#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/data/data_source.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/pooled_evaluator.h"
#include "pagefl/engine/round_engine.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/fl/streams.h"
#include "pagefl/modelfile/model_export.h"
#include "pagefl/net/audit_log.h"
#include "pagefl/net/deployed_sites.h"
#include "pagefl/net/federation_service.h"
#include "pagefl/net/server_checkpoint.h"
#include "pagefl/net/shutdown_signals.h"
#include "pagefl/net/tls.h"
#include "pagefl/nn/models.h"
#include "pagefl/report/run_recorder.h"

namespace pagefl::net {
namespace {

namespace fs = std::filesystem;
using std::chrono::duration;

// Settings the simulator has and a deployment cannot honour, refused before anything starts.
void checkDeployable(const Config& config) {
  if (config.deploy.clients.empty())
    throw Error("deploy.clients is empty: list the names of the sites allowed to join, e.g. "
                "deploy.clients = [\"site-a\", \"site-b\"] (with TLS, their certificates' common names)");
  for (const auto& [key, value] : {std::pair{"deploy.min_clients", config.deploy.min_clients},
                                    std::pair{"deploy.min_updates", config.deploy.min_updates}})
    if (value > static_cast<std::int64_t>(config.deploy.clients.size()))
      throw Error("{} = {} but deploy.clients lists only {} sites", key, value, config.deploy.clients.size());
  if (config.eval.new_clients > 0)
    throw Error("eval.new_clients holds sites out of training, which only the simulator can do; set it to 0");
  if (config.partition.late_join_round > 1)
    throw Error("partition.late_join_round is a simulated demand shift; deployed sites join when they connect");
  if (!config.attack.clients.empty())
    throw Error("attack.clients simulates attackers; a deployed server cannot make its sites attack (a site's drill "
                "is `pagefl client --attack`): remove [attack]");
  if (config.eval.personal_on_server)
    throw Error("eval.personal_on_server needs every site's personalised model on the server; deployed sites keep "
                "theirs, so set it to false");
}

// The config sites build their half from: the server's own settings (addresses, key paths, site
// names) are not theirs to see.
std::string configForSites(Config config) {
  config.deploy = DeployConfig{};
  return toToml(config);
}

// ", G->S a%, G->L b%, P->L c%": the round's streams for the log (client means, unweighted).
std::string evaluationSummary(const RoundRecord& record) {
  std::string text = fmt::format(", G->S {:.2f}%", 100 * record.global_on_server.accuracy());
  const std::pair<const char*, const char*> shown[] = {{streams::kGlobalOnLocal, "G->L"},
                                                        {streams::kPersonalOnLocal, "P->L"}};
  for (const auto& [stream, label] : shown) {
    double sum = 0;
    int count = 0;
    for (const ClientRecord& client : record.clients)
      if (auto it = client.metrics.find(streams::accuracyKey(stream)); it != client.metrics.end()) sum += it->second, ++count;
    if (count > 0) text += fmt::format(", {} {:.2f}%", label, 100 * sum / count);
  }
  return text;
}

class DeployedRun final : public RunObserver {
 public:
  DeployedRun(const ServerOptions& options, ShutdownSignals& signals)
      : config_path_(options.config_path),
        config_(loadConfig(options.config_path, options.overrides)),
        settings_in_force_(config_),
        extra_observers_(options.observers),
        on_controls_(options.on_controls),
        streams_(static_cast<std::uint64_t>(config_.run.seed)),
        signals_(signals),
        run_dir_(runDirectory(config_)),
        coordinator_(config_.deploy.clients,
                     std::chrono::milliseconds(static_cast<std::int64_t>(config_.deploy.client_timeout_s * 1000))) {
    checkDeployable(config_);
    ensureDirectory(run_dir_, "the run directory (deploy.run_dir, or run.output_dir/run.name)");
    const bool has_checkpoint = fs::exists(checkpointPath(run_dir_));
    if (options.resume && !has_checkpoint)
      throw Error("--resume: '{}' holds no checkpoint; start without --resume", run_dir_);
    if (!options.resume && has_checkpoint)
      throw Error("'{}' already holds a run's checkpoint: pass --resume to continue it, or choose another run.name "
                  "or deploy.run_dir",
                  run_dir_);
    configureSingleThreadedKernels();
    spdlog::info("loading the server test set: {}", config_.data.source);
    SourceData source = loadSource(config_, RngStreams(dataSeed(config_)));  // the simulator's draw
    server_test_ = std::move(source.server_test);
    num_classes_ = source.num_classes;
    spec_ = {config_.model.name, server_test_.sampleShape(), num_classes_, config_.model.hidden};
    pool_ = std::make_unique<WorkerPool>(config_.run.workers,
                                         [&] { return std::make_unique<FlatModel>(makeNetwork(spec_)); });
    model_size_ = pool_->replica(0).layout().size();
    algorithm_ = makeAlgorithm(config_);
    algorithm_.server->initialise(initialParameters(pool_->replica(0).layout(), config_.model.init,
                                                    streams_.torchGenerator(Purpose::ModelInit)),
                                  static_cast<std::int64_t>(config_.deploy.clients.size()));
    const std::string audit_path = (fs::path(run_dir_) / "audit.sqlite").string();
    if (options.new_audit_log && !options.resume) throw Error("--new-audit-log is for --resume only");
    if (options.new_audit_log && fs::exists(audit_path))
      throw Error("--new-audit-log: '{}' exists; it is kept, so resume without --new-audit-log", audit_path);
    audit_ = std::make_unique<AuditLog>(
        audit_path, options.resume && !options.new_audit_log,
        std::chrono::milliseconds(static_cast<std::int64_t>(config_.deploy.audit_timeout_s * 1000)));
    if (options.resume) restore(options.new_audit_log), restoreControls();
    // Updates of rounds past the checkpoint (all of them, when a run that never checkpointed is
    // started again) never reached a kept model: their rounds run again.
    audit_->reconcileWithCheckpoint(completed_);
    recorder_ = std::make_unique<RunRecorder>(config_, run_dir_, completed_);
    audit_->recordEvent(options.resume ? "resume" : "start",
                        fmt::format("{} from round {} of {}", config_.algorithm.name, completed_ + 1, config_.run.rounds));
  }

  int run() {
    ServiceSettings settings{config_.deploy.tls,
                             configForSites(config_),
                             model_size_,
                             num_classes_,
                             server_test_.sampleShape(),
                             static_cast<std::int64_t>(config_.deploy.max_update_mb * (1 << 20)),
                             static_cast<std::int64_t>(config_.deploy.max_buffered_mb * (1 << 20)),
                             algorithm_.server->expectsModels(),
                             config_.robust};
    FederationService service(settings, coordinator_, *audit_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(config_.deploy.listen,
                             serverCredentials({config_.deploy.tls, config_.deploy.ca, config_.deploy.cert,
                                                config_.deploy.key}),
                             &port);
    builder.SetMaxReceiveMessageSize(kMaxWireMessageBytes);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || port == 0)
      throw Error("cannot listen on deploy.listen = \"{}\": is the address valid and the port free?",
                  config_.deploy.listen);
    spdlog::info("{} server listening on {} ({}), run directory {}", config_.algorithm.name, config_.deploy.listen,
                 config_.deploy.tls ? "mutual TLS" : "PLAINTEXT: for local tests only", run_dir_);

    PooledServerEvaluator evaluator(*pool_, server_test_, config_.eval.batch_size, streams_);
    DeployedSites sites(settings_in_force_, coordinator_, *audit_, signals_.stop);
    RunControls controls(config_, RunKind::Deployed);
    std::vector<RunObserver*> observers = {recorder_.get(), this};
    observers.insert(observers.end(), extra_observers_.begin(), extra_observers_.end());
    RoundEngine engine(settings_in_force_,
                       {static_cast<std::int64_t>(config_.deploy.clients.size()), completed_ + 1, spec_,
                        /*exports_personal_models=*/false},
                       *algorithm_.server, evaluator, sites, observers, &controls);
    if (on_controls_) on_controls_(controls);
    RunEnd end = RunEnd::Finished;
    try {
      end = engine.run();
    } catch (const Error& e) {
      // The audit log failed (deleted, damaged, locked past deploy.audit_timeout_s) or a round
      // could not be recorded: stop serving rather than run on without a record.
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      throw Error("{}; the server stopped after round {} (its last checkpoint is round {}). Fix the cause, then "
                  "continue with: pagefl server --config {} --resume",
                  e.what(), completed_, last_checkpoint_, config_path_);
    }
    if (end == RunEnd::Stopped) {
      const bool by_signal = signals_.stop;
      spdlog::warn("{}: checkpointing and stopping", by_signal ? "received SIGINT or SIGTERM" : "asked to stop");
      if (last_checkpoint_ != completed_) checkpoint();
      audit_->recordEvent("stop", fmt::format("{} after round {}", by_signal ? "signal" : "control", completed_));
      spdlog::info("stopped after round {}; continue with: pagefl server --config {} --resume", completed_,
                   config_path_);
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      return 0;
    }
    finish();
    // Clients polling now hear that the run is over before the server goes away.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    return 0;
  }

 private:
  void restore(bool new_audit_log) {
    const std::string path = checkpointPath(run_dir_);
    ServerCheckpoint checkpoint = loadCheckpoint(path, config_.run.rounds, model_size_);
    if (checkpoint.config_toml != toToml(config_))
      throw Error("the config differs from the one the checkpoint in '{}' ran with ({}); resume with the same "
                  "config and overrides",
                  run_dir_, (fs::path(run_dir_) / "config.toml").string());
    if (checkpoint.round == config_.run.rounds)
      throw Error("the run in '{}' finished all {} rounds; there is nothing to resume", run_dir_, checkpoint.round);
    // The audit log recorded the model of every completed round: a checkpoint that disagrees with
    // it is not the state the run reached, whatever its checksum says.
    const std::string global_sha = sha256Hex(parameterBytes(checkpoint.server_state.at("global")));
    const std::optional<std::string> audited = audit_->aggregatedModel(checkpoint.round);
    if (checkpoint.round > 0 && !new_audit_log && audited != global_sha)
      throw Error("the checkpoint '{}' holds a round-{} model that {}: restore the checkpoint from a backup, or start "
                  "afresh in another run directory",
                  path, checkpoint.round,
                  audited ? "differs from the one the audit log recorded" : "the audit log never recorded");
    algorithm_.server->loadState(checkpoint.server_state);
    completed_ = last_checkpoint_ = checkpoint.round;
    spdlog::info("resumed from the checkpoint of round {}", completed_);
  }

  void checkpoint() {
    std::vector<Site> sites;
    for (std::size_t c = 0; c < config_.deploy.clients.size(); ++c)
      sites.push_back(coordinator_.site(static_cast<std::int64_t>(c)));
    saveCheckpoint(checkpointPath(run_dir_), {completed_, algorithm_.server->saveState(), toToml(config_), sites});
    last_checkpoint_ = completed_;
  }

  // Each closed round: its checkpoint when due, and a line in the log.
  void onRoundClosed(const RoundRecord& record) override {
    completed_ = record.round;
    if (record.round % config_.deploy.checkpoint_every == 0 || record.round == config_.run.rounds) checkpoint();
    spdlog::info("round {}/{}: {} update(s) aggregated{}, {:.2f} s", record.round, config_.run.rounds,
                 record.clients.size(), record.evaluated ? evaluationSummary(record) : "", record.seconds);
    holdWhenTestAsks(record.round);
  }

  // Tests that kill the server during a round hold it after that round
  // (PAGEFL_TEST_HOLD_AFTER_ROUND=<round>), so that it cannot finish the run before they do.
  static void holdWhenTestAsks(std::int64_t round) {
    const char* asked = std::getenv("PAGEFL_TEST_HOLD_AFTER_ROUND");
    if (!asked || std::string(asked) != std::to_string(round)) return;
    spdlog::warn("holding after round {} until killed, as PAGEFL_TEST_HOLD_AFTER_ROUND asks", round);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }

  // Who changed what is part of the run's record.
  void onControlApplied(const AppliedControl& control) override {
    audit_->recordEvent("control", fmt::format("{} changed {} from {} to {}, in force from round {}", control.who,
                                               control.setting, control.old_value, control.new_value, control.round));
  }

  // The controls a resumed run had in force: those recorded up to the round after its checkpoint.
  void restoreControls() {
    const fs::path path = fs::path(run_dir_) / "controls.jsonl";
    if (!fs::exists(path)) return;
    for (const AppliedControl& control : readControls(path.string()))
      if (control.setting != kRunState && control.round <= completed_ + 1)
        settings_in_force_ = withSetting(settings_in_force_, control.setting, control.new_value);
    algorithm_.server->reconfigure(settings_in_force_);
  }

  void finish() {
    coordinator_.finish();
    writeFileAtomically((fs::path(run_dir_) / "global_model.pt").string(),
                        serializeTensors({{"global", algorithm_.server->global()}}));
    const std::string model_bytes = parameterBytes(algorithm_.server->global());
    audit_->recordModel(completed_, "final (global_model.pt)", sha256Hex(model_bytes),
                        static_cast<std::int64_t>(model_bytes.size()));
    // The file the run hands over (written by the recorder as the run ended), hashed as it is on
    // disk, so that a model in production is traced to this run and its round.
    const std::string exported = readWholeFile(globalModelPath(run_dir_), "the exported global model");
    audit_->recordModel(completed_, "exported (models/global.safetensors)", sha256Hex(exported),
                        static_cast<std::int64_t>(exported.size()));
    audit_->recordEvent("finish", fmt::format("{} rounds", completed_));
    fmt::print("\n{} deployed over {} sites ({} rounds)\n{}", config_.algorithm.name, config_.deploy.clients.size(),
               completed_, formatSummary(recorder_->summary()));
    fmt::print("run directory: {} (audit log: audit.sqlite, final model: models/global.safetensors)\n", run_dir_);
  }

  std::string config_path_;
  Config config_;
  Config settings_in_force_;  // config_ as changed by controls (restored on resume)
  std::vector<RunObserver*> extra_observers_;
  std::function<void(RunControls&)> on_controls_;
  RngStreams streams_;
  ShutdownSignals& signals_;
  std::string run_dir_;
  RoundCoordinator coordinator_;
  Dataset server_test_;
  std::int64_t num_classes_ = 0;
  ModelSpec spec_;
  std::unique_ptr<WorkerPool> pool_;
  std::int64_t model_size_ = 0;
  Algorithm algorithm_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RunRecorder> recorder_;
  std::int64_t completed_ = 0, last_checkpoint_ = 0;
};

}  // namespace

std::string runDirectory(const Config& config) {
  return config.deploy.run_dir.empty() ? (fs::path(config.run.output_dir) / config.run.name).string()
                                       : config.deploy.run_dir;
}

int runServer(const ServerOptions& options) {
  configureGrpc();
  ShutdownSignals signals;
  DeployedRun run(options, signals);
  return run.run();
}

}  // namespace pagefl::net
