// Activation recomputation for the decoder's blocks: forward keeps only each block's input; backward runs the block
// again with autograd on and back-propagates through that copy. Saves the per-block activations (about 150 MB per
// block at batch 8 × 301 on the 44M config, attention probabilities included) for about one extra forward pass.
#pragma once

#include <torch/torch.h>

#include "models/t2m/transformer.h"

namespace torchmotion {

torch::Tensor RecomputedBlock(BlockImpl& block, const Rotary& rope, const torch::Tensor& x,
                              const torch::Tensor& positions, const torch::Tensor& allowed);

}  // namespace torchmotion
