// The rule every native model follows: one call in flight per model, the model kept alive until its call
// settles, the work run off the JS thread under its own LibTorch thread state.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "async_worker.h"
#include "checkpoint.h"
#include "distributed_wrap.h"
#include "module_tables.h"

namespace torchmotion {

class BusyFlag {
 public:
  void Claim(Napi::Env env, const std::string& where) {
    if (busy_) {
      throw Napi::Error::New(env, where + ": another call is still running on this model; await it first (one call in flight per model)");
    }
    busy_ = true;
  }
  void Release() { busy_ = false; }

 private:
  bool busy_ = false;
};

inline Napi::Promise RunModelCall(Napi::Env env, Napi::Object self, BusyFlag& flag, const std::string& where, ThreadState state,
                                  std::vector<Napi::Reference<Napi::Value>> keep, Work work) {
  flag.Claim(env, where);
  keep.push_back(Napi::Persistent(Napi::Value(self)));
  return TorchWorker::Start(env, state, std::move(work), std::move(keep), [&flag] { flag.Release(); });
}

// loadStateDict({name: {data, shape}}, {partial}) of a model: synchronous (the values are JS memory), under the same
// one-call-in-flight rule; `where` names the method in errors.
inline Napi::Value LoadStateDictCall(const Napi::CallbackInfo& info, BusyFlag& flag, const std::string& where, torch::nn::Module& model) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const bool partial = info.Length() > 1 && info[1].IsObject() && info[1].As<Napi::Object>().Get("partial").ToBoolean();
    flag.Claim(env, where);
    try {
      LoadStateDictFromJs(info[0], model, where, partial);
    } catch (...) {
      flag.Release();
      throw;
    }
    flag.Release();
    return env.Undefined();
  });
}

// joinProcessGroup(group): the model trains data-parallel from now on (distributed.h); synchronous, since every
// rank takes part in the broadcast.
inline Napi::Value JoinGroupCall(const Napi::CallbackInfo& info, BusyFlag& flag, const std::string& where, torch::nn::Module& model,
                                 FlatAdamW* optimizer) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto group = ProcessGroupWrap::From(info.Length() > 0 ? info[0] : env.Undefined(), where);
    if (!optimizer) throw Napi::TypeError::New(env, where + ": this model has no optimiser (a bfloat16 decoder only generates)");
    flag.Claim(env, where);
    try {
      JoinDataParallel(group, model, *optimizer);
    } catch (...) {
      flag.Release();
      throw;
    }
    flag.Release();
    return env.Undefined();
  });
}

// save(path) / load(path) of a model with its optimiser (none for a model that only generates): argument check,
// then the same one-call-in-flight rule.
inline Napi::Value CheckpointCall(const Napi::CallbackInfo& info, Napi::Object self, BusyFlag& flag, const std::string& where, bool save,
                                  torch::nn::Module& model, torch::optim::Optimizer* optimizer, torch::Device device) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, where + ": expected a file path");
    std::string path = info[0].As<Napi::String>();
    torch::nn::Module* m = &model;
    torch::optim::Optimizer* o = optimizer;
    return RunModelCall(env, self, flag, where, ThreadState{1, false}, {}, [=]() -> ToJs {
      if (save) SaveTrainingState(path, *m, o);
      else LoadTrainingState(path, *m, o, device);
      return nullptr;
    });
  });
}

}  // namespace torchmotion
