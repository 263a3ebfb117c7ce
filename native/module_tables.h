// Parameter tables and state dicts of any module, as JS values (shared by every native model class).
#pragma once

#include <napi.h>

#include <vector>

#include "compat.h"
#include "tensor_bridge.h"

namespace torchmotion {

inline Napi::Array ParameterTableToJs(Napi::Env env, torch::nn::Module& module) {
  auto out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& p : module.named_parameters()) {
    auto row = Napi::Object::New(env);
    row.Set("name", p.key());
    auto shape = Napi::Array::New(env);
    for (int64_t d = 0; d < p.value().dim(); ++d) shape.Set(static_cast<uint32_t>(d), static_cast<double>(p.value().size(d)));
    row.Set("shape", shape);
    row.Set("count", static_cast<double>(p.value().numel()));
    row.Set("trainable", p.value().requires_grad());
    out.Set(i++, row);
  }
  return out;
}

// Parameters and buffers by name, copied out (for export to the PyTorch reference or to .npz).
inline Napi::Object StateDictToJs(Napi::Env env, torch::nn::Module& module) {
  auto out = Napi::Object::New(env);
  for (const auto& p : module.named_parameters()) out.Set(p.key(), CopyTensorToJs(env, p.value()));
  for (const auto& b : module.named_buffers()) out.Set(b.key(), CopyTensorToJs(env, b.value()));
  return out;
}

// A list of tensors (e.g. the flat gradient buffers) as a JS array of copies.
inline Napi::Array TensorListToJs(Napi::Env env, const std::vector<torch::Tensor>& tensors) {
  auto out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(static_cast<uint32_t>(i), CopyTensorToJs(env, tensors[i]));
  return out;
}

}  // namespace torchmotion
