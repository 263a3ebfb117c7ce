// One training micro-step of the text-to-motion decoder as a plain function: the trunk forward, the chunked
// head and cross-entropy over the code targets (head_loss.h), backward, and — on the last micro-batch of an
// accumulation — the gradient seam, clipping and AdamW. Arguments arrive validated (binding.cc reads them from JS).
#pragma once

#include "models/t2m/transformer.h"
#include "train/flat_adamw.h"

namespace torchmotion {

struct T2MStepArgs {
  double lr = 0;
  double clip = 0;         // gradient-norm clip, 0 = off
  double loss_scale = 1;   // multiplies the loss (1 / micro-batches when accumulating)
  bool update = true;      // false: accumulate gradients only
  bool recompute = false;  // recompute block activations in backward
  bool autocast = false;   // bf16 autocast (CUDA only)
};

struct T2MStepResult {
  double loss;           // mean cross-entropy over the targets (unscaled)
  double accuracy;       // share of targets that are the arg-max
  double tokens;         // targets (codes and END; never PAD)
  double grad_norm;      // before clipping; NaN on a micro-batch without an update
  NonFinite non_finite;  // on an update: why it was not applied ("" when it was)
};

// text: (B, Lt) int64 word ids or (B, Lt, textDim) embeddings; lengths: (B) int32; codes: (B, Lc) int64 targets
// padded with PAD = vocab − 1. A micro-batch whose input (embeddings) or loss is not finite poisons the accumulated
// gradients (NaN, so a data-parallel all-reduce carries it to every rank) and is remembered by the optimiser
// (FlatAdamW::NotePending); the update then applies nothing, nor when the gradient norm is not finite.
T2MStepResult T2MTrainStep(T2M& model, FlatAdamW& optimizer, const torch::Tensor& text, const torch::Tensor& lengths,
                           const torch::Tensor& codes, const torch::Device& device, const T2MStepArgs& a);

struct T2MEvalResult {
  double loss;      // mean cross-entropy over the targets
  double accuracy;  // share of targets that are the arg-max
  double tokens;    // targets
};

// The same loss on a held-out batch: eval mode, no gradients, no update.
T2MEvalResult T2MEvaluate(T2M& model, const torch::Tensor& text, const torch::Tensor& lengths,
                          const torch::Tensor& codes, const torch::Device& device, bool autocast);

}  // namespace torchmotion
