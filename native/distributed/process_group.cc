#include "distributed/process_group.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <torch/csrc/autograd/function.h>

#ifdef TM_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef TM_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace torchmotion {
namespace {

std::string Seconds(std::chrono::milliseconds t) {
  std::ostringstream s;
  s << static_cast<double>(t.count()) / 1000.0 << " s";
  return s.str();
}

std::string Where(const GroupOptions& o) {
  return "rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) + " (master " + o.master_addr + ":" +
         std::to_string(o.master_port) + ")";
}

// An exact, order-independent checksum of a tensor's bits: its elements read as integers of the same width, summed in
// int64 (wrapping), so every thread count and summation order gives the same number.
uint64_t BitSum(const torch::Tensor& t) {
  torch::Tensor flat = t.detach().to(torch::kCPU).contiguous().reshape({-1});
  if (flat.numel() == 0) return 0;
  torch::ScalarType as;
  switch (flat.element_size()) {
    case 8: as = torch::kInt64; break;
    case 4: as = torch::kInt32; break;
    case 2: as = torch::kInt16; break;
    default: return static_cast<uint64_t>(flat.to(torch::kInt64).sum().item<int64_t>());
  }
  return static_cast<uint64_t>(flat.view(as).to(torch::kInt64).sum().item<int64_t>());
}

}  // namespace

#ifdef TM_HAVE_GLOO

bool HaveGloo() { return true; }

bool HaveNccl() {
#ifdef TM_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<TM_C10D_BACKEND> group;
  torch::Device device{torch::kCPU};  // where collectives' tensors must live (NCCL: this rank's GPU)
};

namespace {

bool Loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1"; }

// Gloo's device: loopback when the master is on this machine's loopback (tests, one node); the interface named by
// GLOO_SOCKET_IFNAME when set (as PyTorch reads it); otherwise the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> GlooDevice(const std::string& master) {
  if (Loopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

ProcessGroup::ProcessGroup(const GroupOptions& o) : options_(o), impl_(std::make_unique<Impl>()) {
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    throw std::invalid_argument("rank " + std::to_string(o.rank) + " does not fit a world of " +
                                std::to_string(o.world_size));
  }
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o.master_port);
    so.isServer = o.rank == 0;
    so.numWorkers = static_cast<std::size_t>(o.world_size);
    so.waitWorkers = true;
    so.timeout = o.timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
    if (o.backend == "nccl") {
#ifdef TM_HAVE_NCCL
      impl_->device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(o.cuda_device));
      auto no = c10d::ProcessGroupNCCL::Options::create();
      no->timeout = o.timeout;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, o.rank, o.world_size, no);
#else
      throw std::runtime_error(
          "this LibTorch has no NCCL process group: train on the CPU (Gloo), or build the addon against a CUDA "
          "LibTorch with NCCL");
#endif
    } else {
      auto go = c10d::ProcessGroupGloo::Options::create(o.timeout);
      go->devices.push_back(GlooDevice(o.master_addr));
      impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, o.rank, o.world_size, go);
    }
  } catch (const std::exception& e) {
    std::string cause = e.what();
    throw std::runtime_error(
        "c10d rendezvous failed for " + Where(o) + ": " + cause.substr(0, cause.find('\n')) +
        " (every rank must start within the timeout, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE)");
  }
}

ProcessGroup::~ProcessGroup() = default;

