// Retrieval-evaluator configs: a small CPU preset for the demo, TMR's shape, and MotionMillion's (motion side: 272
// features, 4 layers, latent 512; heads and feed-forward width are TMR's, as its public config does not give them),
// plus training settings (TMR's: AdamW lr 1e-4, batch 32, InfoNCE at temperature 0.1).
import { z } from 'zod';

import type { EvaluatorShape } from '../native.js';
import { DIM } from '../motion/repr272.js';
import { runSettings } from '../train/settings.js';

export interface EncoderShape {
  latent: number;
  motionLayers: number;
  textLayers: number;
  heads: number;
  ff: number;
}

export const EVALUATOR_PRESETS: Record<string, EncoderShape> = {
  small: { latent: 128, motionLayers: 2, textLayers: 2, heads: 4, ff: 256 },
  tmr: { latent: 256, motionLayers: 6, textLayers: 6, heads: 4, ff: 1024 },
  motionmillion: { latent: 512, motionLayers: 4, textLayers: 4, heads: 4, ff: 1024 },
};

export const evaluatorModel = z
  .object({
    preset: z.enum(Object.keys(EVALUATOR_PRESETS) as [string, ...string[]]).default('small'),
    // word-level encoder trained here, or cached caption embeddings
    text: z.enum(['builtin', 'embeddings']).default('builtin'),
    wordDim: z.number().int().positive().optional(), // built-in word vectors; default: the latent width
    maxFrames: z.number().int().positive().default(300), // longer clips are cropped (a random window in training)
    maxWords: z.number().int().positive().default(40), // words (or embedding slots) per caption
    dropout: z.number().min(0).max(1).default(0.1),
  })
  .strict();
export type EvaluatorModelConfig = z.output<typeof evaluatorModel>;

export const evaluatorTraining = z
  .object({
    steps: z.number().int().positive().default(2000),
    batch: z.number().int().min(2).default(32),
    lr: z.number().positive().default(1e-4),
    warmup: z.number().int().nonnegative().default(100),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.999),
    weightDecay: z.number().nonnegative().default(0),
    eps: z.number().positive().max(1).default(1e-8),
    clip: z.number().nonnegative().default(1),
    temperature: z.number().positive().default(0.1),
    // Two captions this similar (Jaccard of their content words, ts/evaluator/duplicates.ts) are not each other's
    // negatives.
    duplicateThreshold: z.number().min(0).max(1).default(0.8),
    ...runSettings,
  })
  .strict();

export const evaluatorConfig = z
  .object({
    model: evaluatorModel.prefault({}),
    train: evaluatorTraining.prefault({}),
    data: z
      .object({
        root: z.string().default('data/demo'),
        embeddings: z.string().optional(), // caption-embedding cache (`t2m embed`), for model.text = embeddings
        split: z.string().default('train'),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type EvaluatorConfig = z.output<typeof evaluatorConfig>;

// Linear warm-up, then constant (TMR trains at a constant rate).
export function evaluatorLearningRate(step: number, t: z.output<typeof evaluatorTraining>): number {
  return step < t.warmup ? (t.lr * (step + 1)) / (t.warmup + 1) : t.lr;
}

// The native model's shape for a config, (built-in) word vocabulary and, for cached embeddings, their width.
export function evaluatorShape(m: EvaluatorModelConfig, textVocab: number, embeddingDim?: number): EvaluatorShape {
  const shape = EVALUATOR_PRESETS[m.preset];
  const builtin = m.text === 'builtin';
  return {
    motionDim: DIM,
    maxFrames: m.maxFrames,
    textVocab: builtin ? textVocab : 0,
    textDim: builtin ? (m.wordDim ?? shape.latent) : (embeddingDim ?? 0),
    maxWords: m.maxWords + 1,
    ...shape,
    dropout: m.dropout,
  };
}
