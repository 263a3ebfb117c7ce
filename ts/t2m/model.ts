// The text-to-motion decoder as TypeScript sees it: a thin validated wrapper over the native `T2M` class,
// and loading a trained one from a checkpoint for generation.
import { join } from 'node:path';

import { TorchmotionError, withCallerStack } from '../errors.js';
import { ModelBase, nativeSettings, threadOptions, type BuildOptions } from '../model-base.js';
import { native, type NativeT2M, type T2MBatch, type T2MStepOptions, type T2MStepResult } from '../native.js';
import { readCheckpointState, type CheckpointState } from '../train/checkpoint.js';
import {
  generationSettings,
  requestedShape,
  t2mModel,
  t2mTraining,
  type GenerationSettings,
  type NativeT2MOptions,
  type T2MConfig,
  type T2MShapeRequest,
} from './config.js';
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
  tokenizer: string; // the tokenizer checkpoint the codes came from
  dataRoot: string;
}

// The training schema's defaults, parsed once (steps read them on every micro-batch).
const TRAINING_DEFAULTS = t2mTraining.parse({});

// A checkpoint's model shape with what earlier versions did not record filled from the schema's defaults
// (ropeBase, constant before it became a setting), so their runs still load and resume.
export function checkpointShape(state: {
  native: Omit<NativeT2MOptions, 'ropeBase'> & { ropeBase?: number };
}): NativeT2MOptions {
  return { ...state.native, ropeBase: state.native.ropeBase ?? t2mModel.parse({}).ropeBase };
}

export class T2MModel extends ModelBase<NativeT2M> {
  readonly options: NativeT2MOptions;

  // A native shape (a checkpoint's), or a config-level request ({ preset: '44M' }) whose omissions come from
  // t2mShapeRequest; seed, device and optimiser settings left out take the training schema's defaults.
  constructor(shape: NativeT2MOptions | T2MShapeRequest = {}, o: BuildOptions = {}) {
    const options = 'vocab' in shape ? shape : requestedShape(shape);
    super(
      new (native().T2M)({ ...options, dtype: options.dtype ?? 'float32', ...nativeSettings(TRAINING_DEFAULTS, o) })
    );
    this.options = options;
  }

  get end(): number {
    return this.options.vocab - 2;
  }
  get pad(): number {
    return this.options.vocab - 1;
  }
  // Clipping, autocast and recompute left out take the training schema's defaults; a step updates unless told not to.
  step(b: T2MBatch, o: Pick<T2MStepOptions, 'lr'> & Partial<T2MStepOptions>) {
    const t = TRAINING_DEFAULTS;
    return withCallerStack(() =>
      this.net.step(b, { clip: t.clip, autocast: t.autocast, recompute: t.recompute, update: true, lossScale: 1, ...o })
    );
  }
  // The training loss on a held-out batch (no gradients, no update); autocast left out takes the schema's default.
  evaluate(b: T2MBatch, o: { autocast?: 'none' | 'bf16'; threads?: number } = {}) {
    return withCallerStack(() => this.net.evaluate(b, { autocast: TRAINING_DEFAULTS.autocast, ...o }));
  }
  logits(b: T2MBatch, threads?: number) {
    return withCallerStack(() => this.net.logits(b, threadOptions(threads)));
  }
  // Sampling settings left out take generationSettings' defaults.
  generate(b: T2MBatch, o: GenerateOptions) {
    const { threads, ...given } = o;
    const settings = generationSettings.parse(
      Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))
    );
    return withCallerStack(() => this.net.generate(b, { ...settings, ...(threads && { threads }) }));
  }
}

// A text-to-motion model from a checkpoint folder, with its caption vocabulary.
export async function loadT2M(dir: string, device = 'cpu') {
  const state = readCheckpointState<T2MCheckpointState>(dir);
  if (state.kind !== 't2m')
    throw new TorchmotionError(`${dir} is a ${String(state.kind)} checkpoint, not a text-to-motion model`);
  const model = new T2MModel(checkpointShape(state), { device });
  await model.load(join(dir, 'model.pt'));
  return { model, state, vocab: new Vocabulary(state.vocab) };
}
