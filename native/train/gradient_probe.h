// For tests of the gradient seam: while alive, copies the flat gradients each time a step reports them ready
// (FlatAdamW::GradientsReady), so a caller sees what a data-parallel all-reduce would receive.
#pragma once

#include <vector>

#include "train/flat_adamw.h"

namespace torchmotion {

class InspectGradients {
 public:
  // With `out` null it does nothing (the common case: no hook, no copies).
  InspectGradients(FlatAdamW& optimizer, std::vector<torch::Tensor>* out)
      : optimizer_(optimizer), active_(out != nullptr) {
    if (!active_) return;
    optimizer_.SetGradientHook([out](const std::vector<torch::Tensor>& grads) {
      out->clear();
      for (const torch::Tensor& g : grads) out->push_back(g.detach().to(torch::kCPU, torch::kFloat32, false, true));
    });
  }
  ~InspectGradients() {
    if (active_) optimizer_.SetGradientHook(nullptr);
  }
  InspectGradients(const InspectGradients&) = delete;
  InspectGradients& operator=(const InspectGradients&) = delete;

 private:
  FlatAdamW& optimizer_;
  bool active_;
};

}  // namespace torchmotion
