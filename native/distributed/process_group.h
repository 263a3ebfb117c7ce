// Data parallelism over PyTorch's own engine: a c10d process group (Gloo over TCP for CPU tensors, NCCL for CUDA
// ones where this LibTorch has it) whose ranks meet through c10d's TCPStore, as torchrun and DDP do. A model joins it
// once: its weights are broadcast from rank 0 and checked by a checksum, and from then on its optimiser's gradient seam
// averages the flat gradients by all-reduce.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compat.h"
#include "train/flat_adamw.h"

namespace torchmotion {

struct GroupOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::chrono::milliseconds timeout{60000};
  // "gloo" (CPU tensors) or "nccl" (CUDA tensors on `cuda_device`, this rank's GPU).
  std::string backend = "gloo";
  int cuda_device = 0;
  // Gradients are averaged in buckets of about this many bytes, each started as soon as backward has filled it
  // (PyTorch DDP's bucket_cap_mb, 25 MB by default); 0 reduces everything at the seam, after backward.
  int64_t bucket_bytes = int64_t{25} << 20;
};

// Where a group's gradient communication time went: the wall time a rank spent after backward until its gradients
// were averaged (the part of the all-reduces not hidden behind backward), their number and payload.
struct GroupStats {
  double wait_ms = 0;
  int64_t all_reduces = 0;
  int64_t early = 0;  // gradient buckets whose all-reduce started while backward still ran
  double bytes = 0;
};

// True when this build has c10d with Gloo (Debian's LibTorch with libgloo-dev, or a LibTorch built with distributed).
bool HaveGloo();
// True when this build has c10d's NCCL process group (a CUDA LibTorch built with it).
bool HaveNccl();

class ProcessGroup {
 public:
  explicit ProcessGroup(const GroupOptions& o);  // blocks until every rank has joined (or the timeout)
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }

  // In place: every tensor becomes the mean over the ranks (one all-reduce per tensor, all in flight at once).
  void AllReduceMean(const std::vector<torch::Tensor>& tensors);
  // In place: every tensor takes rank 0's values.
  void Broadcast(const std::vector<torch::Tensor>& tensors);
  // Each rank's int64 values (same length on every rank), rank by rank.
  std::vector<std::vector<int64_t>> AllGather(const std::vector<int64_t>& values);
  void Barrier();

  // An asynchronous in-place all-reduce (sum) of one dense tensor, and waiting for it (an error names the rank that
  // exited or stopped answering).
  struct Pending;
  std::shared_ptr<Pending> StartAllReduce(const torch::Tensor& t);
  void Wait(Pending& p);

  const GroupOptions& options() const { return options_; }
  // The gradient averaging's record (BucketSync adds to it once per step).
  GroupStats& stats() { return stats_; }

 private:
  // Runs after a collective failed: which ranks did not report the failure too (exited or hung).
  std::string Absent();
  template <typename Start>
  void Collective(const char* what, Start start);

  GroupStats stats_;
  struct Impl;
  GroupOptions options_;
  std::unique_ptr<Impl> impl_;
};

// A model joins the group: parameters and buffers broadcast from rank 0, then compared by a checksum on every rank
// (an error names the ranks that differ), and from now on the optimiser's gradients are averaged in buckets
// (GroupOptions::bucket_bytes) that start as backward fills them.
void JoinDataParallel(const std::shared_ptr<ProcessGroup>& group, torch::nn::Module& model, FlatAdamW& optimizer);

}  // namespace torchmotion
