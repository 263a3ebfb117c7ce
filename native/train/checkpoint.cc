#include "train/checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#ifdef _WIN32
#include <io.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace torchmotion {
namespace {

std::string Cause(int err) { return err == ENOSPC ? "no space left on device" : std::strerror(err); }

// The archive's bytes go straight to a file we own: LibTorch's own file writer throws from its destructor when a
// write fails (std::terminate, exit 134, on a full disk). Here a failed write is remembered, later bytes are
// dropped, and the caller raises one error naming the file and the cause.
class FileSink {
 public:
  explicit FileSink(std::string path) : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb")) {
    if (!file_) throw std::runtime_error("cannot create " + path_ + ": " + Cause(errno));
  }
  ~FileSink() {
    if (file_) std::fclose(file_);
  }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  size_t Write(const void* data, size_t n) {
    if (error_ == 0 && std::fwrite(data, 1, n, file_) != n) error_ = errno ? errno : EIO;
    return n;  // never short: a short count makes the writer throw, possibly from a destructor
  }
  // Flushes to the disk (fsync), closes, and throws if any write failed.
  void Finish() {
    if (error_ == 0 && std::fflush(file_) != 0) error_ = errno;
#ifdef _WIN32
    if (error_ == 0 && _commit(_fileno(file_)) != 0) error_ = errno;
#else
    if (error_ == 0 && fsync(fileno(file_)) != 0) error_ = errno;
#endif
    if (std::fclose(file_) != 0 && error_ == 0) error_ = errno;
    file_ = nullptr;
    if (error_ != 0) throw std::runtime_error(Cause(error_) + " while writing " + path_);
  }

 private:
  std::string path_;
  std::FILE* file_;
  int error_ = 0;
};

// A rename is durable only once its directory is on disk too.
void SyncDirectoryOf(const std::string& path) {
#ifndef _WIN32
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = open(dir.c_str(), O_RDONLY);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
#else
  (void)path;
#endif
}

// `doing` begins the message: "refusing to write <path>" or "<path> cannot be loaded".
void CheckFinite(const std::string& doing, torch::nn::Module& model) {
  for (const auto& p : model.named_parameters()) {
    if (p.value().is_floating_point() && !torch::isfinite(p.value()).all().item<bool>()) {
      throw std::runtime_error(doing + ": parameter " + p.key() + " holds NaN or Inf");
    }
  }
  for (const auto& b : model.named_buffers()) {
    if (b.value().is_floating_point() && !torch::isfinite(b.value()).all().item<bool>()) {
      throw std::runtime_error(doing + ": buffer " + b.key() + " holds NaN or Inf");
    }
  }
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string WithoutBacktraceOf(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  return FirstLine(c10 ? WithoutBacktrace(*c10) : std::string(e.what()));
}

// Puts back what LoadTrainingState kept aside. Each part is attempted even if one before it fails, and nothing
// escapes: the caller is already reporting the load's own error.
void Restore(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, const std::vector<torch::Tensor>& kept,
             torch::optim::Optimizer* optimizer, const std::string& optimizer_bytes, at::Generator& generator,
             const torch::Tensor& rng) noexcept {
  try {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < tensors.size(); ++i) {
      torch::Tensor t = tensors[i].second;
      t.set_data(kept[i]);
    }
  } catch (...) {
  }
  try {
    if (optimizer) {
      torch::serialize::InputArchive a;
      a.load_from(optimizer_bytes.data(), optimizer_bytes.size());
      optimizer->load(a);  // FlatAdamW binds its buffers to the restored weights again
    }
  } catch (...) {
  }
  try {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  } catch (...) {
  }
}

}  // namespace

void SaveTrainingState(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer) {
  CheckFinite("refusing to write " + path, model);
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer) {
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  // The CPU generator drives VQ code resets; restoring it makes a resumed run draw the same numbers.
  {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("cpu_rng", generator.get_state());
  }
  const std::string tmp = path + ".tmp";
  try {
    FileSink sink(tmp);
    archive.save_to([&sink](const void* data, size_t n) { return sink.Write(data, n); });
    sink.Finish();
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error("cannot move " + tmp + " to " + path + ": " + Cause(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  SyncDirectoryOf(path);
}

// All or nothing: the current weights, optimiser state and RNG are kept aside, and put back if anything in the file
// is unreadable or does not fit the model (LibTorch replaces each tensor as it reads it, whatever its shape).
void LoadTrainingState(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                       const torch::Device& device) {
  if (!std::ifstream(path).good()) throw std::runtime_error("checkpoint " + path + " does not exist or cannot be read");
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : model.named_parameters()) tensors.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) tensors.emplace_back(b.key(), b.value());
  std::vector<torch::Tensor> kept;
  for (const auto& t : tensors) kept.push_back(t.second.detach().clone());
  std::string optimizer_bytes;
  if (optimizer) {
    torch::serialize::OutputArchive a;
    optimizer->save(a);
    a.save_to([&optimizer_bytes](const void* data, size_t n) {
      optimizer_bytes.append(static_cast<const char*>(data), n);
      return n;
    });
  }
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle sharing the global state
  torch::Tensor rng_before;
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    rng_before = generator.get_state();
  }
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    try {
      archive.load_from(path, device);
    } catch (const c10::Error& e) {
      throw std::runtime_error(path + " is not a complete checkpoint (truncated, or not written by torchmotion): " +
                               FirstLine(WithoutBacktrace(e)));
    }
    archive.read("model", model_archive);
    model.load(model_archive);
    for (size_t i = 0; i < tensors.size(); ++i) {
      const torch::Tensor& now = tensors[i].second;
      if (now.sizes() != kept[i].sizes() || now.scalar_type() != kept[i].scalar_type()) {
        throw std::runtime_error(path + " holds another model: " + tensors[i].first + " is " + c10::str(now.sizes()) +
                                 " " + c10::toString(now.scalar_type()) + " there, " + c10::str(kept[i].sizes()) + " " +
                                 c10::toString(kept[i].scalar_type()) + " here");
      }
    }
    CheckFinite(path + " cannot be loaded", model);
    if (optimizer) {
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    torch::Tensor rng;
    archive.read("cpu_rng", rng);
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng.to(torch::kCPU));
  } catch (const std::exception& e) {
    Restore(tensors, kept, optimizer, optimizer_bytes, generator, rng_before);
    const std::string what = WithoutBacktraceOf(e);
    throw std::runtime_error(what.find(path) == std::string::npos ? path + ": " + what : what);
  } catch (...) {
    Restore(tensors, kept, optimizer, optimizer_bytes, generator, rng_before);
    throw;
  }
}

}  // namespace torchmotion
