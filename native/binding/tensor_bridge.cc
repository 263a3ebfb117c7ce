#include "binding/tensor_bridge.h"

#include <cstring>
#include <sstream>

namespace torchmotion {
namespace {

struct TypedArrayKind {
  napi_typedarray_type js;
  torch::ScalarType torch;
  const char* js_name;
};

// One table drives both directions, so a dtype is either fully supported or not at all.
constexpr TypedArrayKind kKinds[] = {
    {napi_float32_array, torch::kFloat32, "Float32Array"}, {napi_float64_array, torch::kFloat64, "Float64Array"},
    {napi_int32_array, torch::kInt32, "Int32Array"},       {napi_bigint64_array, torch::kInt64, "BigInt64Array"},
    {napi_uint8_array, torch::kBool, "Uint8Array"},
};

const TypedArrayKind* KindOf(napi_typedarray_type js) {
  for (const auto& k : kKinds)
    if (k.js == js) return &k;
  return nullptr;
}

const TypedArrayKind* KindOf(torch::ScalarType t) {
  for (const auto& k : kKinds)
    if (k.torch == t) return &k;
  return nullptr;
}

std::string SpecShapeString(const TensorSpec& spec) {
  if (spec.rank_free) return "[any]";
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < spec.shape.size(); ++i) {
    if (i) s << ", ";
    if (spec.shape[i] >= 0) {
      s << spec.shape[i];
    } else {
      s << (i < spec.dim_names.size() && !spec.dim_names[i].empty() ? spec.dim_names[i] : "*");
    }
  }
  s << "]";
  return s.str();
}

[[noreturn]] void Fail(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

std::vector<int64_t> ReadShape(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsArray()) Fail(env, name + ".shape: expected an array of non-negative integers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value d = arr.Get(i);
    double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(x >= 0) || x != static_cast<double>(static_cast<int64_t>(x))) {
      Fail(env, name + ".shape[" + std::to_string(i) + "]: expected a non-negative integer but received " +
                    d.ToString().Utf8Value());
    }
    shape.push_back(static_cast<int64_t>(x));
  }
  return shape;
}

}  // namespace

std::string DtypeName(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt32: return "int32";
    case torch::kInt64: return "int64";
    case torch::kBool: return "bool";
    default: return std::string(c10::toString(type));
  }
}

std::string ShapeString(c10::IntArrayRef shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

BorrowedTensor BorrowTensor(const Napi::Value& value, const TensorSpec& spec) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray()) {
    Fail(env, spec.name + ": expected a tensor {data: TypedArray, shape: number[]}");
  }
  auto obj = value.As<Napi::Object>();
  Napi::Value data = obj.Get("data");
  if (!data.IsTypedArray()) {
    Fail(env, spec.name + ".data: expected a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array");
  }
  auto array = data.As<Napi::TypedArray>();
  const TypedArrayKind* kind = KindOf(array.TypedArrayType());
  if (!kind) {
    Fail(env, spec.name +
                  ".data: typed array type not supported; use Float32Array, Float64Array, Int32Array, "
                  "BigInt64Array or Uint8Array (bool)");
  }
  if (spec.dtype && *spec.dtype != kind->torch) {
    Fail(env, spec.name + ": expected dtype " + DtypeName(*spec.dtype) + " but received " + DtypeName(kind->torch) +
                  " (" + kind->js_name + ")");
  }
  std::vector<int64_t> shape = ReadShape(env, obj.Get("shape"), spec.name);
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (numel != static_cast<int64_t>(array.ElementLength())) {
    Fail(env, spec.name + ": shape " + ShapeString(shape) + " holds " + std::to_string(numel) +
                  " elements but data has " + std::to_string(array.ElementLength()));
  }
  if (!spec.rank_free) {
    bool ok = shape.size() == spec.shape.size();
    for (size_t i = 0; ok && i < shape.size(); ++i) ok = spec.shape[i] < 0 || spec.shape[i] == shape[i];
    if (!ok) {
      Fail(env, spec.name + ": expected shape " + SpecShapeString(spec) + " but received " + ShapeString(shape));
    }
  }
  auto* base = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  if (kind->torch == torch::kBool) {
    // torch's bool kernels assume 0/1 bytes; anything else gives undefined results, so reject it here.
    for (size_t i = 0; i < array.ElementLength(); ++i) {
      if (base[i] > 1) {
        Fail(env, spec.name + ".data: a bool tensor (Uint8Array) may only hold 0 or 1, but element " +
                      std::to_string(i) + " is " + std::to_string(base[i]));
      }
    }
  }
  BorrowedTensor out;
  auto options = torch::TensorOptions().dtype(kind->torch);
  // An empty typed array may have no backing store at all; from_blob needs a real pointer.
  out.tensor = numel == 0 ? torch::empty(shape, options) : torch::from_blob(base, shape, options);
  out.keep = Napi::Persistent(Napi::Value(data));
  return out;
}

Napi::Object CopyTensorToJs(Napi::Env env, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach();
  if (!KindOf(t.scalar_type())) {
    if (!t.is_floating_point()) {
      throw std::invalid_argument("cannot return a tensor of dtype " + DtypeName(t.scalar_type()) + " to JS");
    }
    t = t.to(torch::kFloat32);
  }
  t = t.to(torch::kCPU).contiguous();
  const TypedArrayKind* kind = KindOf(t.scalar_type());
  size_t count = static_cast<size_t>(t.numel());
  size_t bytes = count * t.element_size();
  auto buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buffer.Data(), t.data_ptr(), bytes);
  Napi::Value data;
  switch (kind->js) {
    case napi_float32_array: data = Napi::Float32Array::New(env, count, buffer, 0); break;
    case napi_float64_array: data = Napi::Float64Array::New(env, count, buffer, 0); break;
    case napi_int32_array: data = Napi::Int32Array::New(env, count, buffer, 0); break;
    case napi_bigint64_array: data = Napi::BigInt64Array::New(env, count, buffer, 0); break;
    default: data = Napi::Uint8Array::New(env, count, buffer, 0); break;
  }
  auto shape = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.size(i)));
  auto out = Napi::Object::New(env);
  out.Set("data", data);
  out.Set("shape", shape);
  out.Set("dtype", DtypeName(t.scalar_type()));
  return out;
}

}  // namespace torchmotion
