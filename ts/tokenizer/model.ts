// The tokenizer as TypeScript sees it: a validated wrapper over the native `Tokenizer` class, and loading a trained
// one from a checkpoint for evaluation, encoding or generation.
import { join } from 'node:path';

import type { LoaderState } from '../data/loader.js';
import type { DistributedGroup } from '../distributed/group.js';
import { TorchmotionError, withCallerStack } from '../errors.js';
import { native, type AdamWOptions, type NativeTokenizer, type ParameterRow, type TokenizerStepOptions, type TokenizerStepResult } from '../native.js';
import { checkDevice } from '../runtime.js';
import { tensor, type HostTensor, type TensorOut } from '../tensor.js';
import { readCheckpointState, type CheckpointState, verifyModelFile } from '../train/checkpoint.js';
import { tokenizerTraining, type TokenizerConfig, type TokenizerModelConfig } from './config.js';

export type StepResult = TokenizerStepResult;
export type { ParameterRow };
export type OptimizerSettings = AdamWOptions;

// What a tokenizer checkpoint's state.json holds besides model.pt.
export interface TokenizerCheckpointState extends CheckpointState {
  kind: 'tokenizer';
  model: TokenizerModelConfig;
  config: TokenizerConfig;
  loader: LoaderState;
  dataRoot: string;
}

// The training schema's defaults, parsed once (steps read them on every call).
const TRAINING_DEFAULTS = tokenizerTraining.parse({});

// The optimiser settings of a training config (the schema's defaults where a config is not given).
export function optimizerSettings(t = TRAINING_DEFAULTS): OptimizerSettings {
  return { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay, eps: t.eps };
}

export class TokenizerModel {
  private readonly net: NativeTokenizer;

  // Seed, device and optimiser settings left out take the training schema's defaults (inference, parameter tables).
  constructor(readonly config: TokenizerModelConfig, options: { seed?: number; device?: string; optimizer?: Partial<OptimizerSettings> } = {}) {
    if (config.quantizer === 'fsq' && config.levels.some((l) => l < 2)) throw new TorchmotionError('FSQ levels must all be ≥ 2');
    const defaults = TRAINING_DEFAULTS;
    this.net = new (native().Tokenizer)({ ...config, seed: options.seed ?? defaults.seed, device: checkDevice(options.device ?? defaults.device),
      ...optimizerSettings(defaults), ...options.optimizer });
  }

  get codebookSize(): number { return this.net.codebookSize; }
  get downsampling(): number { return this.net.downsampling; }
  parameterTable(): ParameterRow[] { return this.net.parameterTable(); }
  stateDict(): Record<string, TensorOut> { return this.net.stateDict(); }
  loadStateDict(tensors: Record<string, HostTensor>, o: { partial?: boolean } = {}): void { this.net.loadStateDict(tensors, o); }
  // Data parallel from now on: weights from rank 0 (checked by checksum), gradients averaged over the ranks each update.
  joinProcessGroup(group: DistributedGroup): void { this.net.joinProcessGroup(group.native); }

  // Loss weights, clipping and autocast left out take the training schema's defaults.
  step(motion: HostTensor<Float32Array>, o: Pick<TokenizerStepOptions, 'lr'> & Partial<TokenizerStepOptions>): Promise<StepResult> {
    const x = tensor(motion.data, motion.shape, 'motion');
    const t = TRAINING_DEFAULTS;
    return withCallerStack(() => this.net.step(x, { clip: t.clip, velWeight: t.velWeight, commitBeta: t.commitBeta, autocast: t.autocast,
      lossScale: 1, update: true, ...o }));
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
  // The archive is checked first (verifyModelFile): LibTorch's reader can crash the process on a damaged file.
  async load(file: string): Promise<void> {
    await verifyModelFile(file);
    return withCallerStack(() => this.net.load(file));
  }
}

// A tokenizer from a checkpoint folder, ready for evaluation or encoding.
export async function loadTokenizer(dir: string, device = 'cpu'): Promise<{ model: TokenizerModel; state: TokenizerCheckpointState }> {
  const state = readCheckpointState<TokenizerCheckpointState>(dir);
  if (state.kind !== 'tokenizer') throw new TorchmotionError(`${dir} is a ${String(state.kind)} checkpoint, not a tokenizer`);
  const model = new TokenizerModel(state.model, { device });
  await model.load(join(dir, 'model.pt'));
  return { model, state };
}
