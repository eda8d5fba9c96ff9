// The experiment configuration: typed sections with defaults, read from TOML plus dotted
// `key=value` overrides. Every field is declared once, in describeConfig(), which drives
// loading, range checks, unknown-key detection and writing the resolved config.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "pagefl/core/algorithm_catalog.h"

namespace pagefl {

struct RunConfig {
  std::string name = "experiment";
  std::int64_t seed = 1;
  std::int64_t rounds = 10;
  std::int64_t workers = 1;
  std::string output_dir = "runs";
  bool progress = true;
  bool keep_best = false;       // also hand over the global model of the round with the best G->S
  bool export_personal = true;  // hand over the last round's participants' personalised models
  // "auto": clients of a small fully connected model train stacked when their algorithm allows;
  // "on": insist (an error names why not); "off": one client at a time.
  std::string batched_clients = "auto";
  std::int64_t state_memory_mb = 0;  // client state kept in memory; the rest spills to spill_dir (0: all in memory)
  std::string spill_dir;             // empty: the system's temporary directory
};

struct DataConfig {
  std::string source = "fashion-mnist";
  std::string path;  // empty: the source's default location
  std::int64_t train_subset = 0;  // 0: all
  std::int64_t test_subset = 0;   // 0: all
  std::string leaf_train;
  std::string leaf_test;
  std::string leaf_server_test;
  std::vector<std::int64_t> leaf_sample_shape;  // empty: flat feature vectors
};

struct SyntheticConfig {
  std::int64_t num_clients = 100;
  std::int64_t dimension = 30;
  std::int64_t classes = 30;
  std::int64_t samples_per_client = 375;
  double alpha = 0.0;
  double beta = 1.0;
  bool iid_solution = true;
  double server_fraction = 0.2;
};

struct PartitionConfig {
  std::string scheme = "dirichlet";
  std::int64_t num_clients = 10;
  double alpha = 0.5;
  std::int64_t min_size = 10;
  std::int64_t max_retries = 100;
  std::int64_t shards_per_client = 2;
  double train_fraction = 0.7;
  double validation_fraction = 0.0;  // of each client's training samples, held out for tuning
  std::int64_t seed = 0;  // seed of the data's random streams (0: run.seed)
  // Demand shift: a `late_clients` share of clients join only at late_join_round: those with the
  // largest share of labels in the upper half of the classes, so the newcomers shift the label mix.
  double late_clients = 0.0;
  std::int64_t late_join_round = 0;
};

struct ModelConfig {
  std::string name = "cnn";
  std::vector<std::int64_t> hidden = {200};
  std::string init = "default";
};

struct TrainConfig {
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  double clip_norm = 0.0;  // 0: no clipping
  std::int64_t epochs = 1;
  std::int64_t batch_size = 32;
};

// Which algorithm, and how many clients take part. Each algorithm's own hyperparameters are
// declared beside it (fl/algorithms/) and held in Config::algorithm_settings.
struct AlgorithmConfig {
  std::string name = "fedavg";
  double participation = 1.0;
};

// PAGE and Dap-FL (see SPEC-PAGE.md). Defaults: the published Synthetic setup.
struct PageConfig {
  double lr_min = 0.001;
  double lr_max = 0.1;
  std::int64_t epoch_max = 20;
  double critic_lr = 5e-3;
  double actor_lr = 5e-4;
  double tau = 0.005;
  double gamma = 0.99;
  std::int64_t warmup_rounds = 35;
  double epsilon_decay_rounds = 500;
  std::int64_t replay_capacity = 60000;
  std::int64_t rl_batch_size = 32;
  std::int64_t agent_updates = 1;  // DDPG updates per agent per round (the published code: 1)
  double reward_delta = 1e-5;
  double client_reward_weight = 1.0;
  double server_reward_weight = 1.0;
  // Demand shift: from round shift_round on (0: never), the reward weights become these.
  std::int64_t shift_round = 0;
  double shift_client_reward_weight = 1.0;
  double shift_server_reward_weight = 1.0;
  // pagefl's balance control (not the paper's): 0 rewards every agent for personalisation only,
  // 1 for generalisation only (see page.h). shift_balance applies from shift_round on; when not
  // set it stays balance.
  double balance = 0.5;
  double shift_balance = 0.5;
  bool adapt_lr = true;
  bool adapt_epochs = true;
  bool adapt_weights = true;
  // "published" reproduces the authors' code (the published action map, the four faithful_*
  // switches, no balance); "pagefl" is the intent where the two differ. Set first: it decides the
  // defaults of the keys below, which a config may still set one by one.
  std::string variant = "pagefl";
  std::string action_map = "affine";
  bool server_noise = false;
  // Server test samples PAGE's server scores each upload on (a class-stratified subset fixed by
  // the seed); 0: all of them. The global model is always scored on all.
  std::int64_t server_score_samples = 0;
  bool faithful_lag = false;
  bool faithful_action_storage = false;
  bool faithful_warmup = false;    // random actions while step <= warmup_rounds: one more round
  bool faithful_sampling = false;  // replay minibatches without replacement
};

struct EvalConfig {
  std::int64_t every = 1;
  bool personal_on_server = false;  // the optional P->S stream
  std::int64_t batch_size = 1000;
  double new_clients = 0.0;         // share of clients held out of training, for G->N and FT->N
  std::int64_t new_client_steps = 5;  // FT->N: local SGD steps from the global model
};

// The deployment (`pagefl server`): who may join, round control, security, checkpoints.
struct DeployConfig {
  std::string listen = "127.0.0.1:50051";
  std::vector<std::string> clients;  // names allowed to join; a name's position is its client index
  std::int64_t min_clients = 1;   // connected sites needed to start a round
  std::int64_t min_updates = 1;   // updates needed by the deadline to aggregate it
  double round_deadline_s = 120;
  double client_timeout_s = 30;      // a client silent this long is no longer sampled
  std::int64_t checkpoint_every = 1;
  bool tls = true;
  std::string ca;    // PEM: the CA that signed every client's certificate
  std::string cert;  // PEM: the server's certificate
  std::string key;   // PEM: the server's private key
  double max_update_mb = 512;
  double max_buffered_mb = 2048;  // all uploads in flight at once, across every stream
  double audit_timeout_s = 60;    // how long an audit write waits for a busy database before the server stops
  std::string run_dir;  // empty: <run.output_dir>/<run.name>
};

// The server's defences against poisoned updates (pagefl's; see fl/robust_aggregation.h).
struct RobustConfig {
  std::string rule = "mean";     // mean | median | trimmed-mean | krum
  double trim_fraction = 0.1;    // trimmed-mean: share cut from each end, per coordinate
  std::int64_t byzantine = 1;    // krum: attackers tolerated
  std::int64_t krum_select = 0;  // multi-Krum: updates averaged (0: n - byzantine)
  double max_update_norm = 0;    // refuse updates farther than this from the global model (0: off)
  double norm_factor = 0;        // clip updates to this many times the round's median distance (0: off)
};

// Simulated attackers, to measure the defences: their uploads are rewritten after training.
struct AttackConfig {
  std::vector<std::int64_t> clients;  // attacking client ids (empty: no attack)
  std::string kind = "scale";         // scale | sign-flip | random
  double scale = 10;                  // the factor applied to the update (w_i - w)
};

struct Config {
  RunConfig run;
  DataConfig data;
  SyntheticConfig synthetic;
  PartitionConfig partition;
  ModelConfig model;
  TrainConfig train;
  AlgorithmConfig algorithm;
  AlgorithmSettings algorithm_settings;  // the [algorithm] keys each algorithm declares beside it
  PageConfig page;
  EvalConfig eval;
  RobustConfig robust;
  AttackConfig attack;
  DeployConfig deploy;
};

struct Bounds {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

// Visits every config field with its dotted key, its constraint and a one-line description.
class ConfigFieldVisitor {
 public:
  virtual ~ConfigFieldVisitor() = default;
  virtual void integer(const std::string& key, std::int64_t& value, Bounds bounds, const char* help) = 0;
  virtual void real(const std::string& key, double& value, Bounds bounds, const char* help) = 0;
  virtual void flag(const std::string& key, bool& value, const char* help) = 0;
  // `choices` empty: any text.
  virtual void text(const std::string& key, std::string& value, const std::vector<std::string>& choices,
                    const char* help) = 0;
  virtual void integers(const std::string& key, std::vector<std::int64_t>& value, Bounds bounds,
                        const char* help) = 0;
  virtual void texts(const std::string& key, std::vector<std::string>& value, const char* help) = 0;
};

void describeConfig(Config& config, ConfigFieldVisitor& visitor);

// The reward weights PAGE uses in `round`, after any demand shift.
double clientRewardWeight(const PageConfig& page, std::int64_t round);
double serverRewardWeight(const PageConfig& page, std::int64_t round);
// page.balance in force at `round`; nullopt under the published variant, which has none.
std::optional<double> balanceAt(const PageConfig& page, std::int64_t round);

// Whether item `index` belongs to an evenly spread share `fraction` of 0, 1, 2, ... (for
// fraction 0.2: 4, 9, 14, ...). Held-out clients are chosen this way.
bool inEvenShare(std::int64_t index, double fraction);

// Every value algorithm.name accepts: the registered algorithms, by name.
std::vector<std::string> algorithmNames();

// Reads a TOML file (empty path: defaults only) and applies `key=value` overrides. A top-level
// `extends = "base.toml"` (relative to the file) starts from that file's values.
// Throws pagefl::Error naming the file, key and what to fix.
Config loadConfig(const std::string& path, const std::vector<std::string>& overrides = {});
Config parseConfig(const std::string& toml_text, const std::vector<std::string>& overrides = {},
                   const std::string& origin = "<config>");

// The fully resolved config as TOML, with every field present.
std::string toToml(const Config& config);

}  // namespace pagefl