// Who else saw the failure: each rank that catches one marks it in the store, then looks for the others' marks for
// a few seconds. A rank that never marks it exited or hangs; when the store itself is gone, so is rank 0, its host.
std::string ProcessGroup::Absent() {
  const std::string prefix = "torchmotion/failed/";
  try {
    impl_->store->set(prefix + std::to_string(options_.rank), std::vector<uint8_t>{1});
    const auto until = std::chrono::steady_clock::now() +
                       std::min<std::chrono::milliseconds>(options_.timeout, std::chrono::seconds(5));
    std::string missing;
    while (true) {
      missing.clear();
      for (int r = 0; r < options_.world_size; ++r) {
        if (r != options_.rank && !impl_->store->check({prefix + std::to_string(r)}))
          missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      }
      if (missing.empty() || std::chrono::steady_clock::now() > until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (missing.empty()) return "every other rank saw the failure too";
    return "rank " + missing + " exited or stopped answering";
  } catch (const std::exception&) {
    return "rank 0 (which holds the rendezvous store) exited or stopped answering";
  }
}

// Runs one collective and waits for it; a rank that died or stopped answering surfaces here as Gloo's error or a
// timeout, which becomes an error that names the rank.
template <typename Start>
void ProcessGroup::Collective(const char* what, Start start) {
  try {
    start()->wait(options_.timeout);
  } catch (const std::exception& e) {
    std::string cause = e.what();
    cause = cause.substr(0, cause.find('\n'));
    throw std::runtime_error(std::string("c10d ") + what + " failed on " + Where(options_) + ": " + Absent() +
                             " (waited at most " + Seconds(options_.timeout) + "; " + cause +
                             ") — if a step is that slow, raise TORCHMOTION_DIST_TIMEOUT or launch --timeout");
  }
}

struct ProcessGroup::Pending {
  c10::intrusive_ptr<c10d::Work> work;
};

std::shared_ptr<ProcessGroup::Pending> ProcessGroup::StartAllReduce(const torch::Tensor& t) {
  auto p = std::make_shared<Pending>();
  if (options_.world_size == 1) return p;
  std::vector<at::Tensor> one{t};
  try {
    p->work = impl_->group->allreduce(one);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("c10d all-reduce could not start on ") + Where(options_) + ": " + e.what());
  }
  return p;
}

void ProcessGroup::Wait(Pending& p) {
  if (!p.work) return;
  Collective("all-reduce", [&] { return p.work; });
  p.work.reset();
}

// The tensors are averaged in place; on NCCL a CPU tensor (the trainers' loss means) travels through the GPU.
void ProcessGroup::AllReduceMean(const std::vector<torch::Tensor>& tensors) {
  if (options_.world_size == 1) return;
  std::vector<torch::Tensor> on;
  for (const torch::Tensor& t : tensors) on.push_back(t.to(impl_->device));
  std::vector<std::shared_ptr<Pending>> pending;
  for (const torch::Tensor& t : on) pending.push_back(StartAllReduce(t));
  for (auto& p : pending) Wait(*p);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(on[i].div_(options_.world_size));
}

void ProcessGroup::Broadcast(const std::vector<torch::Tensor>& tensors) {
  if (options_.world_size == 1) return;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t.device() == impl_->device ? t : t.to(impl_->device)};
    Collective("broadcast", [&] { return impl_->group->broadcast(one); });
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

std::vector<std::vector<int64_t>> ProcessGroup::AllGather(const std::vector<int64_t>& values) {
  const int64_t n = static_cast<int64_t>(values.size());
  const auto o = torch::TensorOptions().dtype(torch::kInt64).device(impl_->device);
  std::vector<at::Tensor> in{torch::tensor(values, torch::kInt64).to(impl_->device)};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < options_.world_size; ++r) out[0].push_back(torch::empty({n}, o));
  if (options_.world_size > 1)
    Collective("all-gather", [&] { return impl_->group->allgather(out, in); });
  else
    out[0][0].copy_(in[0]);
  std::vector<std::vector<int64_t>> result;
  for (const torch::Tensor& d : out[0]) {
    torch::Tensor t = d.cpu();
    result.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
  }
  return result;
}

void ProcessGroup::Barrier() {
  if (options_.world_size > 1) Collective("barrier", [&] { return impl_->group->barrier(); });
}

#else  // this LibTorch was built without c10d/Gloo

bool HaveGloo() { return false; }
bool HaveNccl() { return false; }
struct ProcessGroup::Impl {};
ProcessGroup::ProcessGroup(const GroupOptions& o) : options_(o) {
  throw std::runtime_error(
      "this build of the addon has no c10d/Gloo (LibTorch without distributed, or libgloo-dev missing when it " +
      std::string("was built): install libgloo-dev and run `npm run build:native`"));
}
ProcessGroup::~ProcessGroup() = default;
void ProcessGroup::AllReduceMean(const std::vector<torch::Tensor>&) {}
void ProcessGroup::Broadcast(const std::vector<torch::Tensor>&) {}
std::vector<std::vector<int64_t>> ProcessGroup::AllGather(const std::vector<int64_t>& v) { return {v}; }
void ProcessGroup::Barrier() {}
struct ProcessGroup::Pending {};
std::shared_ptr<ProcessGroup::Pending> ProcessGroup::StartAllReduce(const torch::Tensor&) {
  return std::make_shared<Pending>();
}
void ProcessGroup::Wait(Pending&) {}
std::string ProcessGroup::Absent() { return ""; }

