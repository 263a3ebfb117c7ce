// Parameter tables and state dicts of any module, as JS values (shared by every native model class).
#pragma once

#include <napi.h>

#include <string>
#include <utility>
#include <vector>

#include "binding/tensor_bridge.h"
#include "compat.h"

namespace torchmotion {

inline Napi::Array ParameterTableToJs(Napi::Env env, torch::nn::Module& module) {
  auto out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& p : module.named_parameters()) {
    auto row = Napi::Object::New(env);
    row.Set("name", p.key());
    auto shape = Napi::Array::New(env);
    for (int64_t d = 0; d < p.value().dim(); ++d)
      shape.Set(static_cast<uint32_t>(d), static_cast<double>(p.value().size(d)));
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
  // bf16 weights (a bfloat16 decoder) come out widened to float32, which is exact.
  auto widened = [](const torch::Tensor& t) { return t.scalar_type() == torch::kBFloat16 ? t.to(torch::kFloat32) : t; };
  for (const auto& p : module.named_parameters()) out.Set(p.key(), CopyTensorToJs(env, widened(p.value())));
  for (const auto& b : module.named_buffers()) out.Set(b.key(), CopyTensorToJs(env, widened(b.value())));
  return out;
}

// Sets every parameter and buffer from {name: {data, shape}} (what an importer read from another framework's file).
// All or nothing: every name of the module must be given, no other name, each with the module's shape and finite
// values; all are checked before the first is written. Values are converted to the module's dtype and device.
// `partial` lets a subset be given (an importer streaming a large file a tensor at a time into a fresh model); the
// given ones are checked the same way.
inline void LoadStateDictFromJs(const Napi::Value& value, torch::nn::Module& module, const std::string& what,
                                bool partial = false) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, what + ": expected an object of {name: {data, shape}}");
  Napi::Object given = value.As<Napi::Object>();
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& p : module.named_parameters()) targets.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) targets.emplace_back(b.key(), b.value());
  std::vector<std::string> missing;
  if (!partial)
    for (const auto& t : targets)
      if (!given.Has(t.first)) missing.push_back(t.first);
  Napi::Array keys = given.GetPropertyNames();
  std::vector<std::string> unknown;
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
    bool found = false;
    for (const auto& t : targets) found = found || t.first == k;
    if (!found) unknown.push_back(k);
  }
  auto list = [](const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", " : "") + names[i];
    return s + (names.size() > 8 ? ", … (" + std::to_string(names.size()) + " in all)" : "");
  };
  if (!missing.empty()) throw Napi::TypeError::New(env, what + ": no value for " + list(missing));
  if (!unknown.empty()) throw Napi::TypeError::New(env, what + ": the model has no " + list(unknown));
  std::vector<BorrowedTensor> sources;
  std::vector<torch::Tensor> destinations;
  for (const auto& t : targets) {
    if (!given.Has(t.first)) continue;
    TensorSpec spec;
    spec.name = t.first;
    spec.rank_free = true;
    BorrowedTensor src = BorrowTensor(given.Get(t.first), spec);
    if (src.tensor.sizes() != t.second.sizes()) {
      throw Napi::TypeError::New(env, what + ": " + t.first + " has shape " + ShapeString(src.tensor.sizes()) +
                                          ", the model's is " + ShapeString(t.second.sizes()));
    }
    if (src.tensor.is_floating_point() && !torch::isfinite(src.tensor).all().item<bool>()) {
      throw Napi::TypeError::New(env, what + ": " + t.first + " holds NaN or Inf");
    }
    sources.push_back(std::move(src));
    destinations.push_back(t.second);
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < destinations.size(); ++i) destinations[i].copy_(sources[i].tensor);
}

// A list of tensors (e.g. the flat gradient buffers) as a JS array of copies.
inline Napi::Array TensorListToJs(Napi::Env env, const std::vector<torch::Tensor>& tensors) {
  auto out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(static_cast<uint32_t>(i), CopyTensorToJs(env, tensors[i]));
  return out;
}

}  // namespace torchmotion
