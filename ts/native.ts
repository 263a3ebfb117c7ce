// Loads the compiled addon once and explains a failure in terms of its fix.
import { createRequire } from 'node:module';

import type { HostTensor, TensorOut } from './tensor.js';
import type { Quantizer } from './tokenizer/config.js';
import { TorchmotionError } from './errors.js';
import { packageRoot } from './paths.js';

const require = createRequire(import.meta.url);

export interface ThreadOptions {
  threads?: number;
}
export interface DeviceOptions extends ThreadOptions {
  device?: string;
}
// The tokenizer convolution's settings (ts/runtime.ts's conv1d documents them and fills the defaults).
export interface Conv1dOptions extends ThreadOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  upsample?: number;
  inputGrad?: boolean;
}

export interface NativeInfo {
  torchVersion: string;
  cuda: { available: boolean; deviceCount: number };
  threads: number;
  blas: string;
  blasThreads: number;
  fusedAttention: boolean;
  packedKernel: 'avx512' | 'avx2' | 'none'; // few-row projections of cached generation
  convKernel: 'avx512' | 'avx2' | 'none'; // the tokenizer's CPU convolutions (none: LibTorch's)
  buildConfig: string;
  parallelInfo: string;
  cpuCache: { installed: boolean; cachedMB: number; liveMB: number; peakLiveMB: number; markMB: number };
}

export interface Throughput {
  gflops: number;
  iterations: number;
  seconds: number;
}
// conv1d: LibTorch's convolution; conv1d-torchmotion: torchmotion's kernels (native/kernels/conv1d_kernels.inc; AVX-512
// or AVX2 CPUs).
export type ThroughputOp = 'matmul' | 'conv1d' | 'conv1d-torchmotion';

export interface ParameterRow {
  name: string;
  shape: number[];
  count: number;
  trainable: boolean;
}

// What every native model class has (native/binding/model_binding.h); each model's interface adds its own calls.
export interface NativeModel {
  parameterTable(): ParameterRow[];
  stateDict(): Record<string, TensorOut>;
  // Every parameter and buffer at once (all or nothing: each name, the model's shapes, finite values).
  loadStateDict(tensors: Record<string, HostTensor>, o?: { partial?: boolean }): void;
  joinProcessGroup(group: NativeProcessGroup): void; // weights from rank 0, gradients all-reduced from now on
  save(path: string): Promise<void>; // the weights with the optimiser's state
  load(path: string): Promise<void>;
}

// --- the motion tokenizer (native/models/tokenizer/binding.cc) -------------------------------------------------------
// Every architecture and optimiser option is required: their defaults live in ts/tokenizer/config.ts only.
export interface TokenizerArchitecture {
  inputDim: number;
  width: number;
  downT: number;
  strideT: number;
  depth: number;
  dilationGrowth: number;
  norm: 'LN' | 'none';
  activation: 'relu' | 'gelu' | 'silu';
  quantizer: Quantizer;
  levels: number[];
  codes: number;
  mu: number;
  layers: number;
  quantizerDropout: number; // read for quantizer 'rvq' only
}
export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  eps: number;
}
export interface TokenizerOptions extends TokenizerArchitecture, AdamWOptions {
  seed: number;
  device: string;
}
export interface TokenizerStepOptions extends ThreadOptions {
  lr: number;
  clip: number;
  velWeight: number;
  commitBeta: number;
  autocast: 'none' | 'bf16';
  lossScale: number; // multiplies the loss: a micro-batch's share of an accumulated step
  update: boolean; // false: this micro-batch only accumulates gradients
  profile?: string; // a file for LibTorch's Chrome trace of the step
  inspectGradients?: boolean; // return the flat gradients the gradient hook saw (tests of the seam)
}
export interface TokenizerStepResult {
  loss: number;
  reconstruction: number;
  positions: number;
  commitment: number;
  gradNorm: number;
  perplexity: number;
  codesUsed: number; // perplexity and codes used: RVQ's layer 0
  layersUsed?: number; // RVQ: the layers quantizer dropout left this batch
  gradients?: TensorOut[]; // with inspectGradients: one flat buffer per dtype, parameters in table order
  nonFinite?: NonFinite; // set when the step applied no update (the weights are as before it)
}
// What made a training step apply no update: a non-finite batch, loss or gradient norm.
export type NonFinite = 'input' | 'loss' | 'gradients';
export interface NativeTokenizer extends NativeModel {
  readonly codebookSize: number;
  readonly downsampling: number;
  step(motion: HostTensor, options: TokenizerStepOptions): Promise<TokenizerStepResult>;
  // codes are (B, T') int32, (B, T', layers) for RVQ
  reconstruct(motion: HostTensor, options?: ThreadOptions): Promise<{ reconstruction: TensorOut; codes: TensorOut }>;
  encode(motion: HostTensor, options?: ThreadOptions): Promise<TensorOut>;
  decode(codes: HostTensor, options?: ThreadOptions): Promise<TensorOut>;
}

