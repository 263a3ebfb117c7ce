#include "runtime/cpu_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "compat.h"

#ifdef _WIN32
#include <malloc.h>
#endif

namespace torchmotion {
namespace {

constexpr std::size_t kAlignment = 64;         // as LibTorch's default CPU allocator
constexpr std::size_t kMinCached = 64 * 1024;  // smaller blocks are cheap for malloc
std::size_t CacheLimit() {
  const char* v = std::getenv("TORCHMOTION_CPU_CACHE_MB");
  long mb = v ? std::atol(v) : 4096;
  return static_cast<std::size_t>(mb > 0 ? mb : 4096) << 20;
}

// Eight size classes per power of two: at most 12.5 % of a block is slack.
std::size_t SizeClass(std::size_t n) {
  if (n < kMinCached) return n;
  std::size_t p = 1;
  while ((p << 1) <= n) p <<= 1;
  std::size_t step = p / 8;
  return (n + step - 1) / step * step;
}

void* SystemAlloc(std::size_t n) {
  if (n == 0) n = 1;
#ifdef _WIN32
  return _aligned_malloc(n, kAlignment);
#else
  void* p = nullptr;
  return posix_memalign(&p, kAlignment, n) == 0 ? p : nullptr;
#endif
}

void SystemFree(void* p) {
#ifdef _WIN32
  _aligned_free(p);
#else
  std::free(p);
#endif
}

struct Cache {
  std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;  // size class → blocks
  std::unordered_map<void*, std::size_t> sizes;                     // every cached-class block, live or free
  std::size_t cached = 0, live = 0, peak_live = 0, limit = CacheLimit();
  std::size_t mark = 0;  // the most in use since the last ResetCpuPeakMark()
};

// Free blocks are kept only up to the peak of live bytes (at least 256 MB, at most the limit): with fixed shapes every
// cached block is reused next step, and with varying shapes (text-to-motion batches, whole clips in eval and encode)
// the cache cannot grow past the working set, so the process stays within about twice its peak working set.
constexpr std::size_t kCacheFloor = std::size_t{256} << 20;
std::size_t Budget(const Cache& c) { return std::min(c.limit, std::max(kCacheFloor, c.peak_live)); }

// Never destroyed: tensors may be freed during static destruction at exit.
Cache& TheCache() {
  static Cache* cache = new Cache();
  return *cache;
}

void Free(void* ptr) {
  if (!ptr) return;
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.sizes.find(ptr);
  if (it == c.sizes.end()) {
    SystemFree(ptr);
    return;
  }
  c.live -= it->second;
  if (c.cached + it->second > Budget(c)) {
    c.sizes.erase(it);
    SystemFree(ptr);
    return;
  }
  c.cached += it->second;
  c.free_blocks[it->second].push_back(ptr);
}

bool g_installed = false;

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(std::size_t n) TM_ALLOCATE_CONST override {
    void* p = Allocate(n);
    if (!p && n > 0) {
      EmptyCpuCache();
      p = Allocate(n);
    }
    TORCH_CHECK(p || n == 0, "torchmotion: out of CPU memory allocating ", n, " bytes");
    return {p, p, &Free, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Free; }
#if TM_ALLOCATOR_HAS_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#endif

 private:
  static void* Allocate(std::size_t n) {
    const std::size_t size = SizeClass(n);
    if (size < kMinCached) return SystemAlloc(size);
    Cache& c = TheCache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto& list = c.free_blocks[size];
    void* p;
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
      c.cached -= size;
    } else {
      p = SystemAlloc(size);
      if (!p) return nullptr;
      c.sizes[p] = size;
    }
    c.live += size;
    c.peak_live = std::max(c.peak_live, c.live);
    c.mark = std::max(c.mark, c.live);
    return p;
  }
};

}  // namespace

void InstallCachingCpuAllocator() {
  const char* off = std::getenv("TORCHMOTION_CPU_CACHE");
  if (g_installed || (off && std::strcmp(off, "0") == 0)) return;
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();
  c10::SetAllocator(c10::DeviceType::CPU, allocator, /*priority=*/1);
  g_installed = true;
}

CpuCacheStats CpuCacheStatistics() {
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.cached, c.live, c.peak_live, c.mark, g_installed};
}

void ResetCpuPeakMark() {
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.mark = c.live;
}

void EmptyCpuCache() {
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, blocks] : c.free_blocks) {
    for (void* p : blocks) {
      c.sizes.erase(p);
      SystemFree(p);
    }
    blocks.clear();
  }
  c.cached = 0;
}

}  // namespace torchmotion
