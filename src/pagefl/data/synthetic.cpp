#include "pagefl/data/synthetic.h"

#include <torch/torch.h>

#include <cmath>

#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"

namespace pagefl {

SyntheticData generateSynthetic(const SyntheticConfig& config, const RngStreams& streams) {
  const std::int64_t d = config.dimension;
  const std::int64_t c = config.classes;
  const std::int64_t n = config.samples_per_client;
  const auto server_count = static_cast<std::int64_t>(std::floor(config.server_fraction * static_cast<double>(n)));
  const std::int64_t local_count = n - server_count;
  // Every sample is kept as float32 features: refuse sizes the machine cannot hold, before drawing.
  const double bytes = static_cast<double>(config.num_clients) * static_cast<double>(n) * static_cast<double>(d + 2) *
                       sizeof(float);
  if (bytes > 0.5 * static_cast<double>(physicalMemoryBytes()))
    throw Error("synthetic.num_clients = {} x synthetic.samples_per_client = {} x synthetic.dimension = {} needs about "
                "{:.1f} GB, more than half of this machine's {:.1f} GB: lower one of them",
                config.num_clients, n, d, bytes / 1e9, static_cast<double>(physicalMemoryBytes()) / 1e9);

  auto feature_std = torch::arange(1, d + 1, torch::kFloat64).pow(-1.2).sqrt();
  auto shared = streams.torchGenerator(Purpose::SyntheticData, kNoRound, kServer);
  auto shared_w = torch::randn({d, c}, shared, torch::kFloat64);
  auto shared_b = torch::randn({c}, shared, torch::kFloat64);

  SyntheticData out;
  std::vector<Dataset> server_parts;
  for (std::int64_t i = 0; i < config.num_clients; ++i) {
    auto gen = streams.torchGenerator(Purpose::SyntheticData, kNoRound, i);
    double feature_centre = config.beta * torch::randn({1}, gen, torch::kFloat64).item<double>();
    auto mean = torch::randn({d}, gen, torch::kFloat64).add_(feature_centre);
    auto x = torch::randn({n, d}, gen, torch::kFloat64).mul_(feature_std).add_(mean);

    torch::Tensor w = shared_w, b = shared_b;
    if (!config.iid_solution) {
      double model_centre = config.alpha * torch::randn({1}, gen, torch::kFloat64).item<double>();
      w = torch::randn({d, c}, gen, torch::kFloat64).add_(model_centre);
      b = torch::randn({c}, gen, torch::kFloat64).add_(model_centre);
    }
    auto y = torch::matmul(x, w).add_(b).argmax(1);
    Dataset all{x.to(torch::kFloat32), y};
    out.client_local.push_back(all.slice(0, local_count));
    server_parts.push_back(all.slice(local_count, n));
  }
  out.server_test = concatenate(server_parts);
  return out;
}

}  // namespace pagefl
