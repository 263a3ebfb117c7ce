// Loader benchmark: writes N synthetic clips (random lengths 60–300 frames) in the MotionMillion layout, indexes
// them, then iterates batches of 64 × 96 frames. Reports index build time, batches/s and peak RSS.
// Usage: npx tsx scripts/bench/loader.ts [--clips 200000] [--batches 2000] [--dir /tmp/tm-loader-bench] [--keep]
// Clips are sparse files (a real header, then a hole of zeros) so 200,000 of them (~78 GB dense) fit on disk; reads
// come from the page cache, so this measures the loader's CPU and memory, not the disk.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import { buildIndex } from '../../ts/data/dataset.js';
import { WindowLoader } from '../../ts/data/loader.js';
import { writeSparseClips, writeSplit } from '../../ts/data/synthetic.js';
import { DIM } from '../../ts/motion/repr272.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const clips = Number(arg('clips', '200000'));
const batches = Number(arg('batches', '2000'));
const root = arg('dir', '/tmp/tm-loader-bench');

let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const timer = setInterval(sample, 20);

const marker = join(root, `.written-${clips}`);
let writeSeconds = NaN;
if (!existsSync(marker)) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const t0 = performance.now();
  const names = writeSparseClips(root, clips, 1);
  writeSplit(root, 'tokenizer_96', 'train', names);
  writeSeconds = (performance.now() - t0) / 1000;
  writeFileSync(marker, '');
}
peak = 0; // what writing the dataset took is not the loader's
const t1 = performance.now();
const { index } = buildIndex(root, { split: 'train', minFrames: 96 });
const indexSeconds = (performance.now() - t1) / 1000;
sample();
const loader = new WindowLoader(index, {
  batchSize: 64,
  window: 96,
  seed: 0,
  prefetch: 2,
  stats: { mean: new Float64Array(DIM), std: new Float64Array(DIM).fill(1) },
});
const t2 = performance.now();
let checksum = 0;
for (let b = 0; b < batches; b++) {
  const batch = await loader.next();
  checksum += batch.data[b % batch.data.length];
}
const loopSeconds = (performance.now() - t2) / 1000;
sample();
clearInterval(timer);

const result = {
  clips,
  usable: index.names.length,
  batches,
  writeSeconds,
  indexSeconds,
  batchesPerSecond: batches / loopSeconds,
  framesPerSecond: (batches * 64 * 96) / loopSeconds,
  peakRssMB: peak / 2 ** 20,
  checksum,
  machine: `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB`,
};
console.log(JSON.stringify(result, null, 2));
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/loader.json', JSON.stringify(result, null, 2));
