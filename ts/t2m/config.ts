// Text-to-motion decoder configs: `tiny` and `small` for CPU, and the reference sizes 44M … 7B (layers / heads /
// width / SwiGLU hidden as MotionMillion), plus training settings.
import { z } from 'zod';

import type { T2MShape } from '../native.js';
import { runSettings } from '../train/settings.js';

// Token embeddings longer than this are cut (Flan-T5 captions are rarely past 60 tokens).
export const EMBEDDING_SLOTS = 150;

export interface DecoderShape {
  dim: number;
  layers: number;
  heads: number;
  hidden: number;
}

export const T2M_PRESETS: Record<string, DecoderShape> = {
  tiny: { dim: 64, layers: 2, heads: 4, hidden: 256 },
  small: { dim: 256, layers: 4, heads: 4, hidden: 768 },
  '44M': { dim: 512, layers: 8, heads: 8, hidden: 1536 },
  '111M': { dim: 768, layers: 12, heads: 12, hidden: 2048 },
  '343M': { dim: 1024, layers: 24, heads: 16, hidden: 2816 },
  '775M': { dim: 1280, layers: 36, heads: 20, hidden: 3584 },
  '1B': { dim: 1536, layers: 48, heads: 24, hidden: 4096 },
  '3B': { dim: 3200, layers: 24, heads: 32, hidden: 8704 },
  '7B': { dim: 4096, layers: 36, heads: 32, hidden: 11008 },
};

export const t2mModel = z
  .object({
    preset: z.enum(Object.keys(T2M_PRESETS) as [string, ...string[]]).default('small'),
    text: z.enum(['builtin', 'embeddings']).default('builtin'), // built-in trainable encoder, or precomputed embeddings
    textDim: z.number().int().positive().optional(), // default: the decoder width (builtin) or 2048 (embeddings)
    textLayers: z.number().int().positive().default(2),
    textHeads: z.number().int().positive().default(4),
    textMaxLen: z.number().int().positive().default(40), // words per caption (plus BOS)
    maxMotionTokens: z.number().int().positive().default(300), // 300 tokens = 20 s at 15 tokens/s
    ropeBase: z.number().positive().default(10000), // rotary embedding base (the reference's)
  })
  .strict();
export type T2MModelConfig = z.output<typeof t2mModel>;

export const t2mTraining = z
  .object({
    steps: z.number().int().positive().default(2000),
    batch: z.number().int().positive().default(16),
    accumulate: z.number().int().positive().default(1), // micro-batches per optimiser step
    lr: z.number().positive().default(4e-4),
    warmup: z.number().int().nonnegative().default(100),
    minLrRatio: z.number().min(0).max(1).default(0.1), // cosine decays to lr × this
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.95),
    weightDecay: z.number().nonnegative().default(1e-6),
    eps: z.number().positive().max(1).default(1e-6), // AdamW's denominator term
    clip: z.number().nonnegative().default(1),
    tokenDrop: z
      .number()
      .min(0)
      .max(1)
      .default(1 / 3), // drop one code at the head or tail (reference augmentation)
    condDrop: z.number().min(0).max(1).default(0.1), // empty caption, for classifier-free guidance
    recompute: z.boolean().default(false), // recompute block activations in backward: less memory, ~1/3 more compute
    // (caption, codes) pairs of evalSplit in a held-out evaluation
    evalSamples: z.number().int().positive().default(256),
    ...runSettings,
  })
  .strict();

export const t2mConfig = z
  .object({
    model: t2mModel.prefault({}),
    train: t2mTraining.prefault({}),
    data: z
      .object({
        root: z.string().default('data/demo'), // captions come from <root>/texts
        codes: z.string(), // output of `tokenizer encode`
        embeddings: z.string().optional(), // caption-embedding cache (`t2m embed`), for model.text = embeddings
        split: z.string().default('train'),
      })
      .strict(),
  })
  .strict();
export type T2MConfig = z.output<typeof t2mConfig>;