// --- the text-to-motion decoder (native/models/t2m/binding.cc) -------------------------------------------------------
// The decoder's shape, as ts/t2m/config.ts's nativeOptions computes it from a config.
export interface T2MShape {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  hidden: number;
  textDim: number;
  maxLen: number;
  ropeBase: number;
  textVocab: number;
  textLayers: number;
  textHeads: number;
  textMaxLen: number;
  dtype?: 'float32' | 'bfloat16'; // bfloat16: weights kept in bf16, a model that only generates (default float32)
}
export interface T2MOptions extends T2MShape, AdamWOptions {
  seed: number;
  device: string;
  dtype: 'float32' | 'bfloat16';
}
// text: (B, Lt) int32 word ids (built-in encoder) or (B, Lt, textDim) float32 embeddings, left-padded; codes (B, Lc).
export interface T2MBatch {
  text: HostTensor;
  textLengths: HostTensor<Int32Array>;
  codes?: HostTensor<Int32Array>;
}
export interface T2MStepOptions extends ThreadOptions {
  lr: number;
  clip: number;
  update: boolean;
  lossScale: number;
  autocast: 'none' | 'bf16';
  recompute: boolean;
  inspectGradients?: boolean;
}
export interface T2MEvalResult {
  loss: number;
  accuracy: number;
  tokens: number;
}
export interface T2MStepResult {
  loss: number;
  accuracy: number;
  tokens: number;
  gradNorm: number;
  gradients?: TensorOut[];
  nonFinite?: NonFinite; // this micro-batch was not finite, or (on an update) why no update was applied
}
export interface T2MGenerateOptions extends ThreadOptions {
  maxTokens: number;
  minTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  cfgScale: number;
  seed: number;
  cache: boolean;
}
export interface NativeT2M extends NativeModel {
  step(batch: T2MBatch, options: T2MStepOptions): Promise<T2MStepResult>;
  evaluate(batch: T2MBatch, options: ThreadOptions & { autocast: 'none' | 'bf16' }): Promise<T2MEvalResult>;
  logits(batch: T2MBatch, options?: ThreadOptions): Promise<TensorOut>;
  generate(batch: T2MBatch, options: T2MGenerateOptions): Promise<{ tokens: TensorOut; lengths: TensorOut }>;
}

