// The text-to-motion decoder as TypeScript sees it: a thin validated wrapper over the native `TextToMotion` class,
// and loading a trained one from a checkpoint for generation.
import { join } from 'node:path';

import type { HostTensor } from '../tensor.js';
import type { DistributedGroup } from '../distributed/group.js';
import { TorchmotionError, withCallerStack } from '../errors.js';
import { native, type AdamWOptions, type NativeTextToMotion, type T2MBatch, type T2MStepOptions, type T2MStepResult } from '../native.js';
import { checkDevice } from '../runtime.js';
import { readCheckpointState, type CheckpointState, verifyModelFile } from '../train/checkpoint.js';
import { generationSettings, t2mModel, t2mTraining, type GenerationSettings, type NativeT2MOptions, type T2MConfig } from './config.js';
import { Vocabulary } from './vocab.js';

export type { T2MBatch };
export type T2MStep = T2MStepResult;
export type GenerateOptions = Partial<GenerationSettings> & { threads?: number };

// What a text-to-motion checkpoint's state.json holds besides model.pt.
export interface T2MCheckpointState extends CheckpointState {
  kind: 't2m';
  config: T2MConfig;
  native: NativeT2MOptions;
  vocab: string[];
  rng: number;
  tokenizer: string;   // the tokenizer checkpoint the codes came from
  dataRoot: string;
}

// The training schema's defaults, parsed once (steps read them on every micro-batch).
const TRAINING_DEFAULTS = t2mTraining.parse({});

// The optimiser settings of a training config (the schema's defaults where a config is not given).
export function optimizerSettings(t = TRAINING_DEFAULTS): AdamWOptions {
  return { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay, eps: t.eps };
}

// A checkpoint's model shape with what earlier versions did not record filled from the schema's defaults
// (ropeBase, constant before it became a setting), so their runs still load and resume.
export function checkpointShape(state: { native: Omit<NativeT2MOptions, 'ropeBase'> & { ropeBase?: number } }): NativeT2MOptions {
  return { ...state.native, ropeBase: state.native.ropeBase ?? t2mModel.parse({}).ropeBase };
}

export class T2MModel {
  private readonly net: NativeTextToMotion;

  // Seed, device and optimiser settings left out take the training schema's defaults (inference).
  constructor(readonly options: NativeT2MOptions, o: { seed?: number; device?: string; optimizer?: Partial<AdamWOptions> } = {}) {
    const defaults = TRAINING_DEFAULTS;
    this.net = new (native().TextToMotion)({ ...options, dtype: options.dtype ?? 'float32', ...optimizerSettings(defaults), ...o.optimizer,
      seed: o.seed ?? defaults.seed, device: checkDevice(o.device ?? defaults.device) });
  }

  get end(): number { return this.options.vocab - 2; }
  get pad(): number { return this.options.vocab - 1; }
  parameterTable() { return this.net.parameterTable(); }
  stateDict() { return this.net.stateDict(); }
  loadStateDict(tensors: Record<string, HostTensor>, o: { partial?: boolean } = {}): void { this.net.loadStateDict(tensors, o); }
  // Data parallel from now on: weights from rank 0 (checked by checksum), gradients averaged over the ranks each update.
  joinProcessGroup(group: DistributedGroup): void { this.net.joinProcessGroup(group.native); }
  // Clipping, autocast and recompute left out take the training schema's defaults; a step updates unless told not to.
  step(b: T2MBatch, o: Pick<T2MStepOptions, 'lr'> & Partial<T2MStepOptions>) {
    const t = TRAINING_DEFAULTS;
    return withCallerStack(() => this.net.step(b, { clip: t.clip, autocast: t.autocast, recompute: t.recompute, update: true, lossScale: 1, ...o }));
  }
  // The training loss on a held-out batch (no gradients, no update); autocast left out takes the schema's default.
  evaluate(b: T2MBatch, o: { autocast?: 'none' | 'bf16'; threads?: number } = {}) {
    return withCallerStack(() => this.net.evaluate(b, { autocast: TRAINING_DEFAULTS.autocast, ...o }));
  }
  logits(b: T2MBatch, threads?: number) { return withCallerStack(() => this.net.logits(b, threads ? { threads } : {})); }
  // Sampling settings left out take generationSettings' defaults.
  generate(b: T2MBatch, o: GenerateOptions) {
    const { threads, ...given } = o;
    const settings = generationSettings.parse(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)));
    return withCallerStack(() => this.net.generate(b, { ...settings, ...(threads && { threads }) }));
  }
  save(file: string) { return withCallerStack(() => this.net.save(file)); }
  // The archive is checked first (verifyModelFile): LibTorch's reader can crash the process on a damaged file.
  async load(file: string): Promise<void> {
    await verifyModelFile(file);
    return withCallerStack(() => this.net.load(file));
  }
}

// A text-to-motion model from a checkpoint folder, with its caption vocabulary.
export async function loadTextToMotion(dir: string, device = 'cpu') {
  const state = readCheckpointState<T2MCheckpointState>(dir);
  if (state.kind !== 't2m') throw new TorchmotionError(`${dir} is a ${String(state.kind)} checkpoint, not a text-to-motion model`);
  const model = new T2MModel(checkpointShape(state), { device });
  await model.load(join(dir, 'model.pt'));
  return { model, state, vocab: new Vocabulary(state.vocab) };
}
