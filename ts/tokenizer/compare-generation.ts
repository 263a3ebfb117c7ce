// FSQ vs VQ by what they make possible: for each quantiser, codebook size and seed, the same tokenizer training,
// every clip encoded, the same text-to-motion training on those codes, then the evaluator's table. Reported per
// configuration as mean ± std over seeds: reconstruction MPJPE and FID, generation FID and R-precision, codebook
// usage over every encoded token, training time and peak tensor memory. Every stage skips itself when complete, so
// an interrupted comparison continues where it stopped.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { loadEvaluator } from '../evaluator/model.js';
import { evaluateT2M } from '../t2m/eval.js';
import { trainEvaluator } from '../evaluator/train.js';
import { native } from '../native.js';
import { info } from '../runtime.js';
import { t2mModel, t2mTraining } from '../t2m/config.js';
import { trainT2M } from '../t2m/train.js';
import { resolveCheckpoint, runReached } from '../train/checkpoint.js';
import { MetricsLog } from '../train/metrics.js';
import {
  FSQ_LEVELS,
  ONE_CODE_QUANTIZERS,
  resolveModel,
  type OneCodeQuantizer,
  type tokenizerConfig,
} from './config.js';
import { EncodedCodes, encodeDataset } from './encode.js';
import { CodeCounter, evaluateTokenizer } from './evaluate.js';
import { loadTokenizer } from './model.js';
import { trainTokenizer } from './train.js';

// What a comparison by generation runs when not told: FSQ and VQ at 512 and 4,096 codes over seeds 0, 1 and 2, each
// with a tiny text-to-motion model trained 600 steps (the t2m schema's batch; a learning rate raised from its 4e-4
// for so short a run), a 300-step evaluator when none is given, measured on the test split in 5 repetitions.
export const generationCompareSettings = z.object({
  sizes: z.array(z.number().int().min(2)).default([512, 4096]),
  seeds: z.array(z.number().int().nonnegative()).default([0, 1, 2]),
  evalSplit: z.string().default('test'), // where both tables are measured
  t2m: z
    .object({
      preset: t2mModel.shape.preset.removeDefault().default('tiny'),
      steps: t2mTraining.shape.steps.removeDefault().default(600),
      batch: t2mTraining.shape.batch,
      lr: t2mTraining.shape.lr.removeDefault().default(1e-3),
    })
    .strict()
    .prefault({}),
  evaluatorSteps: z.number().int().positive().default(300),
  repeats: z.number().int().positive().default(5),
});
type GenerationCompareSettings = z.output<typeof generationCompareSettings>;

export interface GenerationCompareOptions extends z.input<typeof generationCompareSettings> {
  out: string;
  evaluator?: string; // a trained evaluator run; else one is trained into <out>/evaluator
  log?: (line: string) => void;
}

export interface SeedResult {
  quantizer: OneCodeQuantizer;
  requested: number;
  codebookSize: number;
  seed: number;
  recMpjpeMm: number;
  recFid: number;
  genFid: number;
  genTop1: number;
  genTop3: number;
  genMmDist: number;
  usagePercent: number;
  perplexity: number;
  tokens: number;
  tokenizerSeconds: number;
  t2mSeconds: number;
  tokenizerPeakMB: number;
  t2mPeakMB: number;
}

const METRICS = [
  'recMpjpeMm',
  'recFid',
  'genFid',
  'genTop1',
  'genTop3',
  'usagePercent',
  'perplexity',
  'tokenizerSeconds',
  't2mSeconds',
  'tokenizerPeakMB',
  't2mPeakMB',
] as const;
type Metric = (typeof METRICS)[number];
export interface ConfigSummary {
  quantizer: OneCodeQuantizer;
  codebookSize: number;
  seeds: number;
  stats: Record<Metric, { mean: number; std: number }>;
}

export const seconds = (run: string) =>
  MetricsLog.read(join(run, 'metrics.jsonl'))
    .filter((m) => (m.kind as unknown) === undefined)
    .reduce((s, m) => s + m.seconds, 0);

// Sample mean and standard deviation (n − 1) over seeds.
export function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, std };
}

// Peak tensor memory of a phase in this process (LibTorch's CPU tensors through torchmotion's allocator), in MB.
export async function peakOf(phase: () => Promise<unknown>): Promise<number> {
  native().resetMemoryMark();
  await phase();
  return info().cpuCache.markMB;
}

