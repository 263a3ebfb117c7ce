#include "distributed/binding.h"

#include "binding/args.h"
#include "binding/errors.h"
#include "binding/exports.h"

namespace torchmotion {
namespace {

class ProcessGroupBinding : public Napi::ObjectWrap<ProcessGroupBinding> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit ProcessGroupBinding(const Napi::CallbackInfo& info);
  static std::shared_ptr<ProcessGroup> From(const Napi::Value& v, const std::string& what);

 private:
  static Napi::FunctionReference* constructor_;
  Napi::Value AllGather(const Napi::CallbackInfo& info);
  Napi::Value AllReduceMean(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value Rank(const Napi::CallbackInfo& info);
  Napi::Value WorldSize(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  std::shared_ptr<ProcessGroup> group_;
};

Napi::FunctionReference* ProcessGroupBinding::constructor_ = nullptr;

void ProcessGroupBinding::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "ProcessGroup",
                                   {
                                       InstanceMethod<&ProcessGroupBinding::AllGather>("allGather"),
                                       InstanceMethod<&ProcessGroupBinding::AllReduceMean>("allReduceMean"),
                                       InstanceMethod<&ProcessGroupBinding::Barrier>("barrier"),
                                       InstanceAccessor<&ProcessGroupBinding::Rank>("rank"),
                                       InstanceAccessor<&ProcessGroupBinding::WorldSize>("worldSize"),
                                       InstanceAccessor<&ProcessGroupBinding::Stats>("stats"),
                                       StaticValue("available", Napi::Boolean::New(env, HaveGloo())),
                                       StaticValue("nccl", Napi::Boolean::New(env, HaveNccl())),
                                   });
  constructor_ = new Napi::FunctionReference(Napi::Persistent(cls));
  env.SetInstanceData<Napi::FunctionReference>(constructor_);
  exports.Set("ProcessGroup", cls);
}

// new ProcessGroup({rank, worldSize, masterAddr, masterPort, timeoutMs, bucketBytes, backend, cudaDevice}): blocks
// until every rank has joined.
ProcessGroupBinding::ProcessGroupBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupBinding>(info) {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto o = OptionsArg(info, 0, "ProcessGroup");
    const char* what = "ProcessGroup";
    GroupOptions g;
    g.world_size = RequiredInt(o, what, "worldSize", 1, 1 << 20);
    g.rank = RequiredInt(o, what, "rank", 0, g.world_size - 1);
    g.master_addr = RequiredString(o, what, "masterAddr");
    g.master_port = RequiredInt(o, what, "masterPort", 1, 65535);
    g.timeout = std::chrono::milliseconds(RequiredInt(o, what, "timeoutMs", 1, 1 << 30));
    g.bucket_bytes = static_cast<int64_t>(RequiredNumber(o, what, "bucketBytes", 0, 1e12));
    g.backend = RequiredString(o, what, "backend");
    if (g.backend != "gloo" && g.backend != "nccl")
      throw Napi::TypeError::New(env, "ProcessGroup: backend must be 'gloo' or 'nccl', received '" + g.backend + "'");
    g.cuda_device = RequiredInt(o, what, "cudaDevice", 0, 1 << 16);
    group_ = std::make_shared<ProcessGroup>(g);
    return env.Undefined();
  });
}

std::shared_ptr<ProcessGroup> ProcessGroupBinding::From(const Napi::Value& v, const std::string& what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !constructor_ || !v.As<Napi::Object>().InstanceOf(constructor_->Value())) {
    throw Napi::TypeError::New(env, what + ": expected a ProcessGroup");
  }
  return Unwrap(v.As<Napi::Object>())->group_;
}

// allGather(values: number[]) → number[][]: every rank's integers (exact up to 2^53), rank by rank.
Napi::Value ProcessGroupBinding::AllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsArray())
      throw Napi::TypeError::New(env, "ProcessGroup.allGather: expected an array of integers");
    Napi::Array a = info[0].As<Napi::Array>();
    std::vector<int64_t> values;
    for (uint32_t i = 0; i < a.Length(); ++i)
      values.push_back(static_cast<int64_t>(a.Get(i).As<Napi::Number>().DoubleValue()));
    auto all = group_->AllGather(values);
    Napi::Array out = Napi::Array::New(env, all.size());
    for (uint32_t r = 0; r < all.size(); ++r) {
      Napi::Array row = Napi::Array::New(env, all[r].size());
      for (uint32_t i = 0; i < all[r].size(); ++i) row.Set(i, static_cast<double>(all[r][i]));
      out.Set(r, row);
    }
    return out;
  });
}

// allReduceMean(values: number[]) → number[]: the mean over the ranks, in float64.
Napi::Value ProcessGroupBinding::AllReduceMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsArray())
      throw Napi::TypeError::New(env, "ProcessGroup.allReduceMean: expected an array of numbers");
    Napi::Array a = info[0].As<Napi::Array>();
    torch::Tensor t = torch::empty({static_cast<int64_t>(a.Length())}, torch::kFloat64);
    for (uint32_t i = 0; i < a.Length(); ++i) t[i] = a.Get(i).As<Napi::Number>().DoubleValue();
    group_->AllReduceMean({t});
    Napi::Array out = Napi::Array::New(env, a.Length());
    for (uint32_t i = 0; i < a.Length(); ++i) out.Set(i, t[i].item<double>());
    return out;
  });
}

Napi::Value ProcessGroupBinding::Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    group_->Barrier();
    return env.Undefined();
  });
}

// stats: {waitMs, allReduces, early, megabytes} of the gradient all-reduces so far (waitMs: time spent waiting for
// them after backward; early: buckets started during backward).
Napi::Value ProcessGroupBinding::Stats(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  const GroupStats s = group_ ? group_->stats() : GroupStats{};
  out.Set("waitMs", s.wait_ms);
  out.Set("allReduces", static_cast<double>(s.all_reduces));
  out.Set("early", static_cast<double>(s.early));
  out.Set("megabytes", s.bytes / 1e6);
  return out;
}

Napi::Value ProcessGroupBinding::Rank(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), group_ ? group_->rank() : 0);
}
Napi::Value ProcessGroupBinding::WorldSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), group_ ? group_->world_size() : 1);
}

}  // namespace

std::shared_ptr<ProcessGroup> ProcessGroupFrom(const Napi::Value& v, const std::string& what) {
  return ProcessGroupBinding::From(v, what);
}

void RegisterProcessGroup(Napi::Env env, Napi::Object exports) { ProcessGroupBinding::Register(env, exports); }

}  // namespace torchmotion
