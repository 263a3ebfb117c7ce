// Stateless native operations. roundTrip exercises the whole bridge (JS → tensor → device → JS); matmul is the
// smallest real computation; measureThroughput times matmul or conv1d so benchmarks can state the machine's peak;
// channelNormRelu and conv1d expose the tokenizer's own CPU kernels for their golden tests.
#include "ops.h"

#include <chrono>

#include <torch/cuda.h>

#include "args.h"
#include "async_worker.h"
#include "channel_norm.h"
#include "conv1d_cpu.h"
#include "device.h"
#include "tensor_bridge.h"

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
    return TorchWorker::Start(env, ThreadOption(opts, false), [t, device]() -> ToJs {
      torch::Tensor on_device = t.to(device, /*non_blocking=*/false, /*copy=*/true);
      return [on_device](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, on_device); };
    }, Keep(input));
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
    return TorchWorker::Start(env, ThreadOption(opts, false), [ta, tb, device, repeat]() -> ToJs {
      torch::Tensor x = ta.to(device), y = tb.to(device), out;
      for (int i = 0; i < repeat; ++i) out = torch::matmul(x, y);
      return [out](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, out); };
    }, std::move(keep));
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
      throw Napi::TypeError::New(env, "option 'op' must be 'matmul', 'conv1d' or 'conv1d-torchmotion', received '" + op + "'");
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
        throw std::invalid_argument("measureThroughput: torchmotion's conv1d kernel needs a CPU with AVX-512 (and TORCHMOTION_NO_AVX512 unset)");
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

// channelNormRelu(x (B,C,T), weight (C), bias (C), grad (B,C,T), {threads}) → Promise<{y, dx, dweight, dbias}>: the
// residual blocks' fused LayerNorm-over-channels + ReLU (CPU float32) and its backward for the upstream gradient
// `grad`, so tests can hold the kernel against PyTorch's LayerNorm and ReLU directly.
Napi::Value ChannelNormRelu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 4, "channelNormRelu");
    auto x = BorrowTensor(info[0], AnyTensor("x"));
    auto w = BorrowTensor(info[1], AnyTensor("weight"));
    auto b = BorrowTensor(info[2], AnyTensor("bias"));
    auto g = BorrowTensor(info[3], AnyTensor("grad"));
    torch::Tensor tx = x.tensor, tw = w.tensor, tb = b.tensor, tg = g.tensor;
    if (tx.dim() != 3 || tw.dim() != 1 || tw.size(0) != tx.size(1) || !tb.sizes().equals(tw.sizes()) || !tg.sizes().equals(tx.sizes())) {
      throw Napi::TypeError::New(env, "channelNormRelu: expected x (B, C, T), weight (C), bias (C) and grad (B, C, T)");
    }
    auto keep = Keep(x);
    for (auto* t : {&w, &b, &g}) keep.push_back(std::move(t->keep));
    return TorchWorker::Start(env, ThreadOption(opts, false), [tx, tw, tb, tg]() -> ToJs {
      torch::Tensor xi = tx.detach().clone().requires_grad_(true), wi = tw.detach().clone().requires_grad_(true);
      torch::Tensor bi = tb.detach().clone().requires_grad_(true);
      torch::Tensor y;
      {
        torch::AutoGradMode on(true);
        y = ChannelLayerNormRelu(xi, wi, bi, 1e-5);
        y.backward(tg);
      }
      torch::Tensor out = y.detach(), dx = xi.grad(), dw = wi.grad(), db = bi.grad();
      return [out, dx, dw, db](Napi::Env e) -> Napi::Value {
        auto r = Napi::Object::New(e);
        r.Set("y", CopyTensorToJs(e, out));
        r.Set("dx", CopyTensorToJs(e, dx));
        r.Set("dweight", CopyTensorToJs(e, dw));
        r.Set("dbias", CopyTensorToJs(e, db));
        return r;
      };
    }, std::move(keep));
  });
}

// conv1d(x (B,Cin,T), weight (Cout,Cin,K), bias (Cout), grad (B,Cout,T'), {stride, padding, dilation, threads}) →
// Promise<{y, dx, dweight, dbias, kernel}>: a convolution and its backward for the upstream gradient `grad`,
// dispatched as the tokenizer's layers are (kernel 'torchmotion' where native/conv1d_cpu.cc applies, else 'libtorch').
Napi::Value Conv1d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 4, "conv1d");
    auto x = BorrowTensor(info[0], AnyTensor("x"));
    auto w = BorrowTensor(info[1], AnyTensor("weight"));
    auto b = BorrowTensor(info[2], AnyTensor("bias"));
    auto g = BorrowTensor(info[3], AnyTensor("grad"));
    const int64_t pad = IntOption(opts, "padding", 0, 0, 1 << 20), dil = IntOption(opts, "dilation", 1, 1, 1 << 20);
    const int64_t stride = IntOption(opts, "stride", 1, 1, 1 << 20);
    torch::Tensor tx = x.tensor, tw = w.tensor, tb = b.tensor, tg = g.tensor;
    const bool shapes = tx.dim() == 3 && tw.dim() == 3 && tw.size(1) == tx.size(1) && tb.dim() == 1 && tb.size(0) == tw.size(0) && tg.dim() == 3;
    const int64_t span = shapes ? tx.size(2) + 2 * pad - dil * (tw.size(2) - 1) : 0, out_steps = span >= 1 ? (span - 1) / stride + 1 : 0;
    if (!shapes || out_steps < 1 || !tg.sizes().equals({tx.size(0), tw.size(0), out_steps})) {
      throw Napi::TypeError::New(env,
                                 "conv1d: expected x (B, Cin, T), weight (Cout, Cin, K), bias (Cout) and grad (B, Cout, (T + 2·padding − dilation·(K − 1) − 1) / stride + 1)");
    }
    auto keep = Keep(x);
    for (auto* t : {&w, &b, &g}) keep.push_back(std::move(t->keep));
    return TorchWorker::Start(env, ThreadOption(opts, false), [tx, tw, tb, tg, stride, pad, dil]() -> ToJs {
      torch::Tensor xi = tx.detach().clone().requires_grad_(true), wi = tw.detach().clone().requires_grad_(true);
      torch::Tensor bi = tb.detach().clone().requires_grad_(true);
      const bool ours = Conv1dCpuApplies(xi, wi, stride, pad, dil, 1);
      torch::Tensor y;
      {
        torch::AutoGradMode on(true);
        y = ours ? Conv1dCpu(xi, wi, bi, stride, pad, dil) : torch::conv1d(xi, wi, bi, stride, pad, dil);
        y.backward(tg);
      }
      torch::Tensor out = y.detach(), dx = xi.grad(), dw = wi.grad(), db = bi.grad();
      return [out, dx, dw, db, ours](Napi::Env e) -> Napi::Value {
        auto r = Napi::Object::New(e);
        r.Set("y", CopyTensorToJs(e, out));
        r.Set("dx", CopyTensorToJs(e, dx));
        r.Set("dweight", CopyTensorToJs(e, dw));
        r.Set("dbias", CopyTensorToJs(e, db));
        r.Set("kernel", ours ? "torchmotion" : "libtorch");
        return r;
      };
    }, std::move(keep));
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
