// One training step of the retrieval evaluator as a plain function: both encoders, symmetric InfoNCE with
// near-duplicate captions excluded as negatives, backward, the gradient seam, clipping and AdamW. Arguments arrive
// validated (binding.cc reads them from JS).
#pragma once

#include "models/evaluator/evaluator.h"
#include "train/flat_adamw.h"

namespace torchmotion {

struct EvaluatorBatch {
  torch::Tensor text, text_lengths;      // (B, Lt) int64 ids or (B, Lt, D) float; (B) int64
  torch::Tensor motion, motion_lengths;  // (B, T, 272) float; (B) int64
  torch::Tensor exclude;                 // (B, B) bool
};

struct EvaluatorStepArgs {
  double lr = 0;
  double clip = 0;  // gradient-norm clip, 0 = off
  double temperature = 0.1;
  uint64_t seed = 0;  // dropout's draws: one seed per step, so a resumed run draws the same masks
};

struct EvaluatorStepResult {
  double loss;           // symmetric InfoNCE
  double accuracy;       // in-batch top-1 retrieval, both directions averaged
  double grad_norm;      // before clipping
  NonFinite non_finite;  // why no update was applied ("" when it was)
};

EvaluatorStepResult EvaluatorTrainStep(Evaluator& model, FlatAdamW& optimizer, const EvaluatorBatch& b,
                                       const torch::Device& device, const EvaluatorStepArgs& a);

}  // namespace torchmotion
