// JS typed arrays <-> torch::Tensor. Input is wrapped in place (zero copy): the caller keeps the JS buffer alive
// through the returned reference for as long as the tensor is used. Output is always copied into a new JS buffer,
// because LibTorch's allocator, not V8, owns the result memory.
#pragma once

#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compat.h"

namespace torchmotion {

// What a native entry point expects of one tensor argument. A dimension of -1 accepts any size; a named
// dimension ("B") is printed in messages so the user can see which size is free.
struct TensorSpec {
  std::string name;
  std::optional<torch::ScalarType> dtype;  // nullopt: any supported dtype
  std::vector<int64_t> shape;              // empty with rank_free: any rank
  std::vector<std::string> dim_names;      // same length as shape, "" for fixed sizes
  bool rank_free = false;
};

// A spec with a fixed dtype: shape entries of -1 take any size, named by dim_names in error messages.
inline TensorSpec Spec(std::string name, torch::ScalarType dtype, std::vector<int64_t> shape,
                       std::vector<std::string> dim_names) {
  TensorSpec s;
  s.name = std::move(name);
  s.dtype = dtype;
  s.shape = std::move(shape);
  s.dim_names = std::move(dim_names);
  return s;
}

struct BorrowedTensor {
  torch::Tensor tensor;               // views the JS memory; valid while `keep` lives
  Napi::Reference<Napi::Value> keep;  // holds the typed array (and its ArrayBuffer) alive
};

// Reads {data: TypedArray, shape: number[]} and checks it against spec; throws Napi::TypeError naming
// the argument, the expected and the received dtype or shape.
BorrowedTensor BorrowTensor(const Napi::Value& value, const TensorSpec& spec);

// Copies a tensor (any device, any layout) into {data, shape, dtype}. Reduced-precision floats come back
// as float32 because JS has no typed array for them.
Napi::Object CopyTensorToJs(Napi::Env env, const torch::Tensor& tensor);

std::string DtypeName(torch::ScalarType type);
std::string ShapeString(c10::IntArrayRef shape);

}  // namespace torchmotion
