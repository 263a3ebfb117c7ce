// The retrieval evaluator as TypeScript sees it: a thin validated wrapper over the native `Evaluator` class, the
// caption and motion batches it reads (right-padded), and loading a trained one with its caption side and the
// mean/std it normalises motion with (kept in the checkpoint, so the evaluator stays the same whatever the data).
import { join } from 'node:path';

import { TorchmotionError, withCallerStack } from '../errors.js';
import { ModelBase, nativeSettings, threadOptions, type BuildOptions } from '../model-base.js';
import type { MeanStd } from '../motion/normalize.js';
import { DIM } from '../motion/repr272.js';
import {
  native,
  type EvaluatorBatch,
  type EvaluatorMotion,
  type EvaluatorShape,
  type EvaluatorStepOptions,
  type EvaluatorText,
  type NativeEvaluator,
} from '../native.js';
import { readCheckpointState, type CheckpointState } from '../train/checkpoint.js';
import { EmbeddingCache } from '../t2m/embedding-cache.js';
import { Vocabulary } from '../t2m/vocab.js';
import { evaluatorTraining, type EvaluatorConfig } from './config.js';
import type { Embeddings } from './metrics.js';

export interface EvaluatorCheckpointState extends CheckpointState {
  kind: 'evaluator';
  config: EvaluatorConfig;
  native: EvaluatorShape;
  vocab: string[];
  rng: number;
  mean: number[];
  std: number[];
  dataRoot: string;
}

const TRAINING_DEFAULTS = evaluatorTraining.parse({});

export class EvaluatorModel extends ModelBase<NativeEvaluator> {
  constructor(
    readonly shape: EvaluatorShape,
    o: BuildOptions = {}
  ) {
    super(new (native().Evaluator)({ ...shape, ...nativeSettings(TRAINING_DEFAULTS, o) }));
  }

  step(b: EvaluatorBatch, o: Pick<EvaluatorStepOptions, 'lr' | 'seed'> & Partial<EvaluatorStepOptions>) {
    const t = TRAINING_DEFAULTS;
    return withCallerStack(() => this.net.step(b, { clip: t.clip, temperature: t.temperature, ...o }));
  }
  async embedText(b: EvaluatorText, threads?: number): Promise<Embeddings> {
    const out = await withCallerStack(() => this.net.embedText(b, threadOptions(threads)));
    return { data: Float64Array.from(out.data as Float32Array), rows: out.shape[0], dim: out.shape[1] };
  }
  async embedMotion(b: EvaluatorMotion, threads?: number): Promise<Embeddings> {
    const out = await withCallerStack(() => this.net.embedMotion(b, threadOptions(threads)));
    return { data: Float64Array.from(out.data as Float32Array), rows: out.shape[0], dim: out.shape[1] };
  }
}

// Captions → the evaluator's text side: word ids of the built-in encoder, or rows of a caption-embedding cache.
export class CaptionSide {
  constructor(
    private readonly maxSlots: number,
    readonly vocab?: Vocabulary,
    private readonly cache?: EmbeddingCache
  ) {}

  batch(captions: string[]): EvaluatorText {
    const B = captions.length;
    if (this.vocab) {
      const encoded = captions.map((c) => this.vocab!.encode(c, this.maxSlots - 1));
      const L = Math.max(1, ...encoded.map((e) => e.length));
      const ids = new Int32Array(B * L);
      encoded.forEach((e, b) => ids.set(e, b * L));
      return {
        text: { data: ids, shape: [B, L] },
        textLengths: { data: Int32Array.from(encoded, (e) => e.length), shape: [B] },
      };
    }
    const cache = this.cache!;
    const blocks = captions.map((c) => cache.rows(c));
    const lens = blocks.map((r) => Math.max(1, Math.min(this.maxSlots, r.length / cache.dim)));
    const L = Math.max(...lens);
    const data = new Float32Array(B * L * cache.dim);
    blocks.forEach((r, b) => data.set(r.subarray(0, lens[b] * cache.dim), b * L * cache.dim));
    return { text: { data, shape: [B, L, cache.dim] }, textLengths: { data: Int32Array.from(lens), shape: [B] } };
  }

  close(): void {
    this.cache?.close();
  }
}

// Normalised (T, 272) clips → a right-padded motion batch; clips longer than `maxFrames` keep their first frames.
export function motionBatch(clips: Float32Array[], maxFrames: number): EvaluatorMotion {
  const lens = clips.map((c) => Math.min(maxFrames, c.length / DIM));
  if (lens.some((n) => n < 1)) throw new TorchmotionError('a motion with no frames cannot be embedded');
  const T = Math.max(...lens);
  const data = new Float32Array(clips.length * T * DIM);
  clips.forEach((c, b) => data.set(c.subarray(0, lens[b] * DIM), b * T * DIM));
  return {
    motion: { data, shape: [clips.length, T, DIM] },
    motionLengths: { data: Int32Array.from(lens), shape: [clips.length] },
  };
}

// Denormalised 272 values → the evaluator's normalised float32 input.
export function normalizeFor(stats: MeanStd, motion: Float64Array | Float32Array): Float32Array {
  const out = new Float32Array(motion.length);
  for (let i = 0; i < motion.length; i++) out[i] = (motion[i] - stats.mean[i % DIM]) / stats.std[i % DIM];
  return out;
}

export interface LoadedEvaluator {
  model: EvaluatorModel;
  state: EvaluatorCheckpointState;
  text: CaptionSide;
  stats: MeanStd;
  dir: string;
}

export async function loadEvaluator(dir: string, device = 'cpu'): Promise<LoadedEvaluator> {
  const state = readCheckpointState<EvaluatorCheckpointState>(dir);
  if (state.kind !== 'evaluator')
    throw new TorchmotionError(`${dir} is a ${String(state.kind)} checkpoint, not a retrieval evaluator`);
  const model = new EvaluatorModel(state.native, { device });
  await model.load(join(dir, 'model.pt'));
  const m = state.config.model;
  let cache: EmbeddingCache | undefined;
  if (m.text === 'embeddings') {
    if (!state.config.data.embeddings)
      throw new TorchmotionError(
        `${dir}: the evaluator reads caption embeddings but its config names no data.embeddings cache`
      );
    cache = new EmbeddingCache(state.config.data.embeddings);
  }
  const text = new CaptionSide(
    state.native.maxWords,
    m.text === 'builtin' ? new Vocabulary(state.vocab) : undefined,
    cache
  );
  return { model, state, text, stats: { mean: Float64Array.from(state.mean), std: Float64Array.from(state.std) }, dir };
}
