// Data parallelism over PyTorch's own engine: a c10d process group (Gloo over TCP on the CPU) whose ranks meet
// through c10d's TCPStore, as torchrun and DDP do. A model joins it once: its weights are broadcast from rank 0 and
// checked by a checksum, and from then on its optimiser's gradient seam averages the flat gradients by all-reduce.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compat.h"
#include "flat_adamw.h"

namespace torchmotion {

struct GroupOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::chrono::milliseconds timeout{60000};
};

// True when this build has c10d with Gloo (Debian's LibTorch with libgloo-dev, or a LibTorch built with distributed).
bool HaveGloo();

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

 private:
  struct Impl;
  GroupOptions options_;
  std::unique_ptr<Impl> impl_;
};

// A model joins the group: parameters and buffers broadcast from rank 0, then compared by a checksum on every rank
// (an error names the ranks that differ), and the optimiser's gradients averaged at the seam from now on.
void JoinDataParallel(const std::shared_ptr<ProcessGroup>& group, torch::nn::Module& model, FlatAdamW& optimizer);

}  // namespace torchmotion
