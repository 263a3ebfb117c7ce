// LibTorch's OpenMP thread count is per calling thread, and OpenBLAS keeps a pool of its own that ignores
// LibTorch's setting. Work therefore runs under a ThreadState applied on the thread that executes it.
#pragma once

#include <string>

#include "compat.h"

namespace torchmotion {

struct ThreadState {
  int threads;  // intra-op threads for OpenMP and OpenBLAS alike
  bool grad;    // autograd on (training steps) or off (inference, data work)
};

// The process-wide default: TORCHMOTION_THREADS, else OMP_NUM_THREADS, else the number of cores.
int DefaultThreads();
void SetDefaultThreads(int threads);

// Applies the state to the current thread for the guard's lifetime.
class ThreadStateGuard {
 public:
  explicit ThreadStateGuard(const ThreadState& state);

 private:
  c10::AutoGradMode grad_;
};

// Which BLAS the process actually uses at run time ("OpenBLAS 0.3.21 ..." or a best guess), or "".
std::string BlasRuntimeInfo();
// OpenBLAS's own thread count, or -1 when the BLAS is not OpenBLAS.
int BlasThreads();

}  // namespace torchmotion
