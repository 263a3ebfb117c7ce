// Loads the compiled addon once and explains a failure in terms of its fix.
import { createRequire } from 'node:module';

import type { HostTensor, TensorOut } from './tensor.js';
import { TorchmotionError } from './errors.js';
import { packageRoot } from './paths.js';

const require = createRequire(import.meta.url);

export interface ThreadOptions { threads?: number }
export interface DeviceOptions extends ThreadOptions { device?: string }

export interface NativeInfo {
  torchVersion: string;
  cuda: { available: boolean; deviceCount: number };
  threads: number;
  blas: string;
  blasThreads: number;
  fusedAttention: boolean;
  packedKernel: 'avx512' | 'avx2' | 'none';  // few-row projections of cached generation
  buildConfig: string;
  parallelInfo: string;
  cpuCache: { installed: boolean; cachedMB: number; liveMB: number; peakLiveMB: number };
}

export interface Throughput { gflops: number; iterations: number; seconds: number }
// conv1d: LibTorch's convolution; conv1d-torchmotion: native/conv1d_cpu.cc's kernel (AVX-512 CPUs).
export type ThroughputOp = 'matmul' | 'conv1d' | 'conv1d-torchmotion';

export interface NativeMlpRegressor {
  readonly parameterCount: number;
  step(x: HostTensor, y: HostTensor, options?: ThreadOptions): Promise<number>;
  predict(x: HostTensor, options?: ThreadOptions): Promise<TensorOut>;
}

// The raw module as C++ exports it; ts/ wraps every entry with validation and caller stacks.
export interface NativeAddon {
  info(): NativeInfo;
  setThreads(threads: number): void;
  roundTrip(tensor: HostTensor, options?: DeviceOptions): Promise<TensorOut>;
  matmul(a: HostTensor, b: HostTensor, options?: DeviceOptions & { repeat?: number }): Promise<TensorOut>;
  measureThroughput(options?: DeviceOptions & { op?: ThroughputOp; size?: number; seconds?: number }): Promise<Throughput>;
  channelNormRelu(x: HostTensor, weight: HostTensor, bias: HostTensor, grad: HostTensor, options?: { threads?: number }):
    Promise<{ y: TensorOut; dx: TensorOut; dweight: TensorOut; dbias: TensorOut }>;
  conv1d(x: HostTensor, weight: HostTensor, bias: HostTensor, grad: HostTensor,
    options?: { stride?: number; padding?: number; dilation?: number; upsample?: number; inputGrad?: boolean; threads?: number }):
    Promise<{ y: TensorOut; dx?: TensorOut; dweight: TensorOut; dbias: TensorOut; kernel: 'torchmotion' | 'libtorch' }>;
  noop(): Promise<void>;
  MlpRegressor: new (options: {
    inputs: number; hidden: number; outputs: number; lr: number; seed: number; device: string;
  }) => NativeMlpRegressor;
}

// Maps the loader's raw error to the cause a user can act on.
export function explainLoadError(err: unknown, root: string): string {
  const raw = err instanceof Error ? err.message : String(err);
  if (/No native build was found/i.test(raw)) {
    return `the torchmotion addon is not built (looked under ${root}/build and ${root}/prebuilds): ` +
      'run `npm run build:native` (or `npm run setup`, which also installs LibTorch on Debian/Ubuntu)';
  }
  const missingLib = raw.match(/(lib(?:torch|c10|gomp|openblas)[\w.-]*|(?:torch|c10)\w*\.dll)[^:]*: cannot open shared object file/i)
    ?? raw.match(/((?:torch|c10)\w*\.dll)/i);
  if (missingLib) {
    return `the addon was built but the LibTorch library ${missingLib[1]} cannot be found at run time: ` +
      'install it (`sudo apt-get install libtorch-dev`), or rebuild against the LibTorch you have with ' +
      '`LIBTORCH=/path/to/libtorch npm run build:native` (the build records its library folder as rpath)';
  }
  if (/undefined symbol|NODE_MODULE_VERSION|different Node\.js version|invalid ELF|wrong ELF class|mach-o/i.test(raw)) {
    return 'the addon binary does not match this Node.js or LibTorch (ABI or version mismatch): rebuild it with ' +
      '`npm run build:native` against the LibTorch you run with';
  }
  return `the torchmotion addon failed to load; rebuild it with \`npm run build:native\``;
}

let cached: NativeAddon | undefined;
let cachedPath = '';

export function loadAddon(root = packageRoot()): { addon: NativeAddon; path: string } {
  const gypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
  let path = '';
  try {
    path = gypBuild.resolve(root);
    return { addon: require(path) as NativeAddon, path };
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    throw new TorchmotionError(`${explainLoadError(err, root)}\n  (loader said: ${raw.split('\n')[0]})`, { cause: err });
  }
}

export function native(): NativeAddon {
  if (!cached) ({ addon: cached, path: cachedPath } = loadAddon());
  return cached;
}

export function addonPath(): string {
  native();
  return cachedPath;
}
