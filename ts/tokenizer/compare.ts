// Quantisers by reconstruction: the same encoder/decoder, data and steps; only the quantiser, its codebook and the
// seed change. FSQ and VQ at each codebook size, and residual VQ (RVQ) at each layers × codes asked for, each seed
// evaluated on a held-out split: MPJPE, with an evaluator the reconstruction FID, codebook usage (per layer for RVQ),
// training time and peak tensor memory. Written: the table (mean ± std over seeds), the per-run rows and a plot of
// the training curves (first seed). A run already trained to the end is evaluated again, not retrained.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import type { LoadedEvaluator } from '../evaluator/model.js';
import { lineChart, smooth } from '../plot/chart.js';
import { resolveCheckpoint, runReached } from '../train/checkpoint.js';
import { MetricsLog } from '../train/metrics.js';
import { meanStd, peakOf, seconds } from './compare-generation.js';
import {
  FSQ_LEVELS,
  ONE_CODE_QUANTIZERS,
  QUANTIZERS,
  resolveModel,
  type Quantizer,
  type TokenizerModelConfig,
  type tokenizerConfig,
} from './config.js';
import { evaluateTokenizer, type TokenizerEval } from './evaluate.js';
import { loadTokenizer } from './model.js';
import { trainTokenizer } from './train.js';

// One configuration of the table: a quantiser with its codebook (codes per layer) and, for RVQ, its layers.
export interface CompareVariant {
  name: string;
  quantizer: Quantizer;
  requested: number;
  codes: number;
  layers: number;
  bits: number;
  model: Partial<TokenizerModelConfig>;
}

export interface CompareRow extends TokenizerEval {
  quantizer: Quantizer;
  requested: number;
  layers: number;
  bits: number;
  seed: number;
  trainSeconds: number;
  finalLoss: number;
  peakMB: number;
  run: string;
}

// What a comparison by reconstruction measures when not told: FSQ and VQ at 512, 4,096 and 64,000 codes, on val.
export const quantizerCompareSettings = z.object({
  sizes: z.array(z.number().int().min(2)).default([512, 4096, 64000]), // FSQ and VQ codebook sizes
  evalSplit: z.string().default('val'),
});

export interface CompareOptions extends z.input<typeof quantizerCompareSettings> {
  out: string;
  rvq?: Array<{ layers: number; codes: number }>; // residual VQ settings
  seeds?: number[]; // default: the config's train.seed
  evaluator?: LoadedEvaluator; // adds the reconstruction FID
  log?: (l: string) => void;
}

// The configurations: every quantiser of QUANTIZERS says which rows it adds. FSQ and VQ by codebook size (FSQ 512,
// VQ 512, FSQ 4096, …), then RVQ in the order asked.
export function compareVariants(
  sizes: number[],
  rvq: Array<{ layers: number; codes: number }>,
  log?: (l: string) => void
): CompareVariant[] {
  const variants = (q: Quantizer): CompareVariant[] => {
    switch (q) {
      case 'fsq':
        return sizes.flatMap((size) => {
          const levels = FSQ_LEVELS[size];
          if (!levels) {
            log?.(`no FSQ level set for ${size} codes (known: ${Object.keys(FSQ_LEVELS).join(', ')}); skipped`);
            return [];
          }
          const codes = levels.reduce((a, b) => a * b, 1);
          return [
            {
              name: `fsq-${size}`,
              quantizer: q,
              requested: size,
              codes,
              layers: 1,
              bits: Math.log2(codes),
              model: { levels },
            },
          ];
        });
      case 'vq':
        return sizes.map((size) => ({
          name: `vq-${size}`,
          quantizer: q,
          requested: size,
          codes: size,
          layers: 1,
          bits: Math.log2(size),
          model: { codes: size },
        }));
      case 'rvq':
        return rvq.map(({ layers, codes }) => ({
          name: `rvq-${layers}x${codes}`,
          quantizer: q,
          requested: codes,
          codes,
          layers,
          bits: layers * Math.log2(codes),
          model: { codes, layers },
        }));
    }
  };
  const all = QUANTIZERS.flatMap(variants);
  const oneCode = (v: CompareVariant) => (ONE_CODE_QUANTIZERS as readonly Quantizer[]).includes(v.quantizer);
  return [
    ...all.filter(oneCode).sort((a, b) => sizes.indexOf(a.requested) - sizes.indexOf(b.requested)),
    ...all.filter((v) => !oneCode(v)),
  ];
}

// "2x64,6x512" → RVQ settings.
export function parseRvq(text: string): Array<{ layers: number; codes: number }> {
  return text.split(',').map((item) => {
    const m = /^(\d+)x(\d+)$/.exec(item.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 2) {
      throw new TorchmotionError(
        `--rvq must list layers×codes as <layers>x<codes> (layers ≥ 1, codes ≥ 2), e.g. 2x64,6x512; received '${text}'`
      );
    }
    return { layers: Number(m[1]), codes: Number(m[2]) };
  });
}