// --- the text–motion retrieval evaluator (native/models/evaluator/binding.cc) ----------------------------------------
// Its shape, as ts/evaluator/config.ts's evaluatorShape computes it from a config.
export interface EvaluatorShape {
  motionDim: number;
  maxFrames: number;
  textVocab: number;
  textDim: number;
  maxWords: number;
  latent: number;
  motionLayers: number;
  textLayers: number;
  heads: number;
  ff: number;
  dropout: number;
}
export interface EvaluatorOptions extends EvaluatorShape, AdamWOptions {
  seed: number;
  device: string;
}
// text: (B, Lt) int32 word ids (built-in) or (B, Lt, textDim) float32 embeddings; motion (B, T, 272) normalised;
// both right-padded to their lengths.
export interface EvaluatorText {
  text: HostTensor;
  textLengths: HostTensor<Int32Array>;
}
export interface EvaluatorMotion {
  motion: HostTensor<Float32Array>;
  motionLengths: HostTensor<Int32Array>;
}
export interface EvaluatorBatch extends EvaluatorText, EvaluatorMotion {
  exclude: HostTensor<Uint8Array>;
}
export interface EvaluatorStepOptions extends ThreadOptions {
  lr: number;
  clip: number;
  temperature: number;
  seed: number;
  inspectGradients?: boolean;
}
export interface EvaluatorStepResult {
  loss: number;
  accuracy: number;
  gradNorm: number;
  nonFinite?: NonFinite;
  gradients?: TensorOut[];
}
export interface NativeEvaluator extends NativeModel {
  step(batch: EvaluatorBatch, options: EvaluatorStepOptions): Promise<EvaluatorStepResult>;
  embedText(batch: EvaluatorText, options?: ThreadOptions): Promise<TensorOut>;
  embedMotion(batch: EvaluatorMotion, options?: ThreadOptions): Promise<TensorOut>;
}

// --- a TorchScript caption encoder (native/models/t2m/text_script.cc) ------------------------------------------------
export interface NativeTextScript {
  load(path: string): Promise<void>;
  encode(
    batch: { ids: HostTensor<Int32Array>; mask: HostTensor<Uint8Array> },
    options?: ThreadOptions
  ): Promise<TensorOut>;
}

// --- the Phase-Functioned Neural Network (native/models/pfnn/binding.cc) ---------------------------------------------
export interface PfnnShape {
  input: number;
  output: number;
  hidden: number;
  keep: number;
}
export interface PfnnBatch {
  x: HostTensor<Float32Array>;
  phase: HostTensor<Float32Array>;
  y: HostTensor<Float32Array>;
}
export interface PfnnStepResult {
  loss: number;
  mse: number;
  penalty: number;
  gradNorm: number;
  nonFinite?: NonFinite;
}
export interface NativePfnn extends NativeModel {
  // Normalised inputs and targets; dropout seeded by `seed` (one per step), Adam at `lr`, loss MSE + gamma · mean |W|.
  step(batch: PfnnBatch, options: ThreadOptions & { lr: number; gamma: number; seed: number }): Promise<PfnnStepResult>;
  evaluate(batch: PfnnBatch, options?: ThreadOptions): Promise<{ mse: number }>;
  forward(batch: Omit<PfnnBatch, 'y'>, options?: ThreadOptions): Promise<TensorOut>; // (B, output), no dropout
}

// The raw module as C++ exports it; ts/ wraps every entry with validation and caller stacks.
// A c10d process group (Gloo over TCP): the constructor blocks until every rank has joined.
// bucketBytes: gradients are averaged in buckets of about this size as backward fills them (0: after backward).
// backend: 'gloo' for CPU tensors, 'nccl' for CUDA ones on GPU cudaDevice.
export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  timeoutMs: number;
  bucketBytes: number;
  backend: 'gloo' | 'nccl';
  cudaDevice: number;
}
export interface NativeProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  // The gradient all-reduces so far: their number, how many started during backward, their payload and the time
  // this rank waited for them after backward.
  readonly stats: { waitMs: number; allReduces: number; early: number; megabytes: number };
  allGather(values: number[]): number[][]; // integers up to 2^53, every rank's, rank by rank
  allReduceMean(values: number[]): number[];
  barrier(): void;
}