// Sampling settings of `t2m generate` and the pipeline (greedy, no guidance, up to the model's maximum length).
export const generationSettings = z
  .object({
    maxTokens: z.number().int().positive().default(300),
    minTokens: z.number().int().nonnegative().default(0), // END is not accepted before this many codes
    temperature: z.number().nonnegative().default(0), // 0 = greedy
    topK: z.number().int().nonnegative().default(0), // 0 = off
    topP: z.number().positive().max(1).default(1), // 1 = off
    cfgScale: z.number().nonnegative().default(0), // classifier-free guidance, 0 = off
    seed: z.number().int().nonnegative().default(0),
    cache: z.boolean().default(true), // KV cache; false recomputes every step (for checking)
  })
  .strict();
export type GenerationSettings = z.output<typeof generationSettings>;

// Warm-up then cosine to minLrRatio · lr.
export function t2mLearningRate(step: number, t: z.output<typeof t2mTraining>): number {
  if (step < t.warmup) return (t.lr * (step + 1)) / (t.warmup + 1);
  const progress = Math.min(1, (step - t.warmup) / Math.max(1, t.steps - t.warmup));
  return t.lr * (t.minLrRatio + (1 - t.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export type NativeT2MOptions = T2MShape;

// A decoder asked for by its config rather than its native shape (`t2m params`, `new T2MModel({ preset: '44M' })`):
// the model config plus what the tokenizer and the captions decide — the codebook size and the built-in encoder's
// vocabulary. Its defaults are the reference's: MotionMillion's 44M over Flan-T5 embeddings and a 64,000-code FSQ.
export const t2mShapeRequest = t2mModel
  .extend({
    preset: t2mModel.shape.preset.removeDefault().default('44M'),
    text: t2mModel.shape.text.removeDefault().default('embeddings'),
    codebook: z.number().int().min(1).default(64000),
    textVocab: z.number().int().positive().default(1000),
    embeddingDim: z.number().int().positive().optional(),
  })
  .strict();
export type T2MShapeRequest = z.input<typeof t2mShapeRequest>;

// The native shape of a request, every option it leaves out taken from t2mShapeRequest.
export function requestedShape(request: T2MShapeRequest): NativeT2MOptions {
  const { codebook, textVocab, embeddingDim, ...model } = t2mShapeRequest.parse(request);
  return nativeOptions(model, codebook, textVocab, embeddingDim);
}

// The constructor options of the native model for a config, codebook size, (built-in) text vocabulary and, for
// cached embeddings, their width.
export function nativeOptions(
  m: T2MModelConfig,
  codebookSize: number,
  textVocab: number,
  embeddingDim?: number
): NativeT2MOptions {
  const shape = T2M_PRESETS[m.preset];
  const textDim = m.textDim ?? (m.text === 'builtin' ? shape.dim : (embeddingDim ?? 2048));
  const textSlots = m.text === 'builtin' ? m.textMaxLen + 1 : EMBEDDING_SLOTS;
  return {
    vocab: codebookSize + 2,
    ...shape,
    textDim,
    maxLen: textSlots + m.maxMotionTokens + 1,
    ropeBase: m.ropeBase,
    textVocab: m.text === 'builtin' ? textVocab : 0,
    textLayers: m.textLayers,
    textHeads: m.textHeads,
    textMaxLen: m.textMaxLen + 1,
  };
}

// Parameter count without building the model (the 7B config does not fit in this machine's memory).
export function countParameters(o: NativeT2MOptions): {
  total: number;
  embeddings: number;
  head: number;
  layers: number;
  textEncoder: number;
} {
  const embeddings = o.vocab * o.dim;
  const head = o.dim * (o.vocab - 1);
  const perLayer = o.dim * 3 * o.dim + o.dim * o.dim + 3 * o.dim * o.hidden + 2 * o.dim;
  const swiglu = (d: number) => Math.ceil((8 * d) / 3 / 256) * 256;
  const textPerLayer = 4 * o.textDim * o.textDim + 3 * o.textDim * swiglu(o.textDim) + 2 * o.textDim;
  const textEncoder = o.textVocab > 0 ? o.textVocab * o.textDim + o.textLayers * textPerLayer + o.textDim : 0;
  const layers = o.layers * perLayer;
  return {
    total: embeddings + head + layers + o.textDim * o.dim + o.dim + o.dim + textEncoder,
    embeddings,
    head,
    layers,
    textEncoder,
  };
}
