// Stateless native operations. roundTrip exercises the whole bridge (JS → tensor → device → JS); matmul is the
// smallest real computation; measureThroughput times matmul or conv1d so benchmarks can state the machine's peak;
// channelNormRelu and conv1d expose the tokenizer's own CPU kernels for their golden tests.
#include "binding/exports.h"

#include <chrono>

#include <torch/cuda.h>

#include "binding/args.h"
#include "binding/async_worker.h"
#include "binding/tensor_bridge.h"
#include "kernels/channel_norm.h"
#include "kernels/conv1d_cpu.h"
#include "runtime/device.h"

namespace torchmotion {
namespace {

TensorSpec AnyTensor(const char* name) {
  TensorSpec spec;
  spec.name = name;
  spec.rank_free = true;
  return spec;
}

std::vector<Napi::Reference<Napi::Value>> Keep(BorrowedTensor& a) {
  std::vector<Napi::Reference<Napi::Value>> keep;
  keep.push_back(std::move(a.keep));
  return keep;
}

// roundTrip(tensor, {device}) → Promise<tensor>: the copy that comes back went through the device.
Napi::Value RoundTrip(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 1, "roundTrip");
    auto input = BorrowTensor(info[0], AnyTensor("tensor"));
    torch::Device device = ParseDevice(StringOption(opts, "device", "cpu"));
    torch::Tensor t = input.tensor;
    return TorchWorker::Start(
        env, ThreadOption(opts, false),
        [t, device]() -> ToJs {
          torch::Tensor on_device = t.to(device, /*non_blocking=*/false, /*copy=*/true);
          return [on_device](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, on_device); };
        },
        Keep(input));
  });
}

// matmul(a, b, {device, repeat}) → Promise<tensor>. `repeat` reruns the product, for long-call tests.
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 2, "matmul");
    auto a = BorrowTensor(info[0], AnyTensor("a"));
    auto b = BorrowTensor(info[1], AnyTensor("b"));
    torch::Device device = ParseDevice(StringOption(opts, "device", "cpu"));
    int repeat = IntOption(opts, "repeat", 1, 1, 1000000);
    torch::Tensor ta = a.tensor, tb = b.tensor;
    auto keep = Keep(a);
    keep.push_back(std::move(b.keep));
    return TorchWorker::Start(
        env, ThreadOption(opts, false),
        [ta, tb, device, repeat]() -> ToJs {
          torch::Tensor x = ta.to(device), y = tb.to(device), out;
          for (int i = 0; i < repeat; ++i) out = torch::matmul(x, y);
          return [out](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, out); };
        },
        std::move(keep));
  });
}

// measureThroughput({op: 'matmul'|'conv1d'|'conv1d-torchmotion', size, seconds, threads, device}) → {gflops,
// iterations, seconds}. matmul: size×size×size fp32; conv1d: the tokenizer's 512→512 k3 layer on a (64, 512, 96)
// batch with LibTorch's convolution; conv1d-torchmotion: the same layer with native/conv1d_cpu.cc's kernel.
Napi::Value MeasureThroughput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 0, "measureThroughput");
    std::string op = StringOption(opts, "op", "matmul");
    if (op != "matmul" && op != "conv1d" && op != "conv1d-torchmotion") {
      throw Napi::TypeError::New(
          env, "option 'op' must be 'matmul', 'conv1d' or 'conv1d-torchmotion', received '" + op + "'");
    }
    int size = IntOption(opts, "size", 1024, 1, 16384);
    double seconds = NumberOption(opts, "seconds", 1.0, 0.0, 600.0);
    torch::Device device = ParseDevice(StringOption(opts, "device", "cpu"));
    return TorchWorker::Start(env, ThreadOption(opts, false), [op, size, seconds, device]() -> ToJs {
      torch::manual_seed(0);
      auto o = torch::TensorOptions().device(device);
      torch::Tensor x, w;
      double flop;
      if (op == "matmul") {
        x = torch::randn({size, size}, o);
        w = torch::randn({size, size}, o);
        flop = 2.0 * size * size * static_cast<double>(size);
      } else {
        x = torch::randn({64, 512, 96}, o);
        w = torch::randn({512, 512, 3}, o);
        flop = 2.0 * 64 * 512 * 512 * 3 * 96;
      }
      if (op == "conv1d-torchmotion" && !Conv1dCpuApplies(x, w, 1, 1, 1, 1)) {
        throw std::invalid_argument(
            "measureThroughput: torchmotion's conv1d kernels need a CPU with AVX2 + FMA (and "
            "TORCHMOTION_NO_CONV_KERNEL unset)");
      }
      torch::NoGradGuard no_grad;
      auto run = [&] {
        if (op == "matmul") return torch::matmul(x, w);
        return op == "conv1d" ? torch::conv1d(x, w, {}, 1, 1) : Conv1dCpu(x, w, {}, 1, 1, 1);
      };
      run();  // warm-up: first calls allocate and pick kernels
      using Clock = std::chrono::steady_clock;
      auto start = Clock::now();
      int64_t iterations = 0;
      double elapsed = 0;
      do {
        run();
        if (device.is_cuda()) torch::cuda::synchronize();  // wait for the kernel, without copying its output
        ++iterations;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      } while (elapsed < seconds);
      return [=](Napi::Env e) -> Napi::Value {
        auto out = Napi::Object::New(e);
        out.Set("gflops", flop * iterations / elapsed / 1e9);
        out.Set("iterations", static_cast<double>(iterations));
        out.Set("seconds", elapsed);
        return out;
      };
    });
  });
}

