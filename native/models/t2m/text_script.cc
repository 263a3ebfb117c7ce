// JS class `TextScript`: a TorchScript text encoder loaded by the addon (exported from PyTorch with
// torch.jit.script/trace). forward(ids: (B, L) int64, mask: (B, L) bool) → (B, L, D) token embeddings. torchmotion
// runs it once per caption to fill the embedding cache and per prompt at generation, never per training step.
#include <torch/script.h>

#include <memory>

#include "binding/exports.h"
#include "binding/model_binding.h"

namespace torchmotion {
namespace {

class TextScript : public Napi::ObjectWrap<TextScript> {
 public:
  // new TextScript({device}): an empty holder; load(path) reads the module.
  explicit TextScript(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TextScript>(info) {
    Guarded(info.Env(), [&] {
      device_ = ParseDevice(StringOption(OptionsArg(info, 0, "TextScript"), "device", "cpu"));
      return info.Env().Undefined();
    });
  }

  // load(path) → Promise<void>: torch::jit::load off the JS thread (a large encoder takes seconds).
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsString())
        throw Napi::TypeError::New(env, "TextScript.load: expected a file path");
      std::string path = info[0].As<Napi::String>();
      torch::Device device = device_;
      auto slot = &module_;
      return RunModelCall(env, Value(), busy_, "TextScript.load", ThreadState{1, false}, {}, [=]() -> ToJs {
        auto m = std::make_shared<torch::jit::script::Module>(torch::jit::load(path, device));
        m->eval();
        *slot = std::move(m);
        return nullptr;
      });
    });
  }

  // encode({ids: (B,L) int32, mask: (B,L) bool (Uint8Array)}, {threads}) → Promise<(B,L,D) float32>.
  Napi::Value Encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Guarded(env, [&]() -> Napi::Value {
      if (!module_) throw Napi::Error::New(env, "TextScript.encode: no module loaded; await load(path) first");
      if (info.Length() < 1 || !info[0].IsObject())
        throw Napi::TypeError::New(env, "TextScript.encode: expected {ids, mask}");
      auto batch = info[0].As<Napi::Object>();
      auto o = OptionsArg(info, 1, "TextScript.encode");
      auto ids = BorrowTensor(batch.Get("ids"), Spec("ids", torch::kInt32, {-1, -1}, {"B", "L"}));
      auto mask = BorrowTensor(batch.Get("mask"),
                               Spec("mask", torch::kBool, {ids.tensor.size(0), ids.tensor.size(1)}, {"", ""}));
      torch::Tensor id = ids.tensor, m = mask.tensor;
      std::shared_ptr<torch::jit::script::Module> module = module_;
      torch::Device device = device_;
      std::vector<Napi::Reference<Napi::Value>> keep;
      keep.push_back(std::move(ids.keep));
      keep.push_back(std::move(mask.keep));
      return RunModelCall(
          env, Value(), busy_, "TextScript.encode", ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
            torch::jit::IValue out = module->forward({id.to(torch::kInt64).to(device), m.to(device)});
            if (!out.isTensor())
              throw std::invalid_argument("the TorchScript encoder must return one tensor (B, L, D), it returned " +
                                          out.tagKind());
            torch::Tensor e = out.toTensor();
            if (e.dim() != 3 || e.size(0) != id.size(0) || e.size(1) != id.size(1) || !e.is_floating_point()) {
              throw std::invalid_argument("the TorchScript encoder must return float (B, L, D) = (" +
                                          std::to_string(id.size(0)) + ", " + std::to_string(id.size(1)) +
                                          ", D), it returned " + DtypeName(e.scalar_type()) + " " +
                                          ShapeString(e.sizes()));
            }
            return TensorResult(e.to(torch::kFloat32).cpu().contiguous());
          });
    });
  }

  static void Register(Napi::Env env, Napi::Object exports) {
    exports.Set("TextScript", DefineClass(env, "TextScript",
                                          {InstanceMethod<&TextScript::Load>("load"),
                                           InstanceMethod<&TextScript::Encode>("encode")}));
  }

 private:
  std::shared_ptr<torch::jit::script::Module> module_;
  torch::Device device_{torch::kCPU};
  BusyFlag busy_;
};

}  // namespace

void RegisterTextScript(Napi::Env env, Napi::Object exports) { TextScript::Register(env, exports); }

}  // namespace torchmotion
