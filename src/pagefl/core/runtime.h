// Process-wide kernel set-up.
#pragma once

#include <cstdint>

namespace pagefl {

// One LibTorch and one BLAS thread per worker: for the small models of federated learning,
// parallelism across clients beats intra-op threading.
void configureSingleThreadedKernels();

// OpenBLAS 0.3.21 (Debian 12) detects some newer Intel CPUs as "Prescott" and then runs its
// slowest kernels. The core type is read only when the library loads, so when the detection is
// that fallback, the CPU verifiably has the instructions of a better kernel, and the user has
// not set OPENBLAS_CORETYPE, this sets it and re-executes the program (argv unchanged).
// Returns normally in every other case.
void reexecWithBetterBlasCore(char** argv);

// The process's peak resident set size so far, in bytes (getrusage).
std::int64_t peakResidentBytes();

// The machine's physical memory, in bytes (sysconf).
std::int64_t physicalMemoryBytes();

}  // namespace pagefl