#endif

namespace {

// Called by autograd once a parameter's gradient has been accumulated (a post-hook on its AccumulateGrad node).
class AccumulatedHook : public torch::autograd::FunctionPostHook {
 public:
  explicit AccumulatedHook(std::function<void()> f) : f_(std::move(f)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    f_();
    return outputs;
  }

 private:
  std::function<void()> f_;
};

// Gradient averaging in buckets, overlapped with backward as c10d's Reducer does it for DDP, but over the optimiser's
// flat gradient buffers: a bucket is a run of consecutive parameters taken from the end of a buffer (backward
// produces the last layers' gradients first), reduced in place as one slice of the buffer, so there is no copy in or
// out. It starts once each of its parameters has had its gradient accumulated during the armed backward; buckets
// start in a fixed order (as DDP's do), so every rank issues the same collectives in the same order. Parameters the
// step names as complete when it arms (the decoder's head) count as accumulated; a parameter with no gradient in
// this backward leaves its bucket to Finish, which starts what is left and waits for everything. A rank that must
// not update poisons its step; one more one-number all-reduce per step tells every rank, which then all hold NaN.
class BucketSync : public FlatAdamW::GradientSync {
 public:
  BucketSync(std::shared_ptr<ProcessGroup> group, FlatAdamW& optimizer)
      : group_(std::move(group)), optimizer_(optimizer) {
    const auto layout = optimizer.GradLayout();
    const int64_t cap = group_->options().bucket_bytes;
    overlap_ = cap > 0;
    bucket_of_.assign(layout.size(), 0);
    size_t buffers = 0;
    for (const auto& s : layout) buffers = std::max(buffers, s.buffer + 1);
    for (size_t g = 0; g < buffers; ++g) {
      std::vector<size_t> slots;
      for (size_t i = 0; i < layout.size(); ++i)
        if (layout[i].buffer == g) slots.push_back(i);
      std::sort(slots.begin(), slots.end(), [&](size_t a, size_t b) { return layout[a].offset > layout[b].offset; });
      int64_t bytes = 0;
      for (size_t i : slots) {
        const torch::Tensor& p = layout[i].param;
        if (buckets_.empty() || buckets_.back().buffer != g || (overlap_ && bytes >= cap)) {
          buckets_.push_back({g, layout[i].offset, layout[i].offset + p.numel(), 0, 0, nullptr});
          bytes = 0;
        }
        Bucket& b = buckets_.back();
        b.begin = std::min(b.begin, layout[i].offset);
        b.end = std::max(b.end, layout[i].offset + p.numel());
        b.params += 1;
        bytes += p.numel() * p.element_size();
        bucket_of_[i] = buckets_.size() - 1;
      }
    }
    seen_.assign(layout.size(), 0);
    for (size_t i = 0; i < layout.size(); ++i) slot_of_[layout[i].param.unsafeGetTensorImpl()] = i;
    flag_ = torch::zeros({1}, torch::TensorOptions().dtype(torch::kFloat32).device(layout.front().param.device()));
    if (!overlap_) return;
    for (size_t i = 0; i < layout.size(); ++i) {
      auto node = torch::autograd::impl::grad_accumulator(layout[i].param);
      if (!node) continue;
      uintptr_t key = node->add_post_hook(std::make_unique<AccumulatedHook>([this, i] { Accumulated(i); }));
      hooks_.push_back({node, key});  // held: a parameter keeps its accumulator only while someone does
    }
  }
  ~BucketSync() override {
    for (auto& [node, key] : hooks_) node->del_post_hook(key);
  }

