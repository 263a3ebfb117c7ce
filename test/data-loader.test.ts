import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildIndex } from '../ts/data/dataset.js';
import { wholeClips, WindowLoader } from '../ts/data/loader.js';
import { writeNpy } from '../ts/data/npy.js';
import { syntheticMotion, writeSplit } from '../ts/data/synthetic.js';
import { DIM } from '../ts/motion/repr272.js';
import { errorOf, tempDir } from './helpers.js';

// Clips whose every value encodes (clip, frame, channel), so any window can be checked exactly.
const root = tempDir('tm-loader-');
const names: string[] = [];
mkdirSync(join(root, 'motion_data', 'vector_272', 'S'), { recursive: true });
const lengths = [100, 130, 96, 250, 80, 140];
lengths.forEach((T, c) => {
  const data = new Float64Array(T * DIM);
  for (let t = 0; t < T; t++) for (let k = 0; k < DIM; k++) data[t * DIM + k] = c * 1e6 + t * 1e3 + k;
  const name = `S/clip${c}`;
  // Alternate float64 C order, float32, and Fortran order so every read path is exercised.
  const file = join(root, 'motion_data', 'vector_272', `${name}.npy`);
  if (c % 3 === 1) writeNpy(file, { data: Float32Array.from(data), shape: [T, DIM] });
  else writeNpy(file, { data, shape: [T, DIM] }, { fortranOrder: c % 3 === 2 });
  names.push(name);
});
writeSplit(root, 'tokenizer_96', 'train', names);
const { index } = buildIndex(root, { split: 'train', minFrames: 0 });

test('windows hold exactly the rows of their clip, from every file layout', async () => {
  const loader = new WindowLoader(index, { batchSize: 4, window: 96, seed: 1 });
  for (let b = 0; b < 5; b++) {
    const batch = await loader.next();
    assert.equal(batch.shape, [4, 96, DIM]);
    for (let i = 0; i < 4; i++) {
      const clip = Number(index.names[batch.clips[i]].slice(6));
      assert.ok(lengths[clip] >= 96, 'clips shorter than the window are never drawn');
      for (const [t, k] of [
        [0, 0],
        [95, 271],
        [50, 9],
      ]) {
        assert.is(batch.data[(i * 96 + t) * DIM + k], clip * 1e6 + (batch.starts[i] + t) * 1e3 + k);
      }
    }
  }
});

test('the same seed gives the same batches; a restored state continues the same sequence', async () => {
  const a = new WindowLoader(index, { batchSize: 3, window: 96, seed: 5 });
  const seqA = [];
  for (let i = 0; i < 6; i++) seqA.push(await a.next());
  const b = new WindowLoader(index, { batchSize: 3, window: 96, seed: 5 });
  for (let i = 0; i < 6; i++) assert.equal(Array.from((await b.next()).starts), Array.from(seqA[i].starts));
  const resumed = new WindowLoader(index, { batchSize: 3, window: 96, seed: 5 }, seqA[2].state);
  for (let i = 3; i < 6; i++) {
    const r = await resumed.next();
    assert.equal(Array.from(r.clips), Array.from(seqA[i].clips));
    assert.equal(Array.from(r.starts), Array.from(seqA[i].starts));
    assert.equal(r.data, seqA[i].data);
  }
  const other = new WindowLoader(index, { batchSize: 3, window: 96, seed: 6 });
  assert.not.equal(Array.from((await other.next()).starts), Array.from(seqA[0].starts));
});

test('every eligible clip appears once per epoch', async () => {
  const loader = new WindowLoader(index, { batchSize: 1, window: 96, seed: 2 });
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) seen.push((await loader.next()).clips[0]);
  assert.equal([...seen].sort(), [0, 1, 2, 3, 5]);
});

test('normalisation uses the given mean and std', async () => {
  const mean = new Float64Array(DIM).fill(1);
  const std = new Float64Array(DIM).fill(2);
  const loader = new WindowLoader(index, { batchSize: 1, window: 96, seed: 3, stats: { mean, std } });
  const batch = await loader.next();
  const clip = Number(index.names[batch.clips[0]].slice(6));
  assert.is(batch.data[5], (clip * 1e6 + batch.starts[0] * 1e3 + 5 - 1) / 2);
});

test('whole clips come in index order with their full length', async () => {
  const got = [];
  for await (const c of wholeClips(index)) got.push([c.name, c.data.length / DIM, c.data[DIM * 2 + 3]]);
  assert.equal(
    got.map((g) => g[1]),
    lengths
  );
  assert.is(got[3][2], 3e6 + 2e3 + 3);
});

test('a window longer than every clip is a clear error', async () => {
  assert.is(
    await errorOf(() => new WindowLoader(index, { batchSize: 1, window: 400, seed: 0 })),
    "no clip in split 'train' has the 400 frames a window needs (6 clips indexed)"
  );
});

test('synthetic motion helper keeps the layout (272 channels per frame)', () => {
  assert.is(syntheticMotion({ name: 'x', frames: 3 }).length, 3 * DIM);
});

test.run();