export async function compareByGeneration(
  base: z.output<typeof tokenizerConfig>,
  options: GenerationCompareOptions
): Promise<{ seeds: SeedResult[]; configs: ConfigSummary[]; table: string; tableFile: string }> {
  const o = { ...options, ...generationCompareSettings.parse(options) };
  const log = o.log ?? (() => {});
  const root = base.data.root;
  mkdirSync(o.out, { recursive: true });
  const evRun = o.evaluator ?? join(o.out, 'evaluator');
  if (!o.evaluator && !runReached(evRun, o.evaluatorSteps)) {
    log(`training the retrieval evaluator (${o.evaluatorSteps} steps) → ${evRun}`);
    await trainEvaluator(
      {
        model: { preset: 'small' },
        data: { root, split: 'train' },
        train: { steps: o.evaluatorSteps, batch: 32, lr: 5e-4, warmup: 30, checkpointEvery: 100, logEvery: 50 },
      },
      { out: evRun, resume: existsSync(evRun), log: () => {} }
    );
  }
  const evaluator = await loadEvaluator(resolveCheckpoint(evRun)!);
  const seeds: SeedResult[] = [];
  try {
    for (const size of o.sizes) {
      for (const quantizer of ONE_CODE_QUANTIZERS) {
        const levels = FSQ_LEVELS[size];
        if (quantizer === 'fsq' && !levels)
          throw new TorchmotionError(
            `no FSQ level set for ${size} codes (known: ${Object.keys(FSQ_LEVELS).join(', ')})`
          );
        for (const seed of o.seeds) {
          const dir = join(o.out, `${quantizer}-${size}`, `seed-${seed}`);
          const model = { ...resolveModel(base), quantizer, ...(quantizer === 'fsq' ? { levels } : { codes: size }) };
          const tokRun = join(dir, 'tokenizer');
          const steps = base.train.steps;
          log(`${quantizer.toUpperCase()} ${size}, seed ${seed}: tokenizer (${steps} steps)`);
          const tokenizerPeakMB = runReached(tokRun, steps)
            ? NaN
            : await peakOf(() =>
                trainTokenizer(
                  { ...base, preset: undefined, model, train: { ...base.train, seed } },
                  { out: tokRun, resume: existsSync(tokRun), log: () => {} }
                )
              );
          const tokCkpt = resolveCheckpoint(tokRun)!;
          const { model: tokenizer } = await loadTokenizer(tokCkpt);
          const rec = await evaluateTokenizer(tokenizer, root, { split: o.evalSplit, stage: 't2m-eval', evaluator });
          const codesDir = join(dir, 'codes');
          if (!existsSync(join(codesDir, 'index.json')))
            await encodeDataset(tokenizer, root, codesDir, { split: 'all', checkpoint: tokCkpt, log: () => {} });
          const usage = allTokenUsage(codesDir);
          const t2mRun = join(dir, 't2m');
          log(
            `  MPJPE ${rec.mpjpeMm.toFixed(1)} mm, FID ${rec.fid?.toFixed(3)}, ` +
              `usage ${usage.usagePercent.toFixed(1)} % of ${usage.codebookSize}; ` +
              `text-to-motion (${o.t2m.preset}, ${o.t2m.steps} steps)`
          );
          const t2mPeakMB = runReached(t2mRun, o.t2m.steps)
            ? NaN
            : await peakOf(() =>
                trainT2M(
                  {
                    model: { preset: o.t2m.preset },
                    data: { root, codes: codesDir, split: 'train' },
                    train: {
                      steps: o.t2m.steps,
                      batch: o.t2m.batch,
                      lr: o.t2m.lr,
                      warmup: Math.min(100, Math.floor(o.t2m.steps / 10)),
                      seed,
                      checkpointEvery: o.t2m.steps,
                      logEvery: 100,
                    },
                  },
                  { out: t2mRun, resume: existsSync(t2mRun), log: () => {} }
                )
              );
          const ev = await evaluateT2M({
            ckpt: t2mRun,
            evaluator: evRun,
            split: o.evalSplit,
            repeats: o.repeats,
            mmSamples: 0,
            seed,
          });
          const gen = ev.rows.find((r) => r.name === 'Generator')!.metrics;
          const result: SeedResult = {
            quantizer,
            requested: size,
            codebookSize: tokenizer.codebookSize,
            seed,
            recMpjpeMm: rec.mpjpeMm,
            recFid: rec.fid ?? NaN,
            genFid: gen.fid!.mean,
            genTop1: gen.top1!.mean,
            genTop3: gen.top3!.mean,
            genMmDist: gen.mmDist!.mean,
            usagePercent: usage.usagePercent,
            perplexity: usage.perplexity,
            tokens: usage.tokens,
            tokenizerSeconds: seconds(tokRun),
            t2mSeconds: seconds(t2mRun),
            tokenizerPeakMB,
            t2mPeakMB,
          };
          log(
            `  generation FID ${result.genFid.toFixed(3)}, top-1 ${result.genTop1.toFixed(3)}, ` +
              `top-3 ${result.genTop3.toFixed(3)}`
          );
          seeds.push(result);
          writeFileSync(join(o.out, 'seeds.json'), JSON.stringify(seeds, null, 2));
        }
      }
    }
  } finally {
    evaluator.text.close();
  }
  const configs: ConfigSummary[] = [];
  for (const r of seeds) {
    if (configs.some((c) => c.quantizer === r.quantizer && c.codebookSize === r.codebookSize)) continue;
    const group = seeds.filter((s) => s.quantizer === r.quantizer && s.codebookSize === r.codebookSize);
    configs.push({
      quantizer: r.quantizer,
      codebookSize: r.codebookSize,
      seeds: group.length,
      stats: Object.fromEntries(
        METRICS.map((m) => [m, meanStd(group.map((g) => g[m]).filter(Number.isFinite))])
      ) as Record<Metric, { mean: number; std: number }>,
    });
  }
  const table = generationTable(configs, o);
  const tableFile = join(o.out, 'fsq-vs-vq.md');
  writeFileSync(tableFile, table + '\n');
  writeFileSync(join(o.out, 'fsq-vs-vq.json'), JSON.stringify({ configs, seeds }, null, 2));
  return { seeds, configs, table, tableFile };
}

