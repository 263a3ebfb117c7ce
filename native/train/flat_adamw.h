// AdamW whose parameters, gradients and moments each live in one flat buffer per dtype, so a step is a handful of
// kernels over whole buffers instead of ~10 small kernels per parameter tensor. On a GPU the per-tensor launches
// of torch::optim::AdamW cost more than the arithmetic (the tokenizer has 94 tensors: ~1,000 launches a step);
// PyTorch's Python AdamW avoids them with multi-tensor ("foreach") kernels, which LibTorch's C++ API lacks.
// The update is torch::optim::AdamW's, operation for operation; checkpoints keep AdamW's per-parameter format.
#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "compat.h"

namespace torchmotion {

// Why a training step applied no update: "" (it did), "input", "loss" or "gradients" (not finite).
using NonFinite = const char*;

class FlatAdamW : public torch::optim::AdamW {
 public:
  FlatAdamW(std::vector<torch::Tensor> params, torch::optim::AdamWOptions options);

  // AdamW's update. On the CPU in fp32 it also leaves the gradients zero (it reads each one last; see ZeroGrad).
  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  // The learning rate of the next step (schedules change it every step).
  void SetLr(double lr) { static_cast<torch::optim::AdamWOptions&>(param_groups()[0].options()).lr(lr); }
  // Zeroes every gradient with one fill per buffer (gradients stay allocated, as views of the flat buffer); a
  // buffer that the fp32 CPU step left zero and nothing wrote since is skipped.
  void ZeroGrad();
  // Points the gradients at the flat buffer before a backward that accumulates into them, so autograd never
  // allocates a second, per-tensor set (cheap once bound: a pointer check per parameter).
  void PrepareGrads() { Bind(); }
  // clip_grad_norm_ over the flat gradients: returns the total L2 norm before clipping.
  double ClipGradNorm(double max_norm) { return ClipGradNorm(max_norm, GradNorm()); }
  // The same with the norm already known (GradNorm() of the current gradients).
  double ClipGradNorm(double max_norm, double total);
  // The total L2 norm of the flat gradients (non-finite when any gradient is).
  double GradNorm();
  // Fills every gradient with NaN: a step that must not update (a non-finite input or loss) says so through the
  // gradients themselves, so that after a data-parallel all-reduce every rank sees a non-finite norm and skips too.
  void PoisonGradients();
  // A micro-batch of the accumulation in progress was not finite: the update that ends it must not apply. Kept
  // here with the gradients it spoiled; a load (new weights, new accumulation) forgets it.
  void NotePending(NonFinite why) {
    if (*pending_ == '\0') pending_ = why;
  }
  NonFinite TakePending() { return std::exchange(pending_, ""); }

  // The end of a training step once its gradients are complete: the gradient seam, the norm, then — unless a
  // pending non-finite micro-batch or a non-finite norm forbids it — clipping to `clip` (0 = off) and the update at
  // `lr`; the gradients are zeroed either way. Returns the norm before clipping and why no update was applied.
  struct Outcome {
    double grad_norm;
    NonFinite non_finite;
  };
  Outcome Update(double clip, double lr);
  // The end every training step shares, given why the step itself found nothing to learn from ("" when its input and
  // loss were finite): such a step poisons its gradients (so every rank of a data-parallel run skips the update with
  // it) and spoils the accumulation in progress; on an update step, Update follows. Without an update the norm is NaN.
  Outcome EndStep(NonFinite why, bool update, double clip, double lr);

  // The seam between backward and the update: Update calls GradientsReady() once the gradients are complete (after
  // the last micro-batch, before clipping), and the hook gets the flat gradient buffers (one per
  // dtype, parameters in registration order) to read or rewrite in place — where a data-parallel all-reduce goes.
  using GradientHook = std::function<void(const std::vector<torch::Tensor>& grads)>;
  void SetGradientHook(GradientHook hook) { hook_ = std::move(hook); }
  // Data-parallel averaging of the flat gradients (distributed.h). A step arms it just before the backward that
  // completes the gradients (the last micro-batch's), naming the parameters whose gradients are already complete by
  // then (the decoder's head, back-propagated chunk by chunk first), so that buckets can be reduced while backward
  // still runs; GradientsReady() finishes it after the gradient hook. With a gradient hook set it is never armed: the
  // hook sees what this rank contributes, the update what all ranks agreed on.
  class GradientSync {
   public:
    virtual ~GradientSync() = default;
    virtual void Arm(const std::vector<torch::Tensor>& complete) = 0;  // the next backward completes the gradients
    virtual void Finish() = 0;  // they are complete: what has not started starts; all are waited for and averaged
    virtual void
    Poison() = 0;  // this rank's step must not update: waits for what is in flight; Finish makes every rank's NaN
  };
  void SetSync(std::shared_ptr<GradientSync> sync) { sync_ = std::move(sync); }
  void ArmSync(const std::vector<torch::Tensor>& complete = {}) {
    if (sync_ && !hook_) sync_->Arm(complete);
  }
  void GradientsReady();

  // Where each parameter's gradient lives: its flat buffer (GradBuffer) and offset there, in registration order.
  struct GradSlot {
    torch::Tensor param;
    size_t buffer;
    int64_t offset;
  };
  std::vector<GradSlot> GradLayout() const;
  torch::Tensor GradBuffer(size_t buffer) {
    Bind();
    return buffers_[buffer].grads;
  }

 private:
  struct Slot {
    torch::Tensor param;
    size_t group;
    int64_t offset;
  };
  struct Buffer {
    torch::Tensor values, grads, exp_avg, exp_avg_sq, scratch;
    int64_t zeroed_at = -1;  // the gradients' version counter when the fused CPU step left them all zero
  };

  // Makes every parameter (and with `grads`, every gradient) a view of its flat buffer again. Loading a checkpoint
  // (set_ on each parameter) or code that replaces a gradient breaks the aliasing; the current values are copied in.
  void Bind(bool grads = true);

  GradientHook hook_;
  std::shared_ptr<GradientSync> sync_;
  NonFinite pending_ = "";
  std::vector<Slot> slots_;
  std::vector<Buffer> buffers_;
  int64_t steps_ = 0;
};

}  // namespace torchmotion
