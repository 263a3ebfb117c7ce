// Model + optimiser + RNG in one LibTorch archive, written through a temporary file and a rename so that a
// crash mid-write never leaves a half checkpoint under the final name.
#pragma once

#include <string>

#include "compat.h"

namespace torchmotion {

// `optimizer` is null for a model that only generates (a bfloat16 decoder): its archive holds no optimiser entry.
void SaveTrainingState(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer);
void LoadTrainingState(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                       const torch::Device& device);

}  // namespace torchmotion
