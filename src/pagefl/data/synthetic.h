// The Synthetic(alpha, beta) family of FedProx/LEAF, as PAGE's published setup generates it.
#pragma once

#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/core/rng.h"
#include "pagefl/data/dataset.h"

namespace pagefl {

struct SyntheticData {
  std::vector<Dataset> client_local;  // the first (1 - server_fraction) of each client's samples
  Dataset server_test;                // the rest of every client's samples, pooled
};

// Client i: feature mean v_i ~ N(B_i, 1)^d with B_i ~ N(0, beta); x ~ N(v_i, diag(j^-1.2)).
// Labels y = argmax(x W + b) with (W, b) ~ N(0, 1) shared (iid_solution) or, per client,
// ~ N(u_i, 1) with u_i ~ N(0, alpha). alpha and beta are standard deviations, as in the
// FedProx generator.
SyntheticData generateSynthetic(const SyntheticConfig& config, const RngStreams& streams);

}  // namespace pagefl
