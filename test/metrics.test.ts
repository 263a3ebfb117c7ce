// The text-to-motion metrics against an independent NumPy/SciPy implementation (scripts/reference/metrics.py) on the
// same embeddings and the same random draws, and the properties a protocol relies on.
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz, writeNpz } from '../ts/data/npz.js';
import * as metrics from '../ts/evaluator/metrics.js';
import { retrievalScores, type Recall } from '../ts/evaluator/retrieval.js';
import { Rng } from '../ts/rng.js';
import { tempDir } from './helpers.js';
import { runPython } from './python.js';

const D = 16;
const gaussian = (rng: Rng, n: number, shift = 0, scale = 1) =>
  Float64Array.from(
    { length: n * D },
    (_, i) =>
      shift * (i % D === 0 ? 1 : 0) +
      scale * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
  );

test('R-precision, MM-Dist, FID, Diversity and MultiModality equal the NumPy/SciPy reference', async () => {
  const rng = new Rng(11);
  // 70 pairs (two batches of 32 and 6 left out): captions near their motions, so R-precision is far from chance.
  const motion = gaussian(rng, 70);
  const text = Float64Array.from(motion, (x) => x + 0.8 * (rng.next() - 0.5));
  const real = gaussian(rng, 200);
  const generated = gaussian(rng, 150, 0.7, 1.3);
  const generations = gaussian(rng, 12 * 20);
  const draws = new Rng(5);
  const divFirst = metrics.sampleWithoutReplacement(draws, 70, 50);
  const divSecond = metrics.sampleWithoutReplacement(draws, 70, 50);
  const mmFirst = metrics.sampleWithoutReplacement(draws, 20, 10);
  const mmSecond = metrics.sampleWithoutReplacement(draws, 20, 10);
  const dir = tempDir('tm-metrics-');
  const m = (data: Float64Array) => ({ data, shape: [data.length / D, D] });
  writeNpz(join(dir, 'input.npz'), {
    text: m(text),
    motion: m(motion),
    real: m(real),
    generated: m(generated),
    generations: m(generations),
    div_first: { data: divFirst, shape: [50] },
    div_second: { data: divSecond, shape: [50] },
    mm_first: { data: mmFirst, shape: [10] },
    mm_second: { data: mmSecond, shape: [10] },
    batch: { data: new Int32Array([32]), shape: [] },
    per_caption: { data: new Int32Array([20]), shape: [] },
  });
  runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'metrics.py'), 'golden', dir]);
  const ref = readNpz(join(dir, 'reference.npz'));
  const value = (k: string) => ref[k].data[0] as number;
  const [t, mo] = [metrics.embeddings(text, D), metrics.embeddings(motion, D)];
  const r = metrics.rPrecision(t, mo, 32);
  assert.equal([r.batch, r.pairs], [32, 64]);
  assert.equal(r.top, Array.from(ref.r_precision.data as Float64Array));
  assert.ok(r.top[0] > 3 / 32, `top-1 ${r.top[0]} is above chance`);
  assert.ok(Math.abs(metrics.mmDist(t, mo) - value('mm_dist')) < 1e-12);
  const f = await metrics.fid(metrics.embeddings(real, D), metrics.embeddings(generated, D));
  assert.ok(Math.abs(f - value('fid')) < 1e-8 * Math.max(1, value('fid')), `FID ${f} vs scipy ${value('fid')}`);
  assert.ok(
    Math.abs(await metrics.fid(metrics.embeddings(real, D), metrics.embeddings(real, D))) < 1e-9 &&
      Math.abs(value('fid_same')) < 1e-9,
    'FID of a set with itself is 0'
  );
  // The same draws as the reference: the functions draw first then second from the Rng they are given.
  assert.ok(Math.abs(metrics.diversity(mo, new Rng(5), 50) - value('diversity')) < 1e-12);
  const mmRng = new Rng(5);
  metrics.sampleWithoutReplacement(mmRng, 70, 50);
  metrics.sampleWithoutReplacement(mmRng, 70, 50);
  assert.ok(
    Math.abs(metrics.multimodality(metrics.embeddings(generations, D), 20, mmRng, 10) - value('multimodality')) < 1e-12
  );
  // The evaluator's own retrieval: recall@1/2/3/5/10 and median rank, text→motion then motion→text.
  const flat = (s: { textToMotion: Recall; motionToText: Recall }) =>
    [s.textToMotion, s.motionToText].flatMap((x) => [x.r1, x.r2, x.r3, x.r5, x.r10, x.medianRank]);
  const all = retrievalScores(t, mo);
  const batched = retrievalScores(t, mo, 32);
  assert.equal([all.pairs, all.batch, batched.pairs, batched.batch], [70, 70, 64, 32]);
  assert.equal(flat(all), Array.from(ref.retrieval_all.data as Float64Array));
  assert.equal(flat(batched), Array.from(ref.retrieval_batch.data as Float64Array));
  assert.equal(batched.textToMotion.r1, r.top[0], 'R@1 in batches of 32 is top-1 R-precision');
});

test(`shuffled captions sit at chance; fewer pairs than a batch use one batch of all; \
the interval is 1.96·std/√n`, () => {
  const rng = new Rng(3);
  const motion = metrics.embeddings(gaussian(rng, 32 * 40), D);
  const text = metrics.embeddings(gaussian(rng, 32 * 40), D);
  const r = metrics.rPrecision(text, motion, 32);
  assert.ok(Math.abs(r.top[0] - 1 / 32) < 0.02 && Math.abs(r.top[2] - 3 / 32) < 0.03, `unrelated pairs: ${r.top}`);
  assert.is(
    metrics.rPrecision(metrics.embeddings(gaussian(rng, 10), D), metrics.embeddings(gaussian(rng, 10), D), 32).batch,
    10
  );
  const ci = metrics.meanInterval([1, 2, 3, 4]);
  assert.is(ci.mean, 2.5);
  assert.ok(Math.abs(ci.interval - (1.96 * Math.sqrt(1.25)) / 2) < 1e-12);
});

test.run();
