// `t2m eval`: the field's text-to-motion table (R-precision top-1/2/3 in batches of 32, FID over the split,
// MM-Dist, Diversity, MultiModality) on the evaluator's embeddings, for real motion, the tokenizer's reconstruction
// and the generator (and, on request, the same generator untrained), each as mean ± 1.96·std/√repeats. A
// repetition draws one caption per clip and a new batch order (and, when sampling, new generations). Clips are read
// one at a time; what stays in memory is a few embeddings per (clip, caption) pair, so memory does not grow with
// the split beyond that.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { readDatasetMeanStd } from '../data/motion-files.js';
import { denormalize, type MeanStd } from '../motion/normalize.js';
import { DIM, FPS } from '../motion/repr272.js';
import { Rng } from '../rng.js';
import { concatEmbeddings } from '../evaluator/embed.js';
import {
  diversity,
  fid,
  meanInterval,
  mmDist,
  multimodality,
  rPrecision,
  sampleWithoutReplacement,
  type Embeddings,
} from '../evaluator/metrics.js';
import { loadEvaluator, motionBatch, normalizeFor, type LoadedEvaluator } from '../evaluator/model.js';
import { PairSet } from '../evaluator/pairs.js';
import { requireCheckpoint } from '../train/checkpoint.js';
import { MetricsLog } from '../train/metrics.js';
import type { TokenizerModel } from '../tokenizer/model.js';
import { generationSettings } from './config.js';
import { loadDecoder, promptPrefix } from './generate.js';
import { T2MModel } from './model.js';

export interface Sampling {
  temperature: number;
  topK: number;
  topP: number;
  cfgScale: number;
}

// The protocol's settings, with their defaults written once (`t2m eval` shows them in its help).
export const t2mEvalSettings = z.object({
  split: z.string().default('test'),
  repeats: z.number().int().positive().default(20),
  batch: z.number().int().positive().default(32), // R-precision batch
  diversityPairs: z.number().int().positive().default(300), // at most the number of clips
  mmCaptions: z.number().int().positive().default(32), // MultiModality: N captions (at most the clips) …
  mmSamples: z.number().int().nonnegative().default(10), // … × M generations each (< 2: off), at mmTemperature
  mmTemperature: z.number().nonnegative().default(1),
  seed: z.number().int().nonnegative().default(0),
});

export interface T2MEvalRequest extends Partial<z.input<typeof t2mEvalSettings>> {
  ckpt: string;
  evaluator: string;
  tokenizer?: string; // default: the one the codes came from
  data?: string; // default: the text-to-motion run's data root
  gtLength?: boolean; // generate exactly the real clip's length instead of stopping at END
  sampling?: Partial<Sampling>; // the generator row's decoding (generationSettings' defaults: greedy, no guidance)
  untrained?: boolean; // add a row for the same generator with its initial weights
  maxClips?: number;
  threads?: number;
  device?: string;
  log?: (line: string) => void;
}

