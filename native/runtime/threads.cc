#include "runtime/threads.h"

#include <atomic>
#include <cstdlib>
#include <thread>

#ifndef _WIN32
#include <dlfcn.h>
#endif

namespace torchmotion {
namespace {

std::atomic<int> g_threads{0};

int PositiveEnv(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return 0;
  int n = std::atoi(v);
  return n > 0 ? n : 0;
}

// OpenBLAS is found at run time: LibTorch links the generic libblas, which Debian points at OpenBLAS when
// libopenblas0-pthread is installed. Looking the symbols up keeps the addon free of a link-time dependency.
void* BlasSymbol(const char* name) {
#ifndef _WIN32
  return dlsym(RTLD_DEFAULT, name);
#else
  (void)name;
  return nullptr;
#endif
}

void SetBlasThreads(int n) {
  using SetFn = void (*)(int);
  static auto set = reinterpret_cast<SetFn>(BlasSymbol("openblas_set_num_threads"));
  if (set) set(n);
}

}  // namespace

int DefaultThreads() {
  int n = g_threads.load();
  if (n > 0) return n;
  n = PositiveEnv("TORCHMOTION_THREADS");
  if (!n) n = PositiveEnv("OMP_NUM_THREADS");
  if (!n) n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

void SetDefaultThreads(int threads) {
  if (threads < 1)
    throw std::invalid_argument("threads must be a positive integer, received " + std::to_string(threads));
  g_threads.store(threads);
}

ThreadStateGuard::ThreadStateGuard(const ThreadState& state) : grad_(state.grad) {
  // OpenMP's count is per thread, so it is set on the thread doing the work. at::set_num_threads also rebuilds
  // LibTorch's pthreadpool and clears oneDNN's cache, so call it only when this thread's count differs.
  if (at::get_num_threads() != state.threads) at::set_num_threads(state.threads);
  // OpenBLAS's pool is process-wide and is rebuilt on every set call, so only change it when it differs.
  int blas = BlasThreads();
  if (blas >= 0 && blas != state.threads) SetBlasThreads(state.threads);
}

std::string BlasRuntimeInfo() {
  using ConfigFn = char* (*)();
  auto config = reinterpret_cast<ConfigFn>(BlasSymbol("openblas_get_config"));
  if (config) return config();  // already starts with "OpenBLAS <version>"
  if (BlasSymbol("mkl_get_max_threads")) return "MKL";
  return "";
}

int BlasThreads() {
  using GetFn = int (*)();
  auto get = reinterpret_cast<GetFn>(BlasSymbol("openblas_get_num_threads"));
  return get ? get() : -1;
}

}  // namespace torchmotion
