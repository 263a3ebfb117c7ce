#include "checkpoint.h"

#include <cstdio>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace torchmotion {

void SaveTrainingState(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model.save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  // The CPU generator drives VQ code resets; restoring it makes a resumed run draw the same numbers.
  {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("cpu_rng", generator.get_state());
  }
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot move checkpoint into place at " + path);
  }
}

void LoadTrainingState(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                       const torch::Device& device) {
  if (!std::ifstream(path).good()) throw std::runtime_error("checkpoint " + path + " does not exist or cannot be read");
  torch::serialize::InputArchive archive, model_archive, optimizer_archive;
  archive.load_from(path, device);
  archive.read("model", model_archive);
  model.load(model_archive);
  archive.read("optimizer", optimizer_archive);
  optimizer.load(optimizer_archive);
  torch::Tensor rng;
  archive.read("cpu_rng", rng);
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle sharing the global state
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(rng.to(torch::kCPU));
}

}  // namespace torchmotion
