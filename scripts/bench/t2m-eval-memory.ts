// `t2m eval` memory vs split size: the same models evaluate synthetic splits of 1× and 10× the demo's test split
// (48 clips of 60–200 frames), each in a fresh process (its own peak RSS). Clips are read, reconstructed, generated
// and embedded a batch at a time; only embeddings are kept, so peak RSS should not grow with the split.
// Usage: npx tsx scripts/bench/t2m-eval-memory.ts [sizes=48,480]
import { cpus } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeSyntheticDataset } from '../../ts/data/synthetic.js';
import { trainEvaluator } from '../../ts/evaluator/train.js';
import { evaluateT2M } from '../../ts/t2m/eval.js';
import { trainT2M } from '../../ts/t2m/train.js';
import { encodeDataset } from '../../ts/tokenizer/encode.js';
import { loadTokenizer } from '../../ts/tokenizer/model.js';
import { trainTokenizer } from '../../ts/tokenizer/train.js';
import { runChild } from './results.js';

const work = '/tmp/tm-t2m-eval-mem';
const quiet = () => {};

async function models(root: string): Promise<void> {
  if (existsSync(join(work, 'models', '.done'))) return;
  const m = join(work, 'models');
  const tok = await trainTokenizer(
    { preset: 'tiny', data: { root, split: 'all' }, train: { steps: 2, batch: 4, window: 64 } },
    { out: join(m, 'tokenizer'), log: quiet }
  );
  const { model } = await loadTokenizer(tok.checkpoint);
  await encodeDataset(model, root, join(m, 'codes'), { split: 'all', checkpoint: tok.checkpoint, log: quiet });
  await trainT2M(
    {
      model: { preset: 'small' },
      data: { root, codes: join(m, 'codes'), split: 'all' },
      train: { steps: 2, batch: 4 },
    },
    { out: join(m, 't2m'), log: quiet }
  );
  await trainEvaluator(
    { model: { preset: 'small' }, data: { root, split: 'all' }, train: { steps: 2, batch: 8 } },
    { out: join(m, 'evaluator'), log: quiet }
  );
  writeFileSync(join(m, '.done'), '');
}

if (process.argv[2] === 'child') {
  const root = process.argv[3];
  const t0 = performance.now();
  const e = await evaluateT2M({
    ckpt: join(work, 'models', 't2m'),
    evaluator: join(work, 'models', 'evaluator'),
    data: root,
    split: 'all',
    repeats: 5,
    mmCaptions: 16,
    mmSamples: 5,
    untrained: true,
  });
  console.log(
    JSON.stringify({
      clips: e.clips,
      seconds: (performance.now() - t0) / 1000,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    })
  );
} else {
  const sizes = (process.argv[2] ?? '48,480').split(',').map(Number);
  const roots = sizes.map((n) => join(work, `data-${n}`));
  sizes.forEach((n, i) => {
    if (!existsSync(join(roots[i], '.done'))) {
      writeSyntheticDataset(roots[i], n, 1);
      writeFileSync(join(roots[i], '.done'), '');
    }
  });
  await models(roots[0]);
  const rows: ReturnType<typeof runChild>[] = [];
  for (const root of roots) {
    rows.push(runChild(import.meta.filename, root));
    console.log(JSON.stringify(rows.at(-1)));
  }
  const base = rows[0].peakRssMB;
  console.log(
    `CPU: ${cpus()[0].model}; peak RSS at ${rows.at(-1)!.clips} clips is ` +
      `${((100 * rows.at(-1)!.peakRssMB) / base - 100).toFixed(1)} % above ${rows[0].clips} clips`
  );
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/t2m-eval-memory.json', JSON.stringify(rows, null, 2));
}