export const METRIC_KEYS = ['top1', 'top2', 'top3', 'fid', 'mmDist', 'diversity', 'multimodality'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
export interface EvalRow {
  name: string;
  metrics: Partial<Record<MetricKey, { mean: number; interval: number }>>;
}

export interface T2MEvalResult {
  split: string;
  clips: number;
  pairs: number;
  repeats: number;
  batch: number;
  diversityPairs: number;
  multimodality: { captions: number; samples: number; pairs: number; temperature: number };
  generation: Sampling & {
    stop: 'END' | 'ground-truth length';
    maxTokens: number;
    minTokens: number;
    maxSeconds: number;
  };
  evaluator: string;
  t2m: string;
  tokenizer: string;
  step: number;
  rows: EvalRow[];
  seconds: number;
}

// One (clip, caption) pair: the unit a repetition draws from.
interface Item {
  clip: number;
  caption: string;
  motion: () => Float64Array;
}

interface Generator {
  name: string;
  model: T2MModel;
  prefix: (captions: string[]) => ReturnType<typeof promptPrefix>;
}

class Embedder {
  constructor(
    readonly ev: LoadedEvaluator,
    readonly threads?: number
  ) {}
  get maxFrames(): number {
    return this.ev.state.native.maxFrames;
  }
  // Denormalised 272 motions → unit embeddings, a batch at a time.
  async motions(ms: Float64Array[]): Promise<Embeddings> {
    const parts: Embeddings[] = [];
    for (let i = 0; i < ms.length; i += 32) {
      const clips = ms
        .slice(i, i + 32)
        .map((m) => normalizeFor(this.ev.stats, m.subarray(0, Math.min(m.length / DIM, this.maxFrames) * DIM)));
      parts.push(await this.ev.model.embedMotion(motionBatch(clips, this.maxFrames), this.threads));
    }
    return concatEmbeddings(parts);
  }
  async texts(captions: string[]): Promise<Embeddings> {
    const parts: Embeddings[] = [];
    for (let i = 0; i < captions.length; i += 32)
      parts.push(await this.ev.model.embedText(this.ev.text.batch(captions.slice(i, i + 32)), this.threads));
    return concatEmbeddings(parts);
  }
}

const rowsOf = (e: Embeddings, rows: ArrayLike<number>): Embeddings => {
  const data = new Float64Array(rows.length * e.dim);
  for (let k = 0; k < rows.length; k++) data.set(e.data.subarray(rows[k] * e.dim, (rows[k] + 1) * e.dim), k * e.dim);
  return { data, rows: rows.length, dim: e.dim };
};

export async function evaluateT2M(r: T2MEvalRequest): Promise<T2MEvalResult> {
  const t0 = performance.now();
  const log = r.log ?? (() => {});
  const {
    split,
    repeats,
    batch,
    diversityPairs,
    mmCaptions: captionsAsked,
    mmSamples,
    mmTemperature,
    seed,
  } = t2mEvalSettings.parse(
    Object.fromEntries(
      Object.keys(t2mEvalSettings.shape)
        .map((k) => [k, r[k as keyof T2MEvalRequest]])
        .filter(([, v]) => v !== undefined)
    )
  );
  const { t2mDir, t2m, tokDir, tokenizer, tokState } = await loadDecoder(r.ckpt, r.tokenizer, r.device);
  const evDir = requireCheckpoint(r.evaluator);
  const ev = await loadEvaluator(evDir, r.device);
  const embed = new Embedder(ev, r.threads);
  const tokStats = readDatasetMeanStd(tokState.dataRoot);
  const root = r.data ?? t2m.state.dataRoot;
  const pairs = new PairSet(root, split, 't2m-eval');
  try {
    const clips = Math.min(pairs.clips, r.maxClips ?? Infinity);
    const items: Item[] = [];
    const byClip: number[][] = [];
    for (let c = 0; c < clips; c++) {
      byClip.push(
        pairs.captions(c).map((cap) => {
          items.push({ clip: c, caption: cap.text, motion: () => pairs.motion(c, cap) });
          return items.length - 1;
        })
      );
    }
    const ds = tokenizer.downsampling;
    const settings = generationSettings.parse(r.sampling ?? {});
    const sampling: Sampling = {
      temperature: settings.temperature,
      topK: settings.topK,
      topP: settings.topP,
      cfgScale: settings.cfgScale,
    };
    const maxTokens = Math.floor(Math.min(ev.state.native.maxFrames, 200) / ds);
    log(
      `t2m eval: split ${split} of ${root}, ${clips} clips (60–200 frames), ${items.length} captions, ` +
        `${repeats} repetitions`
    );

    // Real motion and the tokenizer's reconstruction, one clip at a time.
    const realParts: Float64Array[] = [];
    const recParts: Float64Array[] = [];
    const real: Embeddings[] = [];
    const rec: Embeddings[] = [];
    const lengths = new Int32Array(items.length);
    for (const [k, item] of items.entries()) {
      const m = item.motion();
      lengths[k] = m.length / DIM;
      realParts.push(m);
      recParts.push(await reconstruct(tokenizer, tokStats, m, r.threads));
      if (realParts.length === 32 || k === items.length - 1) {
        real.push(await embed.motions(realParts.splice(0)));
        rec.push(await embed.motions(recParts.splice(0)));
      }
    }
    const text = await embed.texts(items.map((i) => i.caption));
    const realE = concatEmbeddings(real);
    const recE = concatEmbeddings(rec);

    const generators: Generator[] = [
      { name: 'Generator', model: t2m.model, prefix: (caps) => promptPrefix(t2m, t2mDir, caps, r.device) },
    ];
    if (r.untrained) {
      const fresh = new T2MModel(t2m.model.options, { seed: t2m.state.config.train.seed, device: r.device });
      generators.push({
        name: 'Untrained generator',
        model: fresh,
        prefix: (caps) => promptPrefix(t2m, t2mDir, caps, r.device),
      });
    }
    // Motions for items `which` (an item may repeat: MultiModality's samples), in that order.
    const generate = async (g: Generator, which: number[], o: Sampling & { seed: number }): Promise<Embeddings> => {
      // With --gt-length a call holds one length (generate takes one length per call).
      const groups = new Map<number, number[]>();
      which.forEach((k, at) => {
        const key = r.gtLength ? Math.max(1, Math.min(maxTokens, Math.floor(lengths[k] / ds))) : 0;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key)!.push(at);
      });
      // Each batch of 32 is decoded and embedded at once: only embeddings outlive it.
      const dim = ev.state.native.latent;
      const out = new Float64Array(which.length * dim);
      for (const [len, slots] of groups) {
        for (let i = 0; i < slots.length; i += 32) {
          const part = slots.slice(i, i + 32);
          const caps = part.map((at) => items[which[at]].caption);
          const batch = await g.prefix(o.cfgScale > 0 ? [...caps, ...caps.map(() => '')] : caps);
          const res = await g.model.generate(batch, {
            ...o,
            seed: o.seed + i,
            maxTokens: len || maxTokens,
            minTokens: len || 1,
            threads: r.threads,
          });
          const width = res.tokens.shape[1];
          const motions: Float64Array[] = [];
          for (let b = 0; b < part.length; b++) {
            const n = (res.lengths.data as Int32Array)[b];
            const codes = (res.tokens.data as Int32Array).slice(b * width, b * width + n);
            const decoded = await tokenizer.decode({ data: codes, shape: [1, n] }, r.threads);
            motions.push(denormalize(Float64Array.from(decoded.data as Float32Array), tokStats));
          }
          const e = await embed.motions(motions);
          part.forEach((at, b) => out.set(e.data.subarray(b * dim, (b + 1) * dim), at * dim));
        }
      }
      return { data: out, rows: which.length, dim };
    };
    const greedy = sampling.temperature === 0;
    const everyItem = items.map((_, k) => k);
    const fixed = new Map<string, Embeddings>();
    if (greedy) {
      for (const g of generators) {
        log(`  generating ${items.length} motions (${g.name.toLowerCase()}, greedy)`);
        fixed.set(g.name, await generate(g, everyItem, { ...sampling, seed }));
      }
    }

    const mmCaptions = Math.min(captionsAsked, clips);
    const mmPairs = Math.min(10, mmSamples);
    const divPairs = Math.min(diversityPairs, clips);
    const values = new Map<string, Record<MetricKey, number[]>>();
    const record = (row: string, key: MetricKey, v: number) => {
      if (!values.has(row))
        values.set(row, Object.fromEntries(METRIC_KEYS.map((m) => [m, []])) as unknown as Record<MetricKey, number[]>);
      values.get(row)![key].push(v);
    };
    let batchUsed = batch;
    for (let rep = 0; rep < repeats; rep++) {
      const rng = new Rng(seed * 7919 + rep + 1);
      const order = sampleWithoutReplacement(rng, clips, clips);
      const chosen = Array.from(order, (c) => byClip[c][rng.int(byClip[c].length)]);
      const T = rowsOf(text, chosen);
      const R = rowsOf(realE, chosen);
      const score = async (row: string, M: Embeddings, withFid: boolean) => {
        const rp = rPrecision(T, M, batch, 3);
        batchUsed = rp.batch;
        rp.top.forEach((v, i) => record(row, `top${i + 1}` as MetricKey, v));
        record(row, 'mmDist', mmDist(T, M));
        record(row, 'diversity', diversity(M, rng, divPairs));
        if (withFid) record(row, 'fid', await fid(R, M));
      };
      // Real motion's FID: one random half of the split against the other, the noise floor at this size.
      await score('Real motion', R, false);
      const half = Math.floor(clips / 2);
      if (half >= 2)
        record('Real motion', 'fid', await fid(rowsOf(R, range(0, half)), rowsOf(R, range(half, 2 * half))));
      await score('Tokenizer reconstruction', rowsOf(recE, chosen), true);
      for (const g of generators) {
        const G = greedy
          ? rowsOf(fixed.get(g.name)!, chosen)
          : await generate(g, chosen, { ...sampling, seed: seed + rep });
        await score(g.name, G, true);
        if (mmSamples >= 2) {
          const mmClips = Array.from(order.slice(0, mmCaptions), (c) => byClip[c][0]);
          const repeated = mmClips.flatMap((k) => Array.from({ length: mmSamples }, () => k));
          const samples = await generate(g, repeated, {
            ...sampling,
            temperature: mmTemperature,
            seed: (seed + rep) * 1009 + 17,
          });
          record(g.name, 'multimodality', multimodality(samples, mmSamples, rng, mmPairs));
        }
      }
      log(`  repetition ${rep + 1}/${repeats}`);
    }
    const rows: EvalRow[] = [...values].map(([name, v]) => ({
      name,
      metrics: Object.fromEntries(METRIC_KEYS.filter((k) => v[k].length > 0).map((k) => [k, meanInterval(v[k])])),
    }));
    return {
      split,
      clips,
      pairs: items.length,
      repeats,
      batch: batchUsed,
      diversityPairs: divPairs,
      multimodality: {
        captions: mmSamples >= 2 ? mmCaptions : 0,
        samples: mmSamples,
        pairs: mmPairs,
        temperature: mmTemperature,
      },
      generation: {
        ...sampling,
        stop: r.gtLength ? 'ground-truth length' : 'END',
        maxTokens,
        minTokens: 1,
        maxSeconds: (maxTokens * ds) / FPS,
      },
      evaluator: evDir,
      t2m: t2mDir,
      tokenizer: tokDir,
      step: t2m.state.step,
      rows,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    ev.text.close();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

// The tokenizer's reconstruction of a denormalised clip (cropped to a multiple of its downsampling), denormalised.
async function reconstruct(
  tokenizer: TokenizerModel,
  stats: MeanStd,
  m: Float64Array,
  threads?: number
): Promise<Float64Array> {
  const T = m.length / DIM - ((m.length / DIM) % tokenizer.downsampling);
  const x = normalizeFor(stats, m.subarray(0, T * DIM));
  const { reconstruction } = await tokenizer.reconstruct({ data: x, shape: [1, T, DIM] }, threads);
  return denormalize(Float64Array.from(reconstruction.data as Float32Array), stats);
}

const LABELS: Record<MetricKey, string> = {
  top1: 'R-precision top-1 ↑',
  top2: 'top-2 ↑',
  top3: 'top-3 ↑',
  fid: 'FID ↓',
  mmDist: 'MM-Dist ↓',
  diversity: 'Diversity →',
  multimodality: 'MultiModality ↑',
};

// The table as Markdown, with the settings a reader needs to compare it with another.
export function formatEvalTable(e: T2MEvalResult): string {
  const cell = (v?: { mean: number; interval: number }) =>
    v ? `${v.mean.toFixed(3)} ± ${v.interval.toFixed(3)}` : '–';
  const lines = [
    `| | ${METRIC_KEYS.map((k) => LABELS[k]).join(' | ')} |`,
    `|---|${METRIC_KEYS.map(() => '---').join('|')}|`,
    ...e.rows.map((r) => `| ${r.name} | ${METRIC_KEYS.map((k) => cell(r.metrics[k])).join(' | ')} |`),
    '',
    `Split ${e.split}: ${e.clips} clips of 60–200 frames (${e.pairs} captions), ${e.repeats} repetitions ` +
      `(mean ± 1.96·std/√${e.repeats}); ` +
      `R-precision in batches of ${e.batch} (chance ${(1 / e.batch).toFixed(3)} / ${(2 / e.batch).toFixed(3)} / ` +
      `${(3 / e.batch).toFixed(3)}); ` +
      `Diversity over ${e.diversityPairs} pairs; ` +
      (e.multimodality.captions
        ? `MultiModality: ${e.multimodality.captions} captions × ${e.multimodality.samples} samples at temperature ` +
          `${e.multimodality.temperature}, ${e.multimodality.pairs} pairs; `
        : '') +
      `real motion's FID is one random half of the split against the other.`,
    `Generation: stop at ${e.generation.stop} (1 to ${e.generation.maxTokens} codes = ` +
      `${e.generation.maxSeconds.toFixed(1)} s at most), ` +
      `temperature ${e.generation.temperature}${e.generation.temperature === 0 ? ' (greedy)' : ''}, ` +
      `top-k ${e.generation.topK || 'off'}, ` +
      `top-p ${e.generation.topP === 1 ? 'off' : e.generation.topP}, guidance ${e.generation.cfgScale || 'off'}. ` +
      `Text-to-motion ${e.t2m} (step ${e.step}), evaluator ${e.evaluator}.`,
  ];
  return lines.join('\n');
}

// The table's rows as `kind: "eval"` lines of the text-to-motion run's metrics.jsonl (when it has one).
export function logEvalRows(run: string, e: T2MEvalResult): string | undefined {
  const file = join(run, 'metrics.jsonl');
  if (!existsSync(file)) return undefined;
  const log = new MetricsLog(file);
  for (const row of e.rows) {
    const values = Object.fromEntries(
      METRIC_KEYS.flatMap((k) =>
        row.metrics[k]
          ? [
              [k, row.metrics[k]!.mean],
              [`${k}Interval`, row.metrics[k]!.interval],
            ]
          : []
      )
    );
    log.append({
      step: e.step - 1,
      kind: 'eval',
      source: 't2m eval',
      row: row.name,
      split: e.split,
      repeats: e.repeats,
      ...values,
    });
  }
  return file;
}
