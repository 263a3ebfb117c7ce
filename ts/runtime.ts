// Process-wide LibTorch settings and the stateless native operations, each validated before the call.
import { platform, versions } from 'node:process';

import { invalid, withCallerStack } from './errors.js';
import {
  addonPath,
  native,
  type Conv1dOptions,
  type NativeInfo,
  type ThreadOptions,
  type Throughput,
  type ThroughputOp,
} from './native.js';
import { tensor, type HostTensor, type TensorOut } from './tensor.js';

export interface RuntimeInfo extends Omit<NativeInfo, 'parallelInfo'> {
  addonPath: string;
  node: string;
  platform: string;
}

export function info(): RuntimeInfo {
  const { parallelInfo: _omit, ...n } = native().info();
  return {
    ...n,
    blas: n.blas || 'unknown (not OpenBLAS or MKL)',
    addonPath: addonPath(),
    node: versions.node,
    platform,
  };
}

export function checkThreads(threads: unknown, what = 'threads'): number {
  if (!Number.isInteger(threads) || (threads as number) < 1) throw invalid(what, 'a positive integer', threads);
  return threads as number;
}

// Sets LibTorch's intra-op threads and OpenBLAS's pool together for every later native call.
export function setThreads(threads: number): void {
  native().setThreads(checkThreads(threads));
}

export function checkDevice(device: unknown): string {
  if (typeof device !== 'string' || !/^(cpu|cuda(:\d+)?)$/.test(device)) {
    throw invalid('device', "'cpu', 'cuda' or 'cuda:N'", device);
  }
  return device;
}

export interface CallOptions {
  device?: string;
  threads?: number;
}

function callOptions(o: CallOptions): CallOptions {
  return {
    ...(o.device !== undefined && { device: checkDevice(o.device) }),
    ...(o.threads !== undefined && { threads: checkThreads(o.threads) }),
  };
}

// Copies a tensor through the addon (and the device): the smallest test of the whole bridge.
export function roundTrip(t: HostTensor, options: CallOptions = {}): Promise<TensorOut> {
  const checked = tensor(t.data, t.shape);
  return withCallerStack(() => native().roundTrip(checked, callOptions(options)));
}

export function matmul(
  a: HostTensor,
  b: HostTensor,
  options: CallOptions & { repeat?: number } = {}
): Promise<TensorOut> {
  const [ca, cb] = [tensor(a.data, a.shape, 'a'), tensor(b.data, b.shape, 'b')];
  const repeat = options.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw invalid('repeat', 'a positive integer', repeat);
  return withCallerStack(() => native().matmul(ca, cb, { ...callOptions(options), repeat }));
}

// A kernel's input, parameters and upstream gradient, each checked under its own name.
function kernelTensors(x: HostTensor, weight: HostTensor, bias: HostTensor, grad: HostTensor) {
  return [
    tensor(x.data, x.shape, 'x'),
    tensor(weight.data, weight.shape, 'weight'),
    tensor(bias.data, bias.shape, 'bias'),
    tensor(grad.data, grad.shape, 'grad'),
  ] as const;
}

// The tokenizer's fused LayerNorm-over-channels + ReLU (CPU, float32) and its backward for an upstream gradient:
// x (B, C, T), weight and bias (C), grad (B, C, T). For the kernel's golden test against PyTorch.
export function channelNormRelu(
  x: HostTensor,
  weight: HostTensor,
  bias: HostTensor,
  grad: HostTensor,
  options: ThreadOptions = {}
) {
  const t = kernelTensors(x, weight, bias, grad);
  const o = options.threads !== undefined ? { threads: checkThreads(options.threads) } : {};
  return withCallerStack(() => native().channelNormRelu(...t, o));
}

// The tokenizer's convolution (CPU float32: native/kernels/conv1d_cpu.cc where it applies, reported as `kernel`)
// and its backward for an upstream gradient: x (B, Cin, T), weight (Cout, Cin, K), bias (Cout), grad (B, Cout, T').
// For the kernel's golden test against PyTorch; upsample u convolves x repeated u times along time (the decoder's
// Upsample + Conv), inputGrad false leaves x without a gradient (dx undefined), as a network's first layer is.
export function conv1d(
  x: HostTensor,
  weight: HostTensor,
  bias: HostTensor,
  grad: HostTensor,
  options: Conv1dOptions = {}
) {
  const t = kernelTensors(x, weight, bias, grad);
  const o = {
    stride: options.stride ?? 1,
    padding: options.padding ?? 0,
    dilation: options.dilation ?? 1,
    upsample: options.upsample ?? 1,
    inputGrad: options.inputGrad ?? true,
    ...(options.threads !== undefined ? { threads: checkThreads(options.threads) } : {}),
  };
  return withCallerStack(() => native().conv1d(...t, o));
}

// GFLOP/s of fp32 matmul (size³) or the tokenizer's 512→512 k3 conv1d (LibTorch's, or torchmotion's own kernel),
// timed for `seconds` after a warm-up.
export function measureThroughput(
  options: CallOptions & { op?: ThroughputOp; size?: number; seconds?: number } = {}
): Promise<Throughput> {
  const op = options.op ?? 'matmul';
  if (op !== 'matmul' && op !== 'conv1d' && op !== 'conv1d-torchmotion')
    throw invalid('op', "'matmul', 'conv1d' or 'conv1d-torchmotion'", op);
  return withCallerStack(() =>
    native().measureThroughput({
      ...callOptions(options),
      op,
      size: options.size ?? 1024,
      seconds: options.seconds ?? 1,
    })
  );
}
