// Tokenizer model and training configs. `motionmillion` is the reference architecture (11,349,782 parameters);
// `small` and `tiny` keep its shape with fewer channels and a 512 / 125-code FSQ, for CPU demos and tests: a
// 64,000-code vocabulary would dwarf both the demo data (~30k tokens) and the text-to-motion model's compute.
import { z } from 'zod';

import { runSettings } from '../train/settings.js';

// The quantizers between encoder and decoder, stated once: the schema, the native types and the comparisons read it.
// FSQ and VQ give one code per step, (B, T'); RVQ (MoMask's residual VQ) one code per layer, (B, T', layers).
export const QUANTIZERS = ['fsq', 'vq', 'rvq'] as const;
export type Quantizer = (typeof QUANTIZERS)[number];
// Those whose codes the text-to-motion decoder reads: one code per step.
export type OneCodeQuantizer = Exclude<Quantizer, 'rvq'>;
export const ONE_CODE_QUANTIZERS = QUANTIZERS.filter((q): q is OneCodeQuantizer => q !== 'rvq');

// FSQ levels, wherever they come from (a config, --levels, an imported file): each an integer from 2 to 65,536, and
// their product — the codebook size — at most 2^24 = 16,777,216: codes stay exact in float32 and far from int32's
// end (unbounded levels overflowed `tokenizer encode`), 262× the reference's largest table entry, 64,000.
const MAX_FSQ_LEVEL = 2 ** 16;
export const MAX_FSQ_CODES = 2 ** 24;
const product = (levels: unknown) => (levels as number[]).reduce((a, b) => a * b, 1);
export const fsqLevels = z
  .array(
    z
      .number()
      .int({ error: (i) => `a level is ${String(i.input)}, not an integer` })
      .min(2, { error: (i) => `a level is ${String(i.input)}, below 2` })
      .max(MAX_FSQ_LEVEL, {
        error: (i) => `a level is ${String(i.input)}, above the largest FSQ level, ${MAX_FSQ_LEVEL}`,
      })
  )
  .min(1, { error: 'no levels' })
  .refine((levels) => product(levels) <= MAX_FSQ_CODES, {
    error: (i) =>
      `levels ${(i.input as number[]).join('×')} make ${product(i.input)} codes, above the largest FSQ ` +
      `codebook, 2^24 = ${MAX_FSQ_CODES}`,
  });

export const tokenizerModel = z
  .object({
    inputDim: z.number().int().positive().default(272),
    width: z.number().int().positive().default(512),
    downT: z.number().int().nonnegative().default(1),
    strideT: z.number().int().positive().default(2),
    depth: z.number().int().positive().default(3),
    dilationGrowth: z.number().int().positive().default(3),
    norm: z.enum(['LN', 'none']).default('LN'),
    activation: z.enum(['relu', 'gelu', 'silu']).default('relu'),
    quantizer: z.enum(QUANTIZERS).default('fsq'),
    levels: fsqLevels.default([8, 8, 8, 5, 5, 5]),
    codes: z.number().int().min(2).default(512), // VQ codebook size (RVQ: per layer)
    mu: z.number().min(0).max(1).default(0.99), // VQ EMA decay
    layers: z.number().int().min(1).max(64).default(6), // RVQ layers (MoMask: 6)
    quantizerDropout: z.number().min(0).max(1).default(0.2), // RVQ: MoMask's quantize_dropout_prob
  })
  .strict();
export type TokenizerModelConfig = z.output<typeof tokenizerModel>;

export const MODEL_PRESETS: Record<string, Partial<TokenizerModelConfig>> = {
  motionmillion: {},
  small: { width: 128, depth: 2, levels: [8, 8, 8] },
  tiny: { width: 32, depth: 1, levels: [5, 5, 5] },
};

// FSQ levels per codebook size (the reference's table); sizes are the products.
export const FSQ_LEVELS: Record<number, number[]> = {
  256: [8, 6, 5],
  512: [8, 8, 8],
  1024: [8, 5, 5, 5],
  2048: [8, 8, 6, 5],
  4096: [7, 5, 5, 5, 5],
  16384: [8, 8, 8, 6, 5],
  64000: [8, 8, 8, 5, 5, 5],
};

// The model section as written by the user: every key optional and without defaults, so that a preset can fill
// what the user left out (defaults come last, in resolveModel).
const tokenizerModelInput = z
  .object(
    Object.fromEntries(
      Object.entries(tokenizerModel.shape).map(([k, v]) => [
        k,
        (v as unknown as { unwrap(): z.ZodType }).unwrap().optional(),
      ])
    )
  )
  .strict();

export const tokenizerTraining = z
  .object({
    steps: z.number().int().positive().default(1000),
    batch: z.number().int().positive().default(64),
    accumulate: z.number().int().positive().default(1), // micro-batches of `batch` windows per optimiser step
    window: z.number().int().positive().default(96),
    lr: z.number().positive().default(5e-5),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.99),
    weightDecay: z.number().nonnegative().default(0),
    eps: z.number().positive().max(1).default(1e-8), // AdamW's denominator term
    warmup: z.number().int().nonnegative().default(0), // linear warm-up steps (48,000 in the reference)
    milestones: z.array(z.number().int().positive()).default([]), // lr × gamma at each (300,000 in the reference)
    gamma: z.number().positive().default(0.05),
    clip: z.number().nonnegative().default(0), // gradient-norm clipping, 0 = off
    velWeight: z.number().nonnegative().default(0.5),
    commitBeta: z.number().nonnegative().default(0.02),
    evalClips: z.number().int().positive().default(100), // first N clips of evalSplit, to keep evals short
    ...runSettings,
  })
  .strict();

export const tokenizerConfig = z
  .object({
    preset: z.enum(['motionmillion', 'small', 'tiny']).optional(),
    model: tokenizerModelInput.prefault({}),
    train: tokenizerTraining.prefault({}),
    data: z
      .object({
        root: z.string().default('data/demo'),
        split: z.string().default('train'),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type TokenizerConfig = z.output<typeof tokenizerConfig>;

// A preset fills the model keys the user did not set; defaults (the MotionMillion architecture) fill the rest.
export function resolveModel(config: { preset?: string; model?: Record<string, unknown> }): TokenizerModelConfig {
  const preset = config.preset ? MODEL_PRESETS[config.preset] : {};
  const given = Object.fromEntries(Object.entries(config.model ?? {}).filter(([, v]) => v !== undefined));
  return tokenizerModel.parse({ ...preset, ...given });
}

// Learning rate at a step: linear warm-up, then × gamma at every milestone passed (the reference's schedule).
export function learningRate(step: number, t: z.output<typeof tokenizerTraining>): number {
  if (step < t.warmup) return (t.lr * (step + 1)) / (t.warmup + 1);
  return t.lr * t.gamma ** t.milestones.filter((m) => step >= m).length;
}
