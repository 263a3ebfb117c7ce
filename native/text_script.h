// JS class `TextScript`: a TorchScript text encoder loaded by the addon (exported from PyTorch with
// torch.jit.script/trace). forward(ids: (B, L) int64, mask: (B, L) bool) → (B, L, D) token embeddings. torchmotion
// runs it once per caption to fill the embedding cache and per prompt at generation, never per training step.
#pragma once

#include <napi.h>
#include <torch/script.h>

#include <memory>

#include "model_call.h"

namespace torchmotion {

class TextScript : public Napi::ObjectWrap<TextScript> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit TextScript(const Napi::CallbackInfo& info);

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Encode(const Napi::CallbackInfo& info);

  std::shared_ptr<torch::jit::script::Module> module_;
  torch::Device device_{torch::kCPU};
  BusyFlag busy_;
};

}  // namespace torchmotion
