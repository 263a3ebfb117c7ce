// One training step (or micro-batch of one) of the motion tokenizer as a plain function: forward, the reference loss,
// backward, and on the last micro-batch the end of step (FlatAdamW::EndStep: gradient seam, clipping, AdamW). Arguments
// arrive validated (binding.cc reads them from JS). A step whose input, loss or gradient norm is not finite changes no
// weight: no forward on a non-finite batch (VQ's EMA codebook would take it in), no update from a non-finite gradient;
// the gradient seam still runs (with NaN gradients), so every rank of a data-parallel run makes the same choice.
#pragma once

#include "models/tokenizer/tokenizer.h"
#include "train/flat_adamw.h"

namespace torchmotion {

struct TokenizerStepArgs {
  double lr = 0;
  double clip = 0;         // gradient-norm clip, 0 = off
  double vel_weight = 0;   // weight of the positions block's loss
  double commit_beta = 0;  // weight of the VQ commitment loss
  bool autocast = false;   // bf16 autocast (CUDA only)
  double loss_scale = 1;   // multiplies the loss (a micro-batch's share of an accumulated step)
  bool update = true;      // false: only accumulate this micro-batch's gradients
};

struct TokenizerStepResult {
  double loss, reconstruction, positions, commitment;
  double grad_norm;   // before clipping
  double perplexity;  // exp(entropy) of the batch's code histogram (RVQ: of layer 0, which every batch uses)
  int64_t codes_used;
  int64_t layers_used;  // RVQ: the layers quantizer dropout left this batch
  NonFinite non_finite;
};

// `motion` is a (B, T, input_dim) float32 batch on any device; it is moved to `device`.
TokenizerStepResult TokenizerTrainStep(Tokenizer& model, FlatAdamW& optimizer, const torch::Tensor& motion,
                                       const torch::Device& device, const TokenizerStepArgs& a);

}  // namespace torchmotion
