// The shape every native model's JS class shares (Tokenizer, T2M, Evaluator, Pfnn): a module and its
// optimiser on one device; one call in flight per model, the model kept alive until its call settles, the work run
// off the JS thread under its own LibTorch thread state; and the calls every model has (parameterTable, stateDict,
// loadStateDict, joinProcessGroup, save, load). A model's binding derives from ModelBinding<Its, Module>, reads its
// own options and adds only its own calls.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "binding/args.h"
#include "binding/async_worker.h"
#include "binding/tensor_bridge.h"
#include "distributed/binding.h"
#include "runtime/device.h"
#include "train/checkpoint.h"
#include "train/flat_adamw.h"
#include "train/module_tables.h"

namespace torchmotion {

class BusyFlag {
 public:
  void Claim(Napi::Env env, const std::string& where) {
    if (busy_) {
      throw Napi::Error::New(
          env, where + ": another call is still running on this model; await it first (one call in flight per model)");
    }
    busy_ = true;
  }
  void Release() { busy_ = false; }

 private:
  bool busy_ = false;
};

inline Napi::Promise RunModelCall(Napi::Env env, Napi::Object self, BusyFlag& flag, const std::string& where,
                                  ThreadState state, std::vector<Napi::Reference<Napi::Value>> keep, Work work) {
  flag.Claim(env, where);
  keep.push_back(Napi::Persistent(Napi::Value(self)));
  return TorchWorker::Start(env, state, std::move(work), std::move(keep), [&flag] { flag.Release(); });
}

// What a training step returns to JS: its numbers by name, why it applied no update (omitted when it did), and the
// flat gradients that `inspectGradients` asked for (omitted when not asked).
struct StepReport {
  std::vector<std::pair<const char*, double>> values;
  std::string non_finite;
  std::vector<torch::Tensor> gradients;
};

inline ToJs StepReportToJs(StepReport r) {
  return [r = std::move(r)](Napi::Env env) -> Napi::Value {
    auto out = Napi::Object::New(env);
    for (const auto& [key, value] : r.values) out.Set(key, value);
    if (!r.non_finite.empty()) out.Set("nonFinite", r.non_finite);
    if (!r.gradients.empty()) out.Set("gradients", TensorListToJs(env, r.gradients));
    return out;
  };
}

// A tensor computed off the JS thread, handed to JS as a copy.
inline ToJs TensorResult(torch::Tensor t) {
  return [t = std::move(t)](Napi::Env env) -> Napi::Value { return CopyTensorToJs(env, t); };
}

// Tensors computed off the JS thread, handed to JS as one object of copies, by name.
inline ToJs TensorFieldsResult(std::vector<std::pair<const char*, torch::Tensor>> fields) {
  return [fields = std::move(fields)](Napi::Env env) -> Napi::Value {
    auto out = Napi::Object::New(env);
    for (const auto& [key, t] : fields) out.Set(key, CopyTensorToJs(env, t));
    return out;
  };
}

// A model's module made from the options object of `new Model(options)`: each model's binding specialises it, reading
// its architecture with the Required* readers (args.h).
template <class Module>
Module MakeModule(const Napi::Object& o, const char* what);

// The base of every model's JS class: the constructor and the calls every model shares. A model's binding adds its
// own calls and lists them in its static Calls().
template <class Derived, class Module>
class ModelBinding : public Napi::ObjectWrap<Derived> {
 public:
  using Properties = std::vector<Napi::ClassPropertyDescriptor<Derived>>;

  // Registers the JS class `name`: the calls every model shares, then the model's own (Derived::Calls()).
  static void Define(Napi::Env env, Napi::Object exports, const char* name) {
    using Wrap = Napi::ObjectWrap<Derived>;
    Properties all{
        Wrap::InstanceMethod("parameterTable", &ModelBinding::ParameterTable),
        Wrap::InstanceMethod("stateDict", &ModelBinding::StateDict),
        Wrap::InstanceMethod("loadStateDict", &ModelBinding::LoadStateDict),
        Wrap::InstanceMethod("joinProcessGroup", &ModelBinding::JoinProcessGroup),
        Wrap::InstanceMethod("save", &ModelBinding::Save),
        Wrap::InstanceMethod("load", &ModelBinding::Load),
    };
    const Properties own = Derived::Calls();
    all.insert(all.end(), own.begin(), own.end());
    js_name_ = name;
    exports.Set(name, Wrap::DefineClass(env, name, all));
  }

