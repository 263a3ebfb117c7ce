// The text-to-motion decoder as TypeScript sees it: a thin validated wrapper over the native `TextToMotion` class.
import { withCallerStack } from '../errors.js';
import { native } from '../native.js';
import { checkDevice } from '../runtime.js';
import type { HostTensor, TensorOut } from '../tensor.js';
import type { NativeT2MOptions } from './config.js';

export interface T2MBatch { text: HostTensor; textLengths: HostTensor<Int32Array>; codes?: HostTensor<Int32Array> }
export interface T2MStep { loss: number; accuracy: number; tokens: number; gradNorm: number }
export interface GenerateOptions { maxTokens?: number; minTokens?: number; temperature?: number; topK?: number; topP?: number; cfgScale?: number; seed?: number; cache?: boolean; threads?: number }

interface NativeT2M {
  parameterTable(): Array<{ name: string; shape: number[]; count: number; trainable: boolean }>;
  stateDict(): Record<string, TensorOut>;
  step(b: T2MBatch, o: object): Promise<T2MStep>;
  logits(b: T2MBatch, o?: object): Promise<TensorOut>;
  generate(b: T2MBatch, o: object): Promise<{ tokens: TensorOut; lengths: TensorOut }>;
  save(path: string): Promise<void>;
  load(path: string): Promise<void>;
}

export class T2MModel {
  private readonly net: NativeT2M;

  constructor(readonly options: NativeT2MOptions, o: { seed?: number; device?: string; lr?: number; beta1?: number; beta2?: number; weightDecay?: number } = {}) {
    const Ctor = (native() as unknown as { TextToMotion: new (x: object) => NativeT2M }).TextToMotion;
    this.net = new Ctor({ ...options, ...o, device: checkDevice(o.device ?? 'cpu') });
  }

  get end(): number { return this.options.vocab - 2; }
  get pad(): number { return this.options.vocab - 1; }
  parameterTable() { return this.net.parameterTable(); }
  stateDict() { return this.net.stateDict(); }
  step(b: T2MBatch, o: { lr: number; clip?: number; update?: boolean; lossScale?: number; autocast?: string; recompute?: boolean; threads?: number }) {
    return withCallerStack(() => this.net.step(b, o));
  }
  logits(b: T2MBatch, threads?: number) { return withCallerStack(() => this.net.logits(b, threads ? { threads } : {})); }
  generate(b: T2MBatch, o: GenerateOptions) { return withCallerStack(() => this.net.generate(b, o)); }
  save(file: string) { return withCallerStack(() => this.net.save(file)); }
  load(file: string) { return withCallerStack(() => this.net.load(file)); }
}
