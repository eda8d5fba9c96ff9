// The single declaration of every config field: key, constraint, and what it means.
#include "pagefl/core/config.h"

#include <cmath>

namespace pagefl {

double clientRewardWeight(const PageConfig& page, std::int64_t round) {
  return page.shift_round > 0 && round >= page.shift_round ? page.shift_client_reward_weight
                                                           : page.client_reward_weight;
}

double serverRewardWeight(const PageConfig& page, std::int64_t round) {
  return page.shift_round > 0 && round >= page.shift_round ? page.shift_server_reward_weight
                                                           : page.server_reward_weight;
}

std::optional<double> balanceAt(const PageConfig& page, std::int64_t round) {
  if (page.variant == "published") return std::nullopt;
  return page.shift_round > 0 && round >= page.shift_round ? page.shift_balance : page.balance;
}

bool inEvenShare(std::int64_t index, double fraction) {
  // Selected when [index, index + 1) contains a multiple of 1 / fraction.
  return std::floor(static_cast<double>(index + 1) * fraction) > std::floor(static_cast<double>(index) * fraction);
}

std::vector<std::string> algorithmNames() {
  std::vector<std::string> names;
  for (const AlgorithmEntry& entry : registeredAlgorithms()) names.push_back(entry.name);
  return names;
}

void describeConfig(Config& c, ConfigFieldVisitor& v) {
  constexpr double inf = std::numeric_limits<double>::infinity();

  v.text("run.name", c.run.name, {}, "name of the run; its directory is <output_dir>/<name>");
  v.integer("run.seed", c.run.seed, {0, 9.0e15}, "seed of every random stream of the run");
  v.integer("run.rounds", c.run.rounds, {1, 1e7}, "number of federated rounds");
  v.integer("run.workers", c.run.workers, {1, 1024}, "worker threads, each with one model replica");
  v.text("run.output_dir", c.run.output_dir, {}, "where run directories are created");
  v.flag("run.progress", c.run.progress, "show a progress bar on the terminal");
  v.flag("run.export_personal", c.run.export_personal,
         "write each last-round participant's personalised model to models/personal/<client>.safetensors (one "
         "file of the model's size per participant)");
  v.flag("run.keep_best", c.run.keep_best,
         "also write the global model of the round with the best G->S to models/best_global.safetensors");
  v.integer("run.state_memory_mb", c.run.state_memory_mb, {0, 1e9},
            "client state (personal models, control variates) kept in memory; the least recently used beyond it "
            "spills to a file in run.spill_dir (0: everything in memory)");
  v.text("run.spill_dir", c.run.spill_dir, {}, "local directory of the client state spill file (empty: the system's temp dir)");
  v.text("run.batched_clients", c.run.batched_clients, {"auto", "on", "off"},
         "train a round's clients stacked into one batched tensor op per layer (logreg and MLP; plain local "
         "SGD algorithms): auto where it applies, on to insist, off for one client at a time");

  v.text("data.source", c.data.source,
         {"fashion-mnist", "mnist", "cifar10", "cifar100", "tiny-imagenet", "synthetic", "leaf"}, "dataset to federate");
  v.text("data.path", c.data.path, {}, "directory of the dataset files (empty: the source's default)");
  v.integer("data.train_subset", c.data.train_subset, {0, 1e12}, "use a random subset of this many samples (0: all)");
  v.integer("data.test_subset", c.data.test_subset, {0, 1e12}, "server test samples to keep (0: all)");
  v.text("data.leaf_train", c.data.leaf_train, {}, "LEAF JSON with each client's local train data");
  v.text("data.leaf_test", c.data.leaf_test, {}, "LEAF JSON with each client's local test data");
  v.text("data.leaf_server_test", c.data.leaf_server_test, {},
         "LEAF JSON whose samples (all users pooled) form the server test set (empty: pool the clients' test data)");
  v.integers("data.leaf_sample_shape", c.data.leaf_sample_shape, {1, 1e9},
             "reshape LEAF feature vectors to this shape, e.g. [1, 28, 28] (empty: keep flat)");

  v.integer("synthetic.num_clients", c.synthetic.num_clients, {1, 1e6}, "clients generated");
  v.integer("synthetic.dimension", c.synthetic.dimension, {1, 1e5}, "features per sample");
  v.integer("synthetic.classes", c.synthetic.classes, {2, 1e5}, "number of classes");
  v.integer("synthetic.samples_per_client", c.synthetic.samples_per_client, {2, 1e8}, "samples per client");
  v.real("synthetic.alpha", c.synthetic.alpha, {0, inf}, "spread of the clients' label models");
  v.real("synthetic.beta", c.synthetic.beta, {0, inf}, "spread of the clients' feature means");
  v.flag("synthetic.iid_solution", c.synthetic.iid_solution, "one label model shared by all clients");
  v.real("synthetic.server_fraction", c.synthetic.server_fraction, {0, 0.99},
         "last fraction of each client's samples pooled into the server test set");

  v.text("partition.scheme", c.partition.scheme, {"iid", "dirichlet", "shards", "natural"},
         "how samples are spread over clients");
  v.integer("partition.seed", c.partition.seed, {0, 9.0e15},
            "seed of the data's draws: partition, splits, subsets, synthetic data (0: run.seed)");
  v.real("partition.late_clients", c.partition.late_clients, {0, 0.9},
         "demand shift: share of clients that join only at late_join_round: those with the most upper-half labels");
  v.integer("partition.late_join_round", c.partition.late_join_round, {0, 1e7},
            "demand shift: round at which the late clients join (0: they take part from the start)");
  v.integer("partition.num_clients", c.partition.num_clients, {1, 1e6}, "clients (ignored by natural)");
  v.real("partition.alpha", c.partition.alpha, {1e-6, inf}, "Dirichlet concentration: lower is more skewed");
  v.integer("partition.min_size", c.partition.min_size, {0, 1e12}, "Dirichlet: smallest client allowed");
  v.integer("partition.max_retries", c.partition.max_retries, {1, 1e6}, "Dirichlet: draws before giving up");
  v.integer("partition.shards_per_client", c.partition.shards_per_client, {1, 1e6}, "shards: label-sorted shards per client");
  v.real("partition.train_fraction", c.partition.train_fraction, {0.01, 1.0},
         "share of each client's samples used for local training; the rest is its local test");
  v.real("partition.validation_fraction", c.partition.validation_fraction, {0, 0.9},
         "share of each client's training samples held out as its validation split, which `compare --tune` "
         "scores on (never the test splits); 0: none");

  v.text("model.name", c.model.name, {"logreg", "mlp", "cnn", "cnn-gn", "resnet18-gn", "lstm"}, "model architecture");
  v.integers("model.hidden", c.model.hidden, {1, 1e6}, "MLP hidden layer widths");
  v.text("model.init", c.model.init, {"default", "zeros"}, "initial global parameters");

  v.real("train.lr", c.train.lr, {0, 1e4}, "local SGD learning rate");
  v.real("train.momentum", c.train.momentum, {0, 0.999999}, "local SGD momentum");
  v.real("train.weight_decay", c.train.weight_decay, {0, 1e3}, "local SGD weight decay");
  v.real("train.clip_norm", c.train.clip_norm, {0, inf}, "gradient-norm clipping threshold (0: off)");
  v.integer("train.epochs", c.train.epochs, {1, 1e5}, "local epochs per round");
  v.integer("train.batch_size", c.train.batch_size, {1, 1e7}, "local minibatch size");

  v.text("algorithm.name", c.algorithm.name, algorithmNames(), "federated algorithm");
  v.real("algorithm.participation", c.algorithm.participation, {1e-9, 1.0}, "fraction of clients per round");
  c.algorithm_settings.describe(v);

  v.text("page.variant", c.page.variant, {"pagefl", "published"},
         "published: everything as the authors' code (action map, lag, action storage, warm-up, replay "
         "sampling; no balance); pagefl: the intent where they differ, with page.balance");
  v.real("page.balance", c.page.balance, {0, 1},
         "pagefl's balance control: 0 rewards the agents for each site's own model only, 1 for the "
         "company-wide model only (not under variant = published)");
  v.real("page.shift_balance", c.page.shift_balance, {0, 1}, "demand shift: page.balance from shift_round on "
         "(default: page.balance)");
  v.real("page.lr_min", c.page.lr_min, {0, 1e4}, "smallest local learning rate an agent may pick");
  v.real("page.lr_max", c.page.lr_max, {1e-12, 1e4}, "largest local learning rate an agent may pick");
  v.integer("page.epoch_max", c.page.epoch_max, {1, 1e5}, "most local epochs an agent may pick");
  v.real("page.critic_lr", c.page.critic_lr, {0, 10}, "DDPG critic Adam learning rate");
  v.real("page.actor_lr", c.page.actor_lr, {0, 10}, "DDPG actor Adam learning rate");
  v.real("page.tau", c.page.tau, {0, 1}, "DDPG soft target update rate");
  v.real("page.gamma", c.page.gamma, {0, 1}, "DDPG discount");
  v.integer("page.warmup_rounds", c.page.warmup_rounds, {0, 1e7}, "rounds of random actions before agents act and learn");
  v.real("page.epsilon_decay_rounds", c.page.epsilon_decay_rounds, {1e-9, inf},
         "exploration scale falls from 1 by 1/this per act after warm-up");
  v.integer("page.replay_capacity", c.page.replay_capacity, {1, 1e8}, "replay buffer entries per agent");
  v.integer("page.rl_batch_size", c.page.rl_batch_size, {1, 1e6}, "DDPG minibatch");
  v.integer("page.agent_updates", c.page.agent_updates, {1, 1000},
            "DDPG updates per agent per round, each on its own minibatch (the published code: 1)");
  v.real("page.reward_delta", c.page.reward_delta, {1e-12, 1}, "delta in reward = weight / (loss + delta)");
  v.real("page.client_reward_weight", c.page.client_reward_weight, {0, inf},
         "c_w: raise to favour personalisation (biased variants)");
  v.real("page.server_reward_weight", c.page.server_reward_weight, {0, inf},
         "s_w: raise to favour generalisation (biased variants)");
  v.integer("page.shift_round", c.page.shift_round, {0, 1e7},
            "demand shift: round from which the shifted reward weights apply (0: never)");
  v.real("page.shift_client_reward_weight", c.page.shift_client_reward_weight, {0, inf},
         "demand shift: client reward weight c_w from shift_round on");
  v.real("page.shift_server_reward_weight", c.page.shift_server_reward_weight, {0, inf},
         "demand shift: server reward weight s_w from shift_round on");
  v.flag("page.adapt_lr", c.page.adapt_lr, "clients' agents pick the learning rate (false: lr_max)");
  v.flag("page.adapt_epochs", c.page.adapt_epochs, "clients' agents pick the epochs (false: epoch_max)");
  v.flag("page.adapt_weights", c.page.adapt_weights, "the server's agent picks aggregation weights (false: uniform)");
  v.text("page.action_map", c.page.action_map, {"published", "affine"}, "how an action in [-1,1]^2 becomes (lr, epochs)");
  v.integer("page.server_score_samples", c.page.server_score_samples, {0, 1e9},
            "server test samples each upload is scored on for the server agent's state (a class-stratified "
            "subset drawn from the seed; 0: all): a speed/fidelity trade, the global model is always scored on all");
  v.flag("page.server_noise", c.page.server_noise, "OU exploration noise on the server's actions after warm-up");
  v.flag("page.faithful_lag", c.page.faithful_lag, "act on the previous round's observations, as the published code");
  v.flag("page.faithful_action_storage", c.page.faithful_action_storage,
         "store post-processed actions in replay (epochs before truncation), as the published code");
  v.flag("page.faithful_warmup", c.page.faithful_warmup,
         "random actions while step <= warmup_rounds (one round more), as the published code");
  v.flag("page.faithful_sampling", c.page.faithful_sampling,
         "draw replay minibatches without replacement, as the published code");

  v.integer("eval.every", c.eval.every, {0, 1e7},
            "evaluate every this many rounds, and the last round (0: never, for benchmarks)");
  v.flag("eval.personal_on_server", c.eval.personal_on_server, "also compute P->S: each trained model on the server test");
  v.integer("eval.batch_size", c.eval.batch_size, {1, 1e7}, "evaluation batch size");
  v.real("eval.new_clients", c.eval.new_clients, {0, 0.9},
         "share of clients never trained on, scored as new sites: G->N and FT->N");
  v.integer("eval.new_client_steps", c.eval.new_client_steps, {0, 1e6},
            "FT->N: SGD steps (train.lr, train.batch_size) on a new client's train split before scoring");

  v.text("robust.rule", c.robust.rule, {"mean", "median", "trimmed-mean", "krum"},
         "how the server combines updates: the algorithm's weighted mean, or a rule robust to poisoned ones");
  v.real("robust.trim_fraction", c.robust.trim_fraction, {0, 0.49},
         "trimmed-mean: share of the values cut from each end, per coordinate");
  v.integer("robust.byzantine", c.robust.byzantine, {0, 1e6}, "krum: poisoned updates tolerated per round");
  v.integer("robust.krum_select", c.robust.krum_select, {0, 1e7},
            "multi-Krum: best-scored updates averaged (0: the round's updates less robust.byzantine)");
  v.real("robust.max_update_norm", c.robust.max_update_norm, {0, inf},
         "refuse an update farther than this (L2) from the global model it was trained from (0: off)");
  v.real("robust.norm_factor", c.robust.norm_factor, {0, inf},
         "clip each update to this many times the round's median distance from the global model (0: off)");

  v.integers("attack.clients", c.attack.clients, {0, 1e9},
             "simulation only: ids of clients whose uploads are poisoned, to measure the defences (empty: none)");
  v.text("attack.kind", c.attack.kind, {"scale", "sign-flip", "random"},
         "the poison: the update w_i - w scaled, negated and scaled, or replaced by noise of its norm, times scale");
  v.real("attack.scale", c.attack.scale, {0, 1e6}, "the attack's factor");

  v.text("deploy.listen", c.deploy.listen, {}, "pagefl server: address to listen on, host:port");
  v.texts("deploy.clients", c.deploy.clients,
          "pagefl server: names of the sites allowed to join (their certificates' common names), in client-index order");
  v.integer("deploy.min_clients", c.deploy.min_clients, {1, 1e7},
            "pagefl server: a round starts only when at least this many sites are connected");
  v.integer("deploy.min_updates", c.deploy.min_updates, {1, 1e7},
            "pagefl server: a round is aggregated only with at least this many updates by its deadline (else run again)");
  v.real("deploy.round_deadline_s", c.deploy.round_deadline_s, {0.1, 1e7},
         "pagefl server: seconds a round waits for updates; stragglers past it are dropped from the round");
  v.real("deploy.client_timeout_s", c.deploy.client_timeout_s, {0.1, 1e7},
         "pagefl server: a client not heard from for this long is not sampled until it returns");
  v.integer("deploy.checkpoint_every", c.deploy.checkpoint_every, {1, 1e7},
            "pagefl server: checkpoint the server's state every this many rounds (and at shutdown)");
  v.flag("deploy.tls", c.deploy.tls, "pagefl server: mutual TLS (false: plaintext, for local tests only)");
  v.text("deploy.ca", c.deploy.ca, {}, "pagefl server: PEM file of the CA that signs client certificates");
  v.text("deploy.cert", c.deploy.cert, {}, "pagefl server: PEM file of the server's certificate");
  v.text("deploy.key", c.deploy.key, {}, "pagefl server: PEM file of the server's private key");
  v.real("deploy.max_update_mb", c.deploy.max_update_mb, {0.001, 1e6},
         "pagefl server: largest update accepted, in MiB; larger ones are refused");
  v.real("deploy.max_buffered_mb", c.deploy.max_buffered_mb, {0.001, 1e7},
         "pagefl server: MiB of uploads buffered at once across all streams; an upload beyond it is refused");
  v.real("deploy.audit_timeout_s", c.deploy.audit_timeout_s, {0.1, 1e6},
         "pagefl server: seconds an audit write waits for a locked or slow database; beyond it the server stops");
  v.text("deploy.run_dir", c.deploy.run_dir, {}, "pagefl server: run directory (empty: <run.output_dir>/<run.name>)");
}

}  // namespace pagefl