// Usage and perplexity over every token the tokenizer gave the dataset (not a held-out sample).
function allTokenUsage(dir: string) {
  const codes = new EncodedCodes(dir);
  try {
    const counter = new CodeCounter(codes.info.codebookSize);
    for (let i = 0; i < codes.names.length; i++) counter.add(codes.codes(i));
    return { ...counter.summary(), tokens: Number(codes.offsets[codes.names.length]) };
  } finally {
    codes.close();
  }
}

function generationTable(configs: ConfigSummary[], o: GenerationCompareSettings): string {
  const f = (s: { mean: number; std: number }, digits: number) =>
    Number.isFinite(s.mean) ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : '–';
  return [
    '| quantiser | codes | seeds | rec. MPJPE (mm) ↓ | rec. FID ↓ | gen. FID ↓ | gen. top-1 ↑ | gen. top-3 ↑ | ' +
      'usage, all tokens (%) | perplexity | ' +
      'tokenizer time (s) | t2m time (s) | peak tensors tok. / t2m (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...configs.map(
      (c) =>
        `| ${c.quantizer.toUpperCase()} | ${c.codebookSize} | ${c.seeds} | ${f(c.stats.recMpjpeMm, 1)} | ` +
        `${f(c.stats.recFid, 3)} | ` +
        `${f(c.stats.genFid, 3)} | ${f(c.stats.genTop1, 3)} | ${f(c.stats.genTop3, 3)} | ` +
        `${f(c.stats.usagePercent, 1)} | ${f(c.stats.perplexity, 0)} | ` +
        `${f(c.stats.tokenizerSeconds, 0)} | ${f(c.stats.t2mSeconds, 0)} | ` +
        `${c.stats.tokenizerPeakMB.mean.toFixed(0)} / ${c.stats.t2mPeakMB.mean.toFixed(0)} |`
    ),
    '',
    `Mean ± std over seeds (${o.seeds.join(', ')}): each seed trains its own tokenizer and text-to-motion model ` +
      `(${o.t2m.preset}, ${o.t2m.steps} steps). ` +
      `Reconstruction and generation on the ${o.evalSplit} split's 60–200-frame clips; generation greedy, ` +
      `stopping at END, ${o.repeats} repetitions ` +
      'of the draws per seed; usage and perplexity over every encoded token of the dataset.',
  ].join('\n');
}