export interface NativeAddon {
  info(): NativeInfo;
  setThreads(threads: number): void;
  resetMemoryMark(): void; // info().cpuCache.markMB starts again from the tensor memory in use
  roundTrip(tensor: HostTensor, options?: DeviceOptions): Promise<TensorOut>;
  matmul(a: HostTensor, b: HostTensor, options?: DeviceOptions & { repeat?: number }): Promise<TensorOut>;
  measureThroughput(
    options?: DeviceOptions & { op?: ThroughputOp; size?: number; seconds?: number }
  ): Promise<Throughput>;
  channelNormRelu(
    x: HostTensor,
    weight: HostTensor,
    bias: HostTensor,
    grad: HostTensor,
    options?: ThreadOptions
  ): Promise<{ y: TensorOut; dx: TensorOut; dweight: TensorOut; dbias: TensorOut }>;
  conv1d(
    x: HostTensor,
    weight: HostTensor,
    bias: HostTensor,
    grad: HostTensor,
    options?: Conv1dOptions
  ): Promise<{
    y: TensorOut;
    dx?: TensorOut;
    dweight: TensorOut;
    dbias: TensorOut;
    kernel: 'torchmotion' | 'libtorch';
  }>;
  noop(): Promise<void>;
  fid(a: HostTensor<Float64Array>, b: HostTensor<Float64Array>, options?: ThreadOptions): Promise<number>;
  Tokenizer: new (options: TokenizerOptions) => NativeTokenizer;
  T2M: new (options: T2MOptions) => NativeT2M;
  TextScript: new (options: { device: string }) => NativeTextScript;
  Evaluator: new (options: EvaluatorOptions) => NativeEvaluator;
  Pfnn: new (options: PfnnShape & AdamWOptions & { seed: number; device?: string }) => NativePfnn;
  ProcessGroup: {
    new (options: ProcessGroupOptions): NativeProcessGroup;
    readonly available: boolean;
    readonly nccl: boolean;
  };
}

// Every name native/addon.cc registers; test/gradient-seam.test.ts checks that the addon exports exactly these.
export const ADDON_EXPORTS: ReadonlyArray<keyof NativeAddon> = [
  'info',
  'setThreads',
  'resetMemoryMark',
  'roundTrip',
  'matmul',
  'measureThroughput',
  'channelNormRelu',
  'conv1d',
  'noop',
  'fid',
  'Tokenizer',
  'T2M',
  'TextScript',
  'Evaluator',
  'ProcessGroup',
  'Pfnn',
];

// Maps the loader's raw error to the cause a user can act on.
export function explainLoadError(err: unknown, root: string): string {
  const raw = err instanceof Error ? err.message : String(err);
  if (/No native build was found/i.test(raw)) {
    return (
      `the torchmotion addon is not built (looked under ${root}/build and ${root}/prebuilds): ` +
      'run `npm run build:native` (or `npm run setup`, which also installs LibTorch on Debian/Ubuntu)'
    );
  }
  const missingLib =
    raw.match(/(lib(?:torch|c10|gomp|openblas)[\w.-]*|(?:torch|c10)\w*\.dll)[^:]*: cannot open shared object file/i) ??
    raw.match(/((?:torch|c10)\w*\.dll)/i);
  if (missingLib) {
    return (
      `the addon was built but the LibTorch library ${missingLib[1]} cannot be found at run time: ` +
      'install it (`sudo apt-get install libtorch-dev`), or rebuild against the LibTorch you have with ' +
      '`LIBTORCH=/path/to/libtorch npm run build:native` (the build records its library folder as rpath)'
    );
  }
  if (/undefined symbol|NODE_MODULE_VERSION|different Node\.js version|invalid ELF|wrong ELF class|mach-o/i.test(raw)) {
    return (
      'the addon binary does not match this Node.js or LibTorch (ABI or version mismatch): rebuild it with ' +
      '`npm run build:native` against the LibTorch you run with'
    );
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
    throw new TorchmotionError(`${explainLoadError(err, root)}\n  (loader said: ${raw.split('\n')[0]})`, {
      cause: err,
    });
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
