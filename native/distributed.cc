#include "distributed.h"

#include <sstream>
#include <stdexcept>

#ifdef TM_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
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

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
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

// Runs one collective and waits for it; a rank that died or stopped answering surfaces here as Gloo's error or a
// timeout, which becomes an error that says so.
template <typename Start>
void Collective(const GroupOptions& o, const char* what, Start start) {
  try {
    start()->wait(o.timeout);
  } catch (const std::exception& e) {
    std::string cause = e.what();
    cause = cause.substr(0, cause.find('\n'));
    throw std::runtime_error(std::string("c10d ") + what + " failed on " + Where(o) + ": another rank exited or did not answer within " +
                             Seconds(o.timeout) + " (" + cause + ") — raise it with TORCHMOTION_DIST_TIMEOUT or launch --timeout if a step is that slow");
  }
}

}  // namespace

ProcessGroup::ProcessGroup(const GroupOptions& o) : options_(o), impl_(std::make_unique<Impl>()) {
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    throw std::invalid_argument("rank " + std::to_string(o.rank) + " does not fit a world of " + std::to_string(o.world_size));
  }
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o.master_port);
    so.isServer = o.rank == 0;
    so.numWorkers = static_cast<std::size_t>(o.world_size);
    so.waitWorkers = true;
    so.timeout = o.timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
    auto go = c10d::ProcessGroupGloo::Options::create(o.timeout);
    go->devices.push_back(GlooDevice(o.master_addr));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, o.rank, o.world_size, go);
  } catch (const std::exception& e) {
    std::string cause = e.what();
    throw std::runtime_error("c10d rendezvous failed for " + Where(o) + ": " + cause.substr(0, cause.find('\n')) +
                             " (every rank must start within the timeout, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE)");
  }
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::AllReduceMean(const std::vector<torch::Tensor>& tensors) {
  if (options_.world_size == 1) return;
  std::vector<c10::intrusive_ptr<c10d::Work>> pending;
  try {
    for (const torch::Tensor& t : tensors) {
      std::vector<at::Tensor> one{t};
      pending.push_back(impl_->group->allreduce(one));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("c10d all-reduce could not start on ") + Where(options_) + ": " + e.what());
  }
  for (auto& w : pending) Collective(options_, "all-reduce", [&] { return w; });
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : tensors) t.div_(options_.world_size);
}

void ProcessGroup::Broadcast(const std::vector<torch::Tensor>& tensors) {
  if (options_.world_size == 1) return;
  for (const torch::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t};
    Collective(options_, "broadcast", [&] { return impl_->group->broadcast(one); });
  }
}

std::vector<std::vector<int64_t>> ProcessGroup::AllGather(const std::vector<int64_t>& values) {
  const int64_t n = static_cast<int64_t>(values.size());
  torch::Tensor mine = torch::tensor(values, torch::kInt64);
  std::vector<at::Tensor> in{mine};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < options_.world_size; ++r) out[0].push_back(torch::empty({n}, torch::kInt64));
  if (options_.world_size > 1) Collective(options_, "all-gather", [&] { return impl_->group->allgather(out, in); });
  else out[0][0].copy_(mine);
  std::vector<std::vector<int64_t>> result;
  for (const torch::Tensor& t : out[0]) result.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
  return result;
}

void ProcessGroup::Barrier() {
  if (options_.world_size > 1) Collective(options_, "barrier", [&] { return impl_->group->barrier(); });
}

#else  // this LibTorch was built without c10d/Gloo

bool HaveGloo() { return false; }
struct ProcessGroup::Impl {};
ProcessGroup::ProcessGroup(const GroupOptions& o) : options_(o) {
  throw std::runtime_error("this build of the addon has no c10d/Gloo (LibTorch without distributed, or libgloo-dev missing when it " +
                           std::string("was built): install libgloo-dev and run `npm run build:native`"));
}
ProcessGroup::~ProcessGroup() = default;
void ProcessGroup::AllReduceMean(const std::vector<torch::Tensor>&) {}
void ProcessGroup::Broadcast(const std::vector<torch::Tensor>&) {}
std::vector<std::vector<int64_t>> ProcessGroup::AllGather(const std::vector<int64_t>& v) { return {v}; }
void ProcessGroup::Barrier() {}

#endif

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
  if (!differ.empty()) throw std::runtime_error("after the broadcast from rank 0 the weights of rank(s) " + differ + " still differ from rank 0's");
  std::shared_ptr<ProcessGroup> g = group;
  optimizer.SetReduce([g](const std::vector<torch::Tensor>& grads) { g->AllReduceMean(grads); });
}

}  // namespace torchmotion
