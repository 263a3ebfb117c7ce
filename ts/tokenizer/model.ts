// The tokenizer as TypeScript sees it: a validated wrapper over the native `Tokenizer` class.
import { TorchmotionError, withCallerStack } from '../errors.js';
import { native } from '../native.js';
import { checkDevice } from '../runtime.js';
import { tensor, type HostTensor, type TensorOut } from '../tensor.js';
import type { TokenizerModelConfig } from './config.js';

export interface StepResult {
  loss: number; reconstruction: number; positions: number; commitment: number;
  gradNorm: number; perplexity: number; codesUsed: number;
}

export interface ParameterRow { name: string; shape: number[]; count: number; trainable: boolean }

interface NativeTokenizer {
  readonly codebookSize: number;
  readonly downsampling: number;
  parameterTable(): ParameterRow[];
  stateDict(): Record<string, TensorOut>;
  step(x: HostTensor, o: object): Promise<StepResult>;
  reconstruct(x: HostTensor, o?: object): Promise<{ reconstruction: TensorOut; codes: TensorOut }>;
  encode(x: HostTensor, o?: object): Promise<TensorOut>;
  decode(codes: HostTensor, o?: object): Promise<TensorOut>;
  save(path: string): Promise<void>;
  load(path: string): Promise<void>;
}

export interface OptimizerSettings { lr: number; beta1: number; beta2: number; weightDecay: number }

export class TokenizerModel {
  private readonly net: NativeTokenizer;

  constructor(readonly config: TokenizerModelConfig, options: { seed?: number; device?: string; optimizer?: OptimizerSettings } = {}) {
    const Ctor = (native() as unknown as { Tokenizer: new (o: object) => NativeTokenizer }).Tokenizer;
    if (config.quantizer === 'fsq' && config.levels.some((l) => l < 2)) throw new TorchmotionError('FSQ levels must all be ≥ 2');
    this.net = new Ctor({ ...config, seed: options.seed ?? 0, device: checkDevice(options.device ?? 'cpu'), ...(options.optimizer ?? {}) });
  }

  get codebookSize(): number { return this.net.codebookSize; }
  get downsampling(): number { return this.net.downsampling; }
  parameterTable(): ParameterRow[] { return this.net.parameterTable(); }
  stateDict(): Record<string, TensorOut> { return this.net.stateDict(); }

  step(motion: HostTensor<Float32Array>, o: { lr: number; clip?: number; velWeight?: number; commitBeta?: number; autocast?: string; threads?: number; profile?: string }): Promise<StepResult> {
    const x = tensor(motion.data, motion.shape, 'motion');
    return withCallerStack(() => this.net.step(x, o));
  }

  reconstruct(motion: HostTensor<Float32Array>, threads?: number) {
    const x = tensor(motion.data, motion.shape, 'motion');
    return withCallerStack(() => this.net.reconstruct(x, threads ? { threads } : {}));
  }

  encode(motion: HostTensor<Float32Array>, threads?: number): Promise<TensorOut> {
    const x = tensor(motion.data, motion.shape, 'motion');
    return withCallerStack(() => this.net.encode(x, threads ? { threads } : {}));
  }

  decode(codes: HostTensor<Int32Array>, threads?: number): Promise<TensorOut> {
    const c = tensor(codes.data, codes.shape, 'codes');
    return withCallerStack(() => this.net.decode(c, threads ? { threads } : {}));
  }

  save(file: string): Promise<void> { return withCallerStack(() => this.net.save(file)); }
  load(file: string): Promise<void> { return withCallerStack(() => this.net.load(file)); }
}
