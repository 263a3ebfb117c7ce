#pragma once

#include <string>

#include "compat.h"

namespace torchmotion {

// Parses "cpu", "cuda" or "cuda:N" and checks that the device exists in this LibTorch build; throws
// std::invalid_argument with a sentence that names the value and the fix.
torch::Device ParseDevice(const std::string& spec);

}  // namespace torchmotion
