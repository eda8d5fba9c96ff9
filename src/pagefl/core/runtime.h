// Process-wide threading set-up: one LibTorch and one BLAS thread per worker, because for the
// small models of federated learning, parallelism across clients beats intra-op threading.
#pragma once

namespace pagefl {

void configureSingleThreadedKernels();

}  // namespace pagefl