  void Arm(const std::vector<torch::Tensor>& complete) override {
    if (!overlap_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    Buffers();
    armed_ = true;
    for (const torch::Tensor& t : complete) {
      auto it = slot_of_.find(t.unsafeGetTensorImpl());
      if (it != slot_of_.end()) MarkLocked(it->second);
    }
  }

  void Finish() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      armed_ = false;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const size_t early = next_;
    Buffers();
    while (next_ < buckets_.size()) Start(buckets_[next_++]);
    torch::NoGradGuard no_grad;
    flag_.fill_(poisoned_ ? 1.0 : 0.0);
    auto flag = group_->StartAllReduce(flag_);
    for (Bucket& b : buckets_) group_->Wait(*b.work);
    group_->Wait(*flag);
    GroupStats& stats = group_->stats();
    stats.wait_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    stats.all_reduces += static_cast<int64_t>(buckets_.size()) + 1;
    stats.early += static_cast<int64_t>(early);
    for (const Bucket& b : buckets_)
      stats.bytes += static_cast<double>((b.end - b.begin) * grads_[b.buffer].element_size());
    const bool poisoned = flag_.item<float>() > 0;
    if (poisoned) {
      for (torch::Tensor& g : grads_) g.fill_(std::numeric_limits<double>::quiet_NaN());
    }
    Reset();
    if (!late_.empty()) {
      std::string which = std::exchange(late_, "");
      throw std::runtime_error(
          "data parallel: the gradient of parameter " + which +
          " grew after its bucket's all-reduce had started (it was " +
          "used again later in backward); set TORCHMOTION_DIST_BUCKET_MB=0 to reduce after backward");
    }
  }

  void Poison() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      armed_ = false;
      poisoned_ = true;
    }
    for (size_t i = 0; i < next_; ++i) group_->Wait(*buckets_[i].work);  // the gradients are about to be overwritten
  }

 private:
  struct Bucket {
    size_t buffer;
    int64_t begin, end;
    int params = 0;
    int ready = 0;
    std::shared_ptr<ProcessGroup::Pending> work;
  };

  void Accumulated(size_t slot) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (armed_) MarkLocked(slot);
  }

  void MarkLocked(size_t slot) {
    const size_t k = bucket_of_[slot];
    if (seen_[slot]) {
      if (k < next_ && late_.empty()) late_ = "#" + std::to_string(slot);
      return;
    }
    seen_[slot] = 1;
    buckets_[k].ready += 1;
    while (next_ < buckets_.size() && buckets_[next_].ready == buckets_[next_].params) Start(buckets_[next_++]);
  }

  void Buffers() {
    grads_.clear();
    for (size_t g = 0; g <= buckets_.back().buffer; ++g) grads_.push_back(optimizer_.GradBuffer(g));
  }

  // Each rank's share is divided by the world size before the sum, as DDP does: while the bucket's gradients are still
  // in cache, and with nothing left to do after the last all-reduce.
  void Start(Bucket& b) {
    torch::NoGradGuard no_grad;
    torch::Tensor slice = grads_[b.buffer].narrow(0, b.begin, b.end - b.begin);
    slice.div_(group_->world_size());
    b.work = group_->StartAllReduce(slice);
  }

  void Reset() {
    std::fill(seen_.begin(), seen_.end(), 0);
    for (Bucket& b : buckets_) {
      b.ready = 0;
      b.work.reset();
    }
    next_ = 0;
    poisoned_ = false;
  }

  std::shared_ptr<ProcessGroup> group_;
  FlatAdamW& optimizer_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::unordered_map<const c10::TensorImpl*, size_t> slot_of_;
  std::vector<char> seen_;
  std::vector<torch::Tensor> grads_;
  torch::Tensor flag_;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks_;
  std::mutex mutex_;
  bool overlap_ = false;
  bool armed_ = false;
  bool poisoned_ = false;
  size_t next_ = 0;
  std::string late_;
};

}  // namespace

void JoinDataParallel(const std::shared_ptr<ProcessGroup>& group, torch::nn::Module& model, FlatAdamW& optimizer) {
  std::vector<torch::Tensor> state;
  for (const auto& p : model.named_parameters()) state.push_back(p.value());
  for (const auto& b : model.named_buffers()) state.push_back(b.value());
  {
    torch::NoGradGuard no_grad;
    group->Broadcast(state);
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < state.size(); ++i) sum += (i + 1) * BitSum(state[i]);
  auto all = group->AllGather({static_cast<int64_t>(sum)});
  std::string differ;
  for (size_t r = 1; r < all.size(); ++r) {
    if (all[r][0] != all[0][0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  }
  if (!differ.empty())
    throw std::runtime_error("after the broadcast from rank 0 the weights of rank(s) " + differ +
                             " still differ from rank 0's");
  if (!optimizer.GradLayout().empty()) optimizer.SetSync(std::make_shared<BucketSync>(group, optimizer));
}

}  // namespace torchmotion