export async function compareQuantizers(
  base: z.output<typeof tokenizerConfig>,
  o: CompareOptions
): Promise<{ rows: CompareRow[]; table: string; tableFile: string; plotFile: string }> {
  mkdirSync(o.out, { recursive: true });
  const { sizes, evalSplit } = quantizerCompareSettings.parse(o);
  const seeds = o.seeds ?? [base.train.seed];
  const steps = base.train.steps;
  const jsonFile = join(o.out, 'compare.json');
  const earlier: CompareRow[] = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : [];
  const rows: CompareRow[] = [];
  const curves: Array<{ name: string; points: Array<[number, number]> }> = [];
  for (const v of compareVariants(sizes, o.rvq ?? [], o.log)) {
    for (const seed of seeds) {
      // One seed: <out>/<name> (as before seeds); several: <out>/<name>/seed-<seed>.
      const run = seeds.length === 1 ? join(o.out, v.name) : join(o.out, v.name, `seed-${seed}`);
      const model = { ...resolveModel(base), quantizer: v.quantizer, ...v.model };
      let peakMB = earlier.find((r) => r.run === run)?.peakMB ?? NaN;
      if (!runReached(run, steps)) {
        o.log?.(`training ${label(v)}, seed ${seed} → ${run}`);
        peakMB = await peakOf(() =>
          trainTokenizer(
            { ...base, preset: undefined, model, train: { ...base.train, seed } },
            { out: run, resume: existsSync(run), log: () => {} }
          )
        );
      }
      const metrics = MetricsLog.read(join(run, 'metrics.jsonl')).filter((m) => (m.kind as unknown) === undefined);
      const { model: tok } = await loadTokenizer(resolveCheckpoint(run)!);
      const ev = await evaluateTokenizer(tok, base.data.root, {
        split: evalSplit,
        minFrames: 0,
        maxFrames: 100000,
        evaluator: o.evaluator,
      });
      rows.push({
        ...ev,
        quantizer: v.quantizer,
        requested: v.requested,
        layers: v.layers,
        bits: v.bits,
        seed,
        run,
        peakMB,
        trainSeconds: seconds(run),
        finalLoss: metrics.slice(-20).reduce((s, m) => s + m.reconstruction, 0) / Math.min(20, metrics.length),
      });
      writeFileSync(
        jsonFile,
        JSON.stringify([...rows, ...earlier.filter((r) => !rows.some((n) => n.run === r.run))], null, 2)
      );
      if (seed === seeds[0])
        curves.push({
          name: label(v),
          points: smooth(
            metrics.map((m) => [m.step, m.reconstruction]),
            25
          ),
        });
      o.log?.(
        `  MPJPE ${ev.mpjpeMm.toFixed(1)} mm${ev.fid === undefined ? '' : `, FID ${ev.fid.toFixed(3)}`}, ` +
          `usage ${usage(ev)} %, ` +
          `perplexity ${ev.perplexity.toFixed(1)}`
      );
    }
  }
  writeFileSync(jsonFile, JSON.stringify(rows, null, 2));
  const table = compareTable(rows, seeds);
  const tableFile = join(o.out, 'compare.md');
  writeFileSync(tableFile, table + '\n');
  const plotFile = join(o.out, 'compare.svg');
  writeFileSync(
    plotFile,
    lineChart(curves, {
      title: 'Tokenizer training: reconstruction loss (moving average of 25 steps)',
      xLabel: 'step',
      yLabel: 'SmoothL1 reconstruction loss',
      logY: true,
    })
  );
  return { rows, table, tableFile, plotFile };
}

const label = (v: { quantizer: Quantizer; codes: number; layers: number }) =>
  `${v.quantizer.toUpperCase()} ${v.quantizer === 'rvq' ? `${v.layers} × ${v.codes}` : v.codes}`;

// Usage % of each layer's codebook ("99.2" for one codebook, "99.2 / 87.5" for two layers).
const usage = (ev: TokenizerEval) => (ev.layerUsage ?? [ev]).map((u) => u.usagePercent.toFixed(1)).join(' / ');

// One line per configuration: mean ± std over its seeds.
function compareTable(rows: CompareRow[], seeds: number[]): string {
  const groups: CompareRow[][] = [];
  for (const r of rows) {
    const g = groups.find(
      (x) => x[0].quantizer === r.quantizer && x[0].codebookSize === r.codebookSize && x[0].layers === r.layers
    );
    if (g) g.push(r);
    else groups.push([r]);
  }
  const f = (g: CompareRow[], value: (r: CompareRow) => number | undefined, digits: number) => {
    const values = g.map(value).filter((x): x is number => x !== undefined && Number.isFinite(x));
    if (values.length === 0) return '–';
    const s = meanStd(values);
    return values.length > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
  };
  const perLayer = (g: CompareRow[]) =>
    Array.from({ length: g[0].layers }, (_, l) =>
      meanStd(g.map((r) => (r.layerUsage ?? [r])[l].usagePercent)).mean.toFixed(1)
    ).join(' / ');
  return [
    '| quantiser | codes | bits / token | seeds | held-out MPJPE (mm) ↓ | rec. FID ↓ | ' +
      'usage % (per layer) | perplexity (layer 0) | ' +
      'final train recon loss | train time (s) | peak tensors (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...groups.map(
      (g) =>
        `| ${g[0].quantizer.toUpperCase()} | ` +
        `${g[0].quantizer === 'rvq' ? `${g[0].layers} × ${g[0].codebookSize}` : g[0].codebookSize} | ` +
        `${g[0].bits.toFixed(g[0].bits % 1 ? 1 : 0)} | ${g.length} | ${f(g, (r) => r.mpjpeMm, 1)} | ` +
        `${f(g, (r) => r.fid, 3)} | ${perLayer(g)} | ` +
        `${f(g, (r) => r.perplexity, 1)} | ${f(g, (r) => r.finalLoss, 4)} | ${f(g, (r) => r.trainSeconds, 0)} | ` +
        `${f(g, (r) => r.peakMB, 0)} |`
    ),
    '',
    `Mean ± sample std over seeds (${seeds.join(', ')}). Usage: per layer, the mean over seeds of ` +
      `the share of its codebook used on the ` +
      'held-out split; perplexity of layer 0 (the one code per step of FSQ and VQ). Times are the ' +
      'sums of the native step times; peak ' +
      'tensors is the most CPU tensor memory in use while training.',
  ].join('\n');
}
