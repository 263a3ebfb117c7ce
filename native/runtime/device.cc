#include "runtime/device.h"

#include <regex>
#include <stdexcept>

namespace torchmotion {

torch::Device ParseDevice(const std::string& spec) {
  static const std::regex kPattern(R"(^(cpu|cuda)(?::(\d+))?$)");
  std::smatch m;
  if (!std::regex_match(spec, m, kPattern) || (m[1] == "cpu" && m[2].matched)) {
    throw std::invalid_argument("device '" + spec + "' is not valid: use 'cpu', 'cuda' or 'cuda:N'");
  }
  if (m[1] == "cpu") return torch::Device(torch::kCPU);
  if (!CudaAvailable()) {
    throw std::invalid_argument("device '" + spec + "' requested but CUDA is not available (LibTorch " +
                                TorchVersion() +
                                " has no CUDA support or no GPU is visible): use device 'cpu', or build against a "
                                "CUDA LibTorch as the README describes");
  }
  int index = m[2].matched ? std::stoi(m[2].str()) : 0;
  int count = CudaDeviceCount();
  if (index >= count) {
    throw std::invalid_argument("device '" + spec + "' does not exist: " + std::to_string(count) +
                                " CUDA device(s) visible, valid indices are 0.." + std::to_string(count - 1));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace torchmotion