// The four tensors of a layer's golden test (x, weight, bias, upstream grad), borrowed from JS; `keep` receives what
// holds their memory alive while the work runs.
struct LayerArgs {
  torch::Tensor x, weight, bias, grad;
};

LayerArgs BorrowLayerArgs(const Napi::CallbackInfo& info, std::vector<Napi::Reference<Napi::Value>>& keep) {
  auto x = BorrowTensor(info[0], AnyTensor("x"));
  auto w = BorrowTensor(info[1], AnyTensor("weight"));
  auto b = BorrowTensor(info[2], AnyTensor("bias"));
  auto g = BorrowTensor(info[3], AnyTensor("grad"));
  for (auto* t : {&x, &w, &b, &g}) keep.push_back(std::move(t->keep));
  return {x.tensor, w.tensor, b.tensor, g.tensor};
}

// Runs layer(x, weight, bias) on copies that require gradients (x only with x_grad), back-propagates grad, and returns
// {y, dx, dweight, dbias} (dx left out without x_grad; `kernel`, when given) for JS.
template <typename Layer>
ToJs LayerWithGrads(Layer layer, const LayerArgs& a, const char* kernel, bool x_grad = true) {
  torch::Tensor xi = a.x.detach().clone().requires_grad_(x_grad), wi = a.weight.detach().clone().requires_grad_(true);
  torch::Tensor bi = a.bias.detach().clone().requires_grad_(true);
  torch::Tensor y;
  {
    torch::AutoGradMode on(true);
    y = layer(xi, wi, bi);
    y.backward(a.grad);
  }
  torch::Tensor out = y.detach(), dx = xi.grad(), dw = wi.grad(), db = bi.grad();
  return [out, dx, dw, db, kernel](Napi::Env e) -> Napi::Value {
    auto r = Napi::Object::New(e);
    r.Set("y", CopyTensorToJs(e, out));
    if (dx.defined()) r.Set("dx", CopyTensorToJs(e, dx));
    r.Set("dweight", CopyTensorToJs(e, dw));
    r.Set("dbias", CopyTensorToJs(e, db));
    if (kernel != nullptr) r.Set("kernel", kernel);
    return r;
  };
}

