// FSQ vs VQ: the same encoder/decoder, data, steps and seed; only the quantiser and codebook size change.
// Each run is evaluated on a held-out split; the table and a plot of the training curves are written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { z } from 'zod';

import { lineChart, smooth } from '../plot/chart.js';
import { MetricsLog } from '../train/metrics.js';
import { FSQ_LEVELS, resolveModel, type tokenizerConfig } from './config.js';
import { evaluateTokenizer, type TokenizerEval } from './evaluate.js';
import { loadTokenizer } from './model.js';
import { trainTokenizer } from './train.js';

export interface CompareRow extends TokenizerEval { quantizer: 'fsq' | 'vq'; requested: number; trainSeconds: number; finalLoss: number; run: string }

export async function compareQuantizers(base: z.output<typeof tokenizerConfig>,
  o: { out: string; sizes: number[]; evalSplit: string; log?: (l: string) => void }): Promise<{ rows: CompareRow[]; table: string; tableFile: string; plotFile: string }> {
  mkdirSync(o.out, { recursive: true });
  const rows: CompareRow[] = [];
  const curves: Array<{ name: string; points: Array<[number, number]> }> = [];
  for (const size of o.sizes) {
    for (const quantizer of ['fsq', 'vq'] as const) {
      const levels = FSQ_LEVELS[size];
      if (quantizer === 'fsq' && !levels) {
        o.log?.(`no FSQ level set for ${size} codes (known: ${Object.keys(FSQ_LEVELS).join(', ')}); skipped`);
        continue;
      }
      const model = { ...resolveModel(base), quantizer, ...(quantizer === 'fsq' ? { levels } : { codes: size }) };
      const run = join(o.out, `${quantizer}-${size}`);
      o.log?.(`training ${quantizer} with ${size} codes → ${run}`);
      const trained = await trainTokenizer({ ...base, preset: undefined, model }, { out: run, log: () => {} });
      const metrics = MetricsLog.read(trained.metrics);
      const { model: tok } = await loadTokenizer(trained.checkpoint);
      const ev = await evaluateTokenizer(tok, base.data.root, { split: o.evalSplit, minFrames: 0, maxFrames: 100000 });
      rows.push({ ...ev, quantizer, requested: size, run, trainSeconds: metrics.reduce((s, m) => s + m.seconds, 0),
        finalLoss: metrics.slice(-20).reduce((s, m) => s + m.reconstruction, 0) / Math.min(20, metrics.length) });
      curves.push({ name: `${quantizer.toUpperCase()} ${ev.codebookSize}`, points: smooth(metrics.map((m) => [m.step, m.reconstruction]), 25) });
      o.log?.(`  MPJPE ${ev.mpjpeMm.toFixed(1)} mm, usage ${ev.usagePercent.toFixed(1)} %, perplexity ${ev.perplexity.toFixed(1)}`);
    }
  }
  const table = ['| quantiser | codes | held-out MPJPE (mm) | codes used | usage % | perplexity | dead codes | final train recon loss | train time (s) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.quantizer.toUpperCase()} | ${r.codebookSize} | ${r.mpjpeMm.toFixed(1)} | ${r.usedCodes} | ${r.usagePercent.toFixed(1)} | ` +
      `${r.perplexity.toFixed(1)} | ${r.deadCodes} | ${r.finalLoss.toFixed(4)} | ${r.trainSeconds.toFixed(0)} |`)].join('\n');
  const tableFile = join(o.out, 'compare.md');
  writeFileSync(tableFile, table + '\n');
  const plotFile = join(o.out, 'compare.svg');
  writeFileSync(plotFile, lineChart(curves, { title: 'Tokenizer training: reconstruction loss (moving average of 25 steps)',
    xLabel: 'step', yLabel: 'SmoothL1 reconstruction loss', logY: true }));
  writeFileSync(join(o.out, 'compare.json'), JSON.stringify(rows, null, 2));
  return { rows, table, tableFile, plotFile };
}
