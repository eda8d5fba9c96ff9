#include "pagefl/core/runtime.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include <mutex>

namespace pagefl {

void configureSingleThreadedKernels() {
  static std::once_flag once;  // LibTorch refuses a second set_num_interop_threads call
  std::call_once(once, [] { torch::set_num_interop_threads(1); });
  torch::set_num_threads(1);
  // LibTorch links the generic libblas.so.3; when that is OpenBLAS (pthread build), its own pool
  // would otherwise start one thread per core inside every worker.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

}  // namespace pagefl
