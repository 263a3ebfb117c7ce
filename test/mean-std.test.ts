// `data mean-std` against a plain two-pass computation over all training frames (mean, population std per channel,
// averaged within each group), and its refusal of what cannot give statistics.
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readSplit } from '../ts/data/dataset.js';
import { splitFile } from '../ts/data/layout.js';
import { computeMeanStd } from '../ts/data/mean-std.js';
import { readNpy } from '../ts/data/npy.js';
import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { DIM, GROUP_RANGES } from '../ts/motion/repr272.js';
import { errorOf, tempDir } from './helpers.js';

test('mean and group-averaged std equal a two-pass computation over the training frames', () => {
  const root = join(tempDir('tm-meanstd-'), 'data');
  writeSyntheticDataset(root, 7, 5);
  const r = computeMeanStd(root, { out: join(root, 'computed') });
  const clips = readSplit(splitFile(root, 'train', 'tokenizer')).map(
    (n) => readNpy(join(root, 'motion_data', 'vector_272', `${n}.npy`)).data as Float64Array
  );
  const frames = clips.reduce((s, c) => s + c.length / DIM, 0);
  assert.is(r.frames, frames);
  const mean = new Float64Array(DIM);
  for (const c of clips) for (let i = 0; i < c.length; i++) mean[i % DIM] += c[i] / frames;
  const variance = new Float64Array(DIM);
  for (const c of clips) for (let i = 0; i < c.length; i++) variance[i % DIM] += (c[i] - mean[i % DIM]) ** 2 / frames;
  const std = new Float64Array(DIM);
  for (const [a, b] of GROUP_RANGES) {
    let s = 0;
    for (let k = a; k < b; k++) s += Math.sqrt(variance[k]);
    std.fill(s / (b - a), a, b);
  }
  const m = readNpy(r.mean).data as Float64Array;
  const s = readNpy(r.std).data as Float64Array;
  for (let c = 0; c < DIM; c++) {
    assert.ok(Math.abs(m[c] - mean[c]) <= 1e-12 * (1 + Math.abs(mean[c])), `mean[${c}] ${m[c]} vs ${mean[c]}`);
    assert.ok(Math.abs(s[c] - std[c]) <= 1e-9 * (1 + std[c]), `std[${c}] ${s[c]} vs ${std[c]}`);
  }
});

test('a split with no clip gives a clear error', async () => {
  const root = join(tempDir('tm-meanstd-empty-'), 'data');
  writeSyntheticDataset(root, 3, 1);
  assert.match(await errorOf(() => computeMeanStd(root, { split: 'nosuch' })), "split 'nosuch' not found");
});

test.run();
