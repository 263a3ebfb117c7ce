// The tokenizer as TypeScript sees it: a validated wrapper over the native `Tokenizer` class, and loading a trained
// one from a checkpoint for evaluation, encoding or generation.
import { join } from 'node:path';

import type { LoaderState } from '../data/loader.js';
import { TorchmotionError, withCallerStack } from '../errors.js';
import { ModelBase, nativeSettings, threadOptions, type BuildOptions } from '../model-base.js';
import {
  native,
  type NativeTokenizer,
  type ParameterRow,
  type TokenizerStepOptions,
  type TokenizerStepResult,
} from '../native.js';
import { tensor, type HostTensor, type TensorOut } from '../tensor.js';
import { readCheckpointState, type CheckpointState } from '../train/checkpoint.js';
import { tokenizerTraining, type TokenizerConfig, type TokenizerModelConfig } from './config.js';

export type StepResult = TokenizerStepResult;
export type { ParameterRow };

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

export class TokenizerModel extends ModelBase<NativeTokenizer> {
  // Seed, device and optimiser settings left out take the training schema's defaults (inference, parameter tables).
  constructor(
    readonly config: TokenizerModelConfig,
    options: BuildOptions = {}
  ) {
    if (config.quantizer === 'fsq' && config.levels.some((l) => l < 2))
      throw new TorchmotionError('FSQ levels must all be ≥ 2');
    super(new (native().Tokenizer)({ ...config, ...nativeSettings(TRAINING_DEFAULTS, options) }));
  }

  get codebookSize(): number {
    return this.net.codebookSize;
  }
  get downsampling(): number {
    return this.net.downsampling;
  }

  // Loss weights, clipping and autocast left out take the training schema's defaults.
  step(
    motion: HostTensor<Float32Array>,
    o: Pick<TokenizerStepOptions, 'lr'> & Partial<TokenizerStepOptions>
  ): Promise<StepResult> {
    const x = tensor(motion.data, motion.shape, 'motion');
    const t = TRAINING_DEFAULTS;
    return withCallerStack(() =>
      this.net.step(x, {
        clip: t.clip,
        velWeight: t.velWeight,
        commitBeta: t.commitBeta,
        autocast: t.autocast,
        lossScale: 1,
        update: true,
        ...o,
      })
    );
  }

  reconstruct(motion: HostTensor<Float32Array>, threads?: number) {
    const x = tensor(motion.data, motion.shape, 'motion');
    return withCallerStack(() => this.net.reconstruct(x, threadOptions(threads)));
  }

  encode(motion: HostTensor<Float32Array>, threads?: number): Promise<TensorOut> {
    const x = tensor(motion.data, motion.shape, 'motion');
    return withCallerStack(() => this.net.encode(x, threadOptions(threads)));
  }

  // (B, T') codes, or (B, T', layers) for RVQ.
  decode(codes: HostTensor<Int32Array>, threads?: number): Promise<TensorOut> {
    const c = tensor(codes.data, codes.shape, 'codes');
    return withCallerStack(() => this.net.decode(c, threadOptions(threads)));
  }
}

// A tokenizer from a checkpoint folder, ready for evaluation or encoding.
export async function loadTokenizer(
  dir: string,
  device = 'cpu'
): Promise<{ model: TokenizerModel; state: TokenizerCheckpointState }> {
  const state = readCheckpointState<TokenizerCheckpointState>(dir);
  if (state.kind !== 'tokenizer')
    throw new TorchmotionError(`${dir} is a ${String(state.kind)} checkpoint, not a tokenizer`);
  const model = new TokenizerModel(state.model, { device });
  await model.load(join(dir, 'model.pt'));
  return { model, state };
}