  // new Model(options): the seed first (so the initial weights follow it), then the module MakeModule<Module> reads
  // from the options, moved to the device, then AdamW over its flat buffers — unless its weights are not float32: a
  // bfloat16 decoder only generates, with no optimiser and no fp32 master weights.
  explicit ModelBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info), name_(js_name_) {
    Napi::Env env = info.Env();
    Guarded(env, [&] {
      auto o = OptionsArg(info, 0, name_);
      torch::manual_seed(static_cast<uint64_t>(RequiredInt(o, name_, "seed", 0, 2147483647)));
      device_ = ParseDevice(StringOption(o, "device", "cpu"));
      model_ = MakeModule<Module>(o, name_);
      model_->to(device_);
      bool float32 = true;
      for (const auto& p : model_->parameters()) float32 = float32 && p.scalar_type() == torch::kFloat32;
      if (float32) optimizer_ = std::make_unique<FlatAdamW>(model_->parameters(), RequiredAdamW(o, name_));
      return env.Undefined();
    });
  }

 protected:
  // One call of this model: body(where, options) with `where` its name for errors ("Tokenizer.step") and the options
  // object of argument 1 (empty when absent); every failure becomes a JS exception.
  template <class F>
  Napi::Value Call(const Napi::CallbackInfo& info, const char* call, F body) {
    return Guarded(info.Env(), [&]() -> Napi::Value {
      const std::string where = Where(call);
      return body(where.c_str(), OptionsArg(info, 1, where.c_str()));
    });
  }

  // `work` as this model's one call in flight; `keep` holds the JS buffers it borrows until it settles.
  Napi::Promise Run(Napi::Env env, const std::string& where, ThreadState state,
                    std::vector<Napi::Reference<Napi::Value>> keep, Work work) {
    return RunModelCall(env, this->Value(), busy_, where, state, std::move(keep), std::move(work));
  }

  std::string Where(const char* call) const { return std::string(name_) + "." + call; }

  FlatAdamW& Optimizer(const std::string& where) {
    if (!optimizer_)
      throw Napi::TypeError::New(this->Env(),
                                 where + ": this model has no optimiser (a bfloat16 decoder only generates)");
    return *optimizer_;
  }

  Module model_{nullptr};
  std::unique_ptr<FlatAdamW> optimizer_;
  torch::Device device_{torch::kCPU};
  BusyFlag busy_;
  const char* name_;  // the JS class's name, for errors

 private:
  static inline const char* js_name_ = "";

  Napi::Value ParameterTable(const Napi::CallbackInfo& info) { return ParameterTableToJs(info.Env(), *model_); }

  Napi::Value StateDict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Guarded(env, [&]() -> Napi::Value { return StateDictToJs(env, *model_); });
  }

  // A synchronous call under the one-call-in-flight rule (the values are JS memory, or every rank takes part).
  template <class F>
  Napi::Value Synchronous(const std::string& where, F body) {
    busy_.Claim(this->Env(), where);
    try {
      body();
    } catch (...) {
      busy_.Release();
      throw;
    }
    busy_.Release();
    return this->Env().Undefined();
  }

  // loadStateDict({name: {data, shape}}, {partial}): an imported checkpoint's weights, all checked before any is set.
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info) {
    return Guarded(info.Env(), [&]() -> Napi::Value {
      const bool partial =
          info.Length() > 1 && info[1].IsObject() && info[1].As<Napi::Object>().Get("partial").ToBoolean();
      const std::string where = Where("loadStateDict");
      return Synchronous(where, [&] { LoadStateDictFromJs(info[0], *model_, where, partial); });
    });
  }

  // joinProcessGroup(group): the model trains data-parallel from now on (process_group.h).
  Napi::Value JoinProcessGroup(const Napi::CallbackInfo& info) {
    return Guarded(info.Env(), [&]() -> Napi::Value {
      const std::string where = Where("joinProcessGroup");
      auto group = ProcessGroupFrom(info.Length() > 0 ? info[0] : info.Env().Undefined(), where);
      FlatAdamW& optimizer = Optimizer(where);
      return Synchronous(where, [&] { JoinDataParallel(group, *model_, optimizer); });
    });
  }

  Napi::Value Save(const Napi::CallbackInfo& info) { return Checkpoint(info, "save", true); }
  Napi::Value Load(const Napi::CallbackInfo& info) { return Checkpoint(info, "load", false); }

  // save(path) / load(path): the model with its optimiser (none for a model that only generates).
  Napi::Value Checkpoint(const Napi::CallbackInfo& info, const char* call, bool save) {
    Napi::Env env = info.Env();
    return Guarded(env, [&]() -> Napi::Value {
      const std::string where = Where(call);
      if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, where + ": expected a file path");
      std::string path = info[0].As<Napi::String>();
      torch::nn::Module* m = model_.get();
      torch::optim::Optimizer* o = optimizer_.get();
      torch::Device device = device_;
      return Run(env, where, ThreadState{1, false}, {}, [=]() -> ToJs {
        if (save)
          SaveTrainingState(path, *m, o);
        else
          LoadTrainingState(path, *m, o, device);
        return nullptr;
      });
    });
  }
};

}  // namespace torchmotion