// channelNormRelu(x (B,C,T), weight (C), bias (C), grad (B,C,T), {threads}) → Promise<{y, dx, dweight, dbias}>: the
// residual blocks' fused LayerNorm-over-channels + ReLU (CPU float32) and its backward for the upstream gradient
// `grad`, so tests can hold the kernel against PyTorch's LayerNorm and ReLU directly.
Napi::Value ChannelNormRelu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 4, "channelNormRelu");
    std::vector<Napi::Reference<Napi::Value>> keep;
    const LayerArgs a = BorrowLayerArgs(info, keep);
    if (a.x.dim() != 3 || a.weight.dim() != 1 || a.weight.size(0) != a.x.size(1) ||
        !a.bias.sizes().equals(a.weight.sizes()) || !a.grad.sizes().equals(a.x.sizes())) {
      throw Napi::TypeError::New(env, "channelNormRelu: expected x (B, C, T), weight (C), bias (C) and grad (B, C, T)");
    }
    return TorchWorker::Start(
        env, ThreadOption(opts, false),
        [a]() -> ToJs {
          auto layer = [](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
            return ChannelLayerNormRelu(x, w, b, 1e-5);
          };
          return LayerWithGrads(layer, a, nullptr);
        },
        std::move(keep));
  });
}

// conv1d(x (B,Cin,T), weight (Cout,Cin,K), bias (Cout), grad (B,Cout,T'), {stride, padding, dilation, upsample,
// inputGrad, threads}) → Promise<{y, dx, dweight, dbias, kernel}>: a convolution and its backward for the upstream
// gradient `grad`, dispatched as the tokenizer's layers are (kernel 'torchmotion' where native/conv1d_cpu.cc applies,
// else 'libtorch'). upsample u: of x repeated u times along time (the decoder's Upsample + Conv); inputGrad false: x
// needs no gradient (a network's first layer), dx is left out.
Napi::Value Conv1d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 4, "conv1d");
    std::vector<Napi::Reference<Napi::Value>> keep;
    const LayerArgs a = BorrowLayerArgs(info, keep);
    const int64_t pad = IntOption(opts, "padding", 0, 0, 1 << 20), dil = IntOption(opts, "dilation", 1, 1, 1 << 20);
    const int64_t stride = IntOption(opts, "stride", 1, 1, 1 << 20), up = IntOption(opts, "upsample", 1, 1, 1 << 10);
    const bool x_grad = BoolOption(opts, "inputGrad", true);
    const torch::Tensor &x = a.x, &w = a.weight;
    const bool shapes = x.dim() == 3 && w.dim() == 3 && w.size(1) == x.size(1) && a.bias.dim() == 1 &&
                        a.bias.size(0) == w.size(0) && a.grad.dim() == 3;
    const int64_t span = shapes ? up * x.size(2) + 2 * pad - dil * (w.size(2) - 1) : 0,
                  out_steps = span >= 1 ? (span - 1) / stride + 1 : 0;
    if (!shapes || out_steps < 1 || !a.grad.sizes().equals({x.size(0), w.size(0), out_steps})) {
      throw Napi::TypeError::New(env,
                                 "conv1d: expected x (B, Cin, T), weight (Cout, Cin, K), bias (Cout) and grad "
                                 "(B, Cout, (upsample·T + 2·padding − dilation·(K − 1) − 1) / stride + 1)");
    }
    return TorchWorker::Start(
        env, ThreadOption(opts, false),
        [a, stride, pad, dil, up, x_grad]() -> ToJs {
          auto layer = [&](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
            return Conv1dLayer(x, w, b, stride, pad, dil, up);
          };
          return LayerWithGrads(
              layer, a, Conv1dCpuApplies(a.x, a.weight, stride, pad, dil, 1, up) ? "torchmotion" : "libtorch", x_grad);
        },
        std::move(keep));
  });
}

// noop() → Promise<undefined>: the fixed cost of one async native call, measured by scripts/bench/overhead.ts.
Napi::Value Noop(const Napi::CallbackInfo& info) {
  return TorchWorker::Start(info.Env(), ThreadState{DefaultThreads(), false}, []() -> ToJs { return nullptr; });
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object exports) {
  exports.Set("roundTrip", Napi::Function::New(env, RoundTrip, "roundTrip"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("measureThroughput", Napi::Function::New(env, MeasureThroughput, "measureThroughput"));
  exports.Set("channelNormRelu", Napi::Function::New(env, ChannelNormRelu, "channelNormRelu"));
  exports.Set("conv1d", Napi::Function::New(env, Conv1d, "conv1d"));
  exports.Set("noop", Napi::Function::New(env, Noop, "noop"));
}

}  // namespace torchmotion
