// One training step of the PFNN as a plain function: forward with dropout, the original's loss (MSE on the normalised
// outputs + gamma × the mean |W| penalty), backward, the end of step (FlatAdamW::EndStep: gradient seam, norm, Adam).
// Arguments arrive validated (binding.cc reads them from JS). A batch, loss or gradient that is not finite changes
// no weight.
#pragma once

#include "models/pfnn/pfnn.h"
#include "train/flat_adamw.h"

namespace torchmotion {

struct PfnnBatch {
  torch::Tensor x;      // (B, input) normalised inputs
  torch::Tensor phase;  // (B) in [0, 1)
  torch::Tensor y;      // (B, output) normalised targets
};

struct PfnnStepArgs {
  double lr = 0;
  double gamma = 0;   // weight of the mean |W| penalty
  uint64_t seed = 0;  // dropout's draws: one seed per step, so a resumed run draws the same masks
};

struct PfnnStepResult {
  double loss, mse, penalty;
  double grad_norm;
  NonFinite non_finite;
};

PfnnStepResult PfnnTrainStep(Pfnn& model, FlatAdamW& optimizer, const PfnnBatch& b, const torch::Device& device,
                             const PfnnStepArgs& a);

// The mean squared error over every output of a batch, without dropout or gradients (held-out evaluation).
double PfnnEvaluate(Pfnn& model, const PfnnBatch& b, const torch::Device& device);

}  // namespace torchmotion
