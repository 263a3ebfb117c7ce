// Cross-entropy over a large vocabulary (64,001 codes) without holding every position's logits at once.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace torchmotion {

struct HeadLoss {
  double loss = 0;      // mean cross-entropy over the rows
  int64_t correct = 0;  // rows whose arg-max is the target
};

// rows (N, dim) → head → logits, a chunk of rows at a time: each chunk's logits, softmax and gradient live only
// while it runs (the reference holds (B·L, vocab) three times over, about 1.8 GB at batch 8 × 301). Backward runs
// here: the head's weight gradients accumulate chunk by chunk and the rows' gradient is passed on to the trunk.
// The result equals autograd over the whole batch up to summation order. `scale` multiplies the loss (accumulation).
// `before_trunk` runs between the head's chunks and the trunk's backward (where a data-parallel sync is armed).
HeadLoss ChunkedHeadLossBackward(const std::function<torch::Tensor(const torch::Tensor&)>& head,
                                 const torch::Tensor& rows, const torch::Tensor& targets, int64_t vocab, double scale,
                                 bool autocast, const std::function<void()>& before_trunk = nullptr);

// The same loss and arg-max count without gradients (held-out evaluation): call under torch::NoGradGuard.
HeadLoss ChunkedHeadLoss(const std::function<torch::Tensor(const torch::Tensor&)>& head, const torch::Tensor& rows,
                         const torch::Tensor& targets, int64_t vocab, bool autocast);

}  // namespace torchmotion
