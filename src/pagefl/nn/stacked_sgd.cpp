#include "pagefl/nn/stacked_sgd.h"

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "pagefl/core/error.h"
#include "pagefl/nn/dense_layers.h"

namespace pagefl {
namespace {

// Every client's minibatches laid out step by step. Clients are sorted by their step count, most
// first, so the clients still training at step t are the first active[t]; each has `width` slots
// per step, padded with weight 0 past its batch.
struct Schedule {
  std::int64_t width = 0;
  std::vector<std::int64_t> active;      // per step
  std::vector<std::int64_t> first_cell;  // per step: index of its first (step, client) cell
  torch::Tensor rows;                    // [cells * width] row of the stacked training data
  torch::Tensor weights;                 // [cells * width] 1 / batch size, 0 for padding
  torch::Tensor counts;                  // [cells] batch size, float64
};

// `jobs` in sorted order; `offsets` their first row in the stacked data. Each job's epoch orders
// come from its own generator through EpochBatches, exactly as trainSgd draws them.
Schedule buildSchedule(const std::vector<StackedSgdJob*>& jobs, const std::vector<std::int64_t>& steps,
                       const std::vector<std::int64_t>& offsets) {
  Schedule schedule;
  for (const StackedSgdJob* job : jobs) schedule.width = std::max(schedule.width, job->sgd.batch_size);
  const std::int64_t total_steps = steps.empty() ? 0 : steps.front();
  std::int64_t cells = 0;
  for (std::int64_t t = 0; t < total_steps; ++t) {
    std::int64_t active = 0;
    while (active < static_cast<std::int64_t>(steps.size()) && steps[active] > t) ++active;
    schedule.active.push_back(active);
    schedule.first_cell.push_back(cells);
    cells += active;
  }
  std::vector<std::int64_t> rows(static_cast<std::size_t>(cells * schedule.width), 0);
  std::vector<float> weights(rows.size(), 0.0f);
  std::vector<double> counts(static_cast<std::size_t>(cells), 0.0);
  for (std::size_t p = 0; p < jobs.size(); ++p) {
    const StackedSgdJob& job = *jobs[p];
    const std::int64_t n = job.train.size(), batch = job.sgd.batch_size;
    std::int64_t t = 0;
    for (std::int64_t epoch = 0; epoch < job.sgd.epochs && n > 0; ++epoch) {
      const EpochBatches batches(job.train, batch, *job.shuffle);
      const std::vector<std::int64_t>& order = batches.order();
      for (std::int64_t begin = 0; begin < n; begin += batch, ++t) {
        const std::int64_t size = std::min(batch, n - begin);
        const std::int64_t cell = schedule.first_cell[t] + static_cast<std::int64_t>(p);
        counts[cell] = static_cast<double>(size);
        for (std::int64_t s = 0; s < schedule.width; ++s) {
          const std::size_t slot = static_cast<std::size_t>(cell * schedule.width + s);
          rows[slot] = offsets[p] + (s < size ? order[begin + s] : 0);
          weights[slot] = s < size ? 1.0f / static_cast<float>(size) : 0.0f;
        }
      }
    }
  }
  schedule.rows = torch::tensor(rows, torch::kInt64);
  schedule.weights = torch::tensor(weights, torch::kFloat32);
  schedule.counts = torch::tensor(counts, torch::kFloat64);
  return schedule;
}

// One value per client, in sorted order: [C], viewed as [k, 1, 1] or [k, 1] where it is used.
torch::Tensor perClient(const std::vector<StackedSgdJob*>& jobs, const std::function<double(const StackedSgdJob&)>& of) {
  std::vector<float> values;
  for (const StackedSgdJob* job : jobs) values.push_back(static_cast<float>(of(*job)));
  return torch::tensor(values, torch::kFloat32);
}

}  // namespace

std::optional<std::string> whyNotStackable(const ModelSpec& spec) {
  if (spec.name == "logreg" || spec.name == "mlp") return std::nullopt;
  return "model.name = \"" + spec.name + "\" is not fully connected (stacking serves logreg and mlp)";
}

std::optional<std::string> whyNotStackable(const SgdOptions& options) {
  if (options.momentum != 0) return std::string("train.momentum is not 0");
  if (options.trainable.defined()) return std::string("the algorithm freezes part of the model");
  if (options.logit_offset.defined()) return std::string("the algorithm offsets the logits");
  return std::nullopt;
}

std::int64_t stepsOf(const StackedSgdJob& job) {
  const std::int64_t n = job.train.size();
  if (n == 0 || job.sgd.epochs <= 0) return 0;
  return job.sgd.epochs * ((n + job.sgd.batch_size - 1) / job.sgd.batch_size);
}

std::vector<StackedSgdResult> trainStacked(const ParamLayout& layout, std::vector<StackedSgdJob>& jobs) {
  torch::NoGradGuard no_grad;
  const std::vector<DenseLayer> layers = denseLayers(layout);
  const auto count = static_cast<std::int64_t>(jobs.size());
  std::vector<StackedSgdResult> results(jobs.size());
  if (count == 0) return results;

  for (const StackedSgdJob& job : jobs) {
    if (auto why = whyNotStackable(job.sgd)) throw Error("stacked client training cannot run this job: {}", *why);
    if (job.start.numel() != layout.size())
      throw Error("stacked client training got {} parameters for a model of {}", job.start.numel(), layout.size());
    if (job.proximal_mu > 0 && job.centre.numel() != layout.size())
      throw Error("stacked client training: a proximal job needs its centre of {} parameters", layout.size());
  }

  const bool any_proximal =
      std::any_of(jobs.begin(), jobs.end(), [](const StackedSgdJob& job) { return job.proximal_mu > 0; });

  // Sorted by steps, most first (ties keep their order), so that active clients are a prefix.
  std::vector<std::int64_t> steps_of(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) steps_of[i] = stepsOf(jobs[i]);
  std::vector<std::size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return steps_of[a] > steps_of[b]; });
  std::vector<StackedSgdJob*> sorted;
  std::vector<std::int64_t> steps, offsets;
  std::vector<torch::Tensor> starts, centres;
  std::vector<Dataset> data;
  const std::int64_t features = layers.front().in;
  std::int64_t rows = 0;
  for (std::size_t i : order) {
    StackedSgdJob& job = jobs[i];
    sorted.push_back(&job);
    steps.push_back(steps_of[i]);
    offsets.push_back(rows);
    rows += job.train.size();
    if (job.train.size() > 0 && job.train.x.numel() != job.train.size() * features)
      throw Error("stacked client training: samples of {} values for a model of {} inputs",
                  job.train.x.numel() / job.train.size(), features);
    data.push_back({job.train.x.reshape({job.train.size(), features}).to(torch::kFloat32), job.train.y.to(torch::kInt64)});
    starts.push_back(job.start.to(torch::kFloat32));
    // Jobs without the proximal term get a centre that mu = 0 then ignores.
    if (any_proximal) centres.push_back((job.proximal_mu > 0 ? job.centre : job.start).to(torch::kFloat32));
  }
  const Dataset all = concatenate(data);
  const torch::Tensor &x_all = all.x, &y_all = all.y;
  const Schedule schedule = buildSchedule(sorted, steps, offsets);

  // The stacked parameters: row c of `params` is client c's flat vector; the layers are views.
  torch::Tensor params = torch::stack(starts);
  const torch::Tensor centre = any_proximal ? torch::stack(centres) : torch::Tensor();
  std::vector<torch::Tensor> weight, bias, weight_centre, bias_centre;
  for (const DenseLayer& l : layers) {
    weight.push_back(params.narrow(1, l.weight, l.out * l.in).view({count, l.out, l.in}));
    bias.push_back(params.narrow(1, l.bias, l.out));
    if (!any_proximal) continue;
    weight_centre.push_back(centre.narrow(1, l.weight, l.out * l.in).view({count, l.out, l.in}));
    bias_centre.push_back(centre.narrow(1, l.bias, l.out));
  }
  const torch::Tensor lr = perClient(sorted, [](const StackedSgdJob& j) { return j.sgd.lr; });
  const torch::Tensor decay = perClient(sorted, [](const StackedSgdJob& j) { return 1.0 - j.sgd.lr * j.sgd.weight_decay; });
  const torch::Tensor clip = perClient(sorted, [](const StackedSgdJob& j) { return j.sgd.clip_norm; });
  const torch::Tensor mu = perClient(sorted, [](const StackedSgdJob& j) { return j.proximal_mu; });
  const bool any_decay = decay.ne(1).any().item<bool>(), any_clip = clip.gt(0).any().item<bool>();
  torch::Tensor loss_sum = torch::zeros({count}, torch::kFloat64);
  const std::int64_t width = schedule.width;
  const torch::Tensor minus_one = torch::full({count, width, 1}, -1.0f);

  const auto layer_count = static_cast<std::int64_t>(layers.size());
  std::vector<torch::Tensor> inputs(layers.size()), grad_w(layers.size()), grad_b(layers.size());
  for (std::size_t t = 0; t < schedule.active.size(); ++t) {
    const std::int64_t k = schedule.active[t], cell = schedule.first_cell[t];
    const torch::Tensor slots = schedule.rows.narrow(0, cell * width, k * width);
    const torch::Tensor sample_weight = schedule.weights.narrow(0, cell * width, k * width).view({k, width, 1});
    const torch::Tensor y = y_all.index_select(0, slots).view({k, width, 1});
    torch::Tensor h = x_all.index_select(0, slots).view({k, width, features});

    // Forward, keeping each layer's input (a ReLU's output is positive exactly where it passed).
    for (std::int64_t l = 0; l < layer_count; ++l) {
      inputs[l] = h;
      h = torch::baddbmm(bias[l].narrow(0, 0, k).unsqueeze(1), h, weight[l].narrow(0, 0, k).transpose(1, 2));
      if (l + 1 < layer_count) h = torch::relu(h);
    }
    const torch::Tensor log_p = torch::log_softmax(h, 2);
    const torch::Tensor batch_loss = log_p.gather(2, y).mul_(sample_weight).sum({1, 2}).neg_();
    loss_sum.narrow(0, 0, k).add_(batch_loss.to(torch::kFloat64).mul_(schedule.counts.narrow(0, cell, k)));

    // Backward: d(mean cross-entropy)/d(logits) = (softmax - onehot) / batch size, per client.
    torch::Tensor delta = log_p.exp().scatter_add_(2, y, minus_one.narrow(0, 0, k)).mul_(sample_weight);
    for (std::int64_t l = layer_count - 1; l >= 0; --l) {
      grad_w[l] = torch::bmm(delta.transpose(1, 2), inputs[l]);
      grad_b[l] = delta.sum(1);
      if (l > 0) delta = torch::bmm(delta, weight[l].narrow(0, 0, k)).mul_(inputs[l].gt(0));
    }

    if (any_proximal) {
      const torch::Tensor m = mu.narrow(0, 0, k);
      for (std::int64_t l = 0; l < layer_count; ++l) {
        grad_w[l].add_((weight[l].narrow(0, 0, k) - weight_centre[l].narrow(0, 0, k)).mul_(m.view({k, 1, 1})));
        grad_b[l].add_((bias[l].narrow(0, 0, k) - bias_centre[l].narrow(0, 0, k)).mul_(m.view({k, 1})));
      }
    }
    // Per-client clipping of the whole gradient, as clipGradient does, then decay and step.
    torch::Tensor step = lr.narrow(0, 0, k).neg();
    if (any_clip) {
      torch::Tensor norm2 = torch::zeros({k});
      for (std::int64_t l = 0; l < layer_count; ++l)
        norm2.add_(grad_w[l].square().sum({1, 2})).add_(grad_b[l].square().sum(1));
      const torch::Tensor norm = norm2.sqrt_(), limit = clip.narrow(0, 0, k);
      step = step.mul_(torch::where(limit.gt(0).logical_and_(norm.gt(limit)), limit / (norm + 1e-6), torch::ones({k})));
    }
    for (std::int64_t l = 0; l < layer_count; ++l) {
      torch::Tensor w = weight[l].narrow(0, 0, k), b = bias[l].narrow(0, 0, k);
      if (any_decay) {
        const torch::Tensor d = decay.narrow(0, 0, k);
        w.mul_(d.view({k, 1, 1}));
        b.mul_(d.view({k, 1}));
      }
      w.addcmul_(grad_w[l], step.view({k, 1, 1}));
      b.addcmul_(grad_b[l], step.view({k, 1}));
    }
  }

  for (std::size_t p = 0; p < sorted.size(); ++p) {
    StackedSgdResult& result = results[order[p]];
    const StackedSgdJob& job = *sorted[p];
    result.params = params[static_cast<std::int64_t>(p)].clone();
    result.stats.steps = steps[p];
    result.stats.samples = steps[p] > 0 ? job.sgd.epochs * job.train.size() : 0;
    if (result.stats.samples > 0)
      result.stats.mean_loss = loss_sum[static_cast<std::int64_t>(p)].item<double>() / static_cast<double>(result.stats.samples);
  }
  return results;
}

}  // namespace pagefl
