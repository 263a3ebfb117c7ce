// Tokenizer evaluation memory vs split size: each size runs in its own process (fresh peak RSS); codes are counted
// into one codebook-sized array, so peak RSS should not grow with the number of clips.
// Usage: npx tsx scripts/bench/eval-memory.ts [sizes=100,1000,4000]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeSyntheticDataset } from '../../ts/data/synthetic.js';
import { evaluateTokenizer } from '../../ts/tokenizer/evaluate.js';
import { resolveModel } from '../../ts/tokenizer/config.js';
import { TokenizerModel } from '../../ts/tokenizer/model.js';
import { runChild } from './results.js';

if (process.argv[2] === 'child') {
  const root = process.argv[3];
  // The MotionMillion model with its 64,000-code FSQ: the worst case for a dense usage one-hot.
  const model = new TokenizerModel(resolveModel({ preset: 'motionmillion' }), { seed: 0 });
  const t0 = performance.now();
  const r = await evaluateTokenizer(model, root, { split: 'all', stage: 't2m', minFrames: 0, maxFrames: 100000 });
  console.log(
    JSON.stringify({
      clips: r.clips,
      tokens: r.frames / 2,
      seconds: (performance.now() - t0) / 1000,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    })
  );
} else {
  const sizes = (process.argv[2] ?? '100,1000,4000').split(',').map(Number);
  const rows: ReturnType<typeof runChild>[] = [];
  for (const n of sizes) {
    const root = `/tmp/tm-eval-mem-${n}`;
    if (!existsSync(join(root, '.done'))) {
      writeSyntheticDataset(root, n, 1);
      writeFileSync(join(root, '.done'), '');
    }
    rows.push(runChild(import.meta.filename, root));
    console.log(JSON.stringify(rows.at(-1)));
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/eval-memory.json', JSON.stringify(rows, null, 2));
}
