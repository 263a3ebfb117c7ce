// The retrieval evaluator against an independent PyTorch script (scripts/reference/evaluator.py): embeddings of
// both sides, the InfoNCE loss with excluded negatives, the gradient norm and every weight after one AdamW step;
// the near-duplicate rule; and the trainer's exact resume on a synthetic dataset.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz, writeNpz } from '../ts/data/npz.js';
import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { contentWords, duplicateMask, jaccard } from '../ts/evaluator/duplicates.js';
import { EvaluatorModel, loadEvaluator } from '../ts/evaluator/model.js';
import { trainEvaluator } from '../ts/evaluator/train.js';
import type { EvaluatorShape } from '../ts/native.js';
import { Rng } from '../ts/rng.js';
import { requireCheckpoint } from '../ts/train/checkpoint.js';
import { MetricsLog } from '../ts/train/metrics.js';
import { device, relL2, tempDir } from './helpers.js';
import { runPython } from './python.js';

const rng = new Rng(21);
const B = 4;
const T = 20;
const motionLengths = new Int32Array([20, 13, 7, 16]);
const motion = Float32Array.from({ length: B * T * 272 }, () => rng.uniform(-1.5, 1.5));
const exclude = new Uint8Array(B * B);
exclude[0 * B + 2] = exclude[2 * B + 0] = 1; // clips 0 and 2 have near-duplicate captions
// eps 1e-3: AdamW's first step is lr·g/(|g| + eps), whose slope at g ≈ 0 is lr/eps. The attention's key bias gets
// a zero gradient in exact arithmetic (softmax ignores a shift shared by all keys), and with a tiny eps float
// rounding there would become a full-size step in either direction, different in each implementation.
const step = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-3, weightDecay: 0.01, clip: 0.05, temperature: 0.1 };

async function checkAgainstReference(
  shape: EvaluatorShape,
  text: { data: Int32Array | Float32Array; shape: number[] },
  textLengths: Int32Array
) {
  const model = new EvaluatorModel(shape, { seed: 3, device, optimizer: step });
  const dir = tempDir('tm-golden-evaluator-');
  const state = model.stateDict();
  writeNpz(
    join(dir, 'weights.npz'),
    Object.fromEntries(Object.entries(state).map(([k, t]) => [k, { data: t.data as Float32Array, shape: t.shape }]))
  );
  const batch = {
    text,
    textLengths: { data: textLengths, shape: [B] },
    motion: { data: motion, shape: [B, T, 272] },
    motionLengths: { data: motionLengths, shape: [B] },
    exclude: { data: exclude, shape: [B, B] },
  };
  writeNpz(join(dir, 'input.npz'), {
    text,
    textLengths: batch.textLengths,
    motion: batch.motion,
    motionLengths: batch.motionLengths,
    exclude: batch.exclude,
  });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: shape, step }));
  runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'evaluator.py'), 'golden', dir]);
  const ref = readNpz(join(dir, 'reference.npz'));
  const t = await model.embedText(batch);
  const m = await model.embedMotion(batch);
  assert.ok(
    relL2(t.data, ref.textEmbedding.data as Float32Array) < 1e-5,
    `text embeddings: ${relL2(t.data, ref.textEmbedding.data as Float32Array)}`
  );
  assert.ok(
    relL2(m.data, ref.motionEmbedding.data as Float32Array) < 1e-5,
    `motion embeddings: ${relL2(m.data, ref.motionEmbedding.data as Float32Array)}`
  );
  const r = await model.step(batch, { lr: step.lr, clip: step.clip, temperature: step.temperature, seed: 0 });
  const loss = ref.loss.data[0] as number;
  const norm = ref.gradNorm.data[0] as number;
  assert.ok(Math.abs(r.loss - loss) < 1e-5 * Math.abs(loss), `loss ${r.loss} vs ${loss}`);
  assert.ok(Math.abs(r.gradNorm - norm) < 1e-4 * norm, `gradient norm ${r.gradNorm} vs ${norm}`);
  assert.ok(norm > step.clip, 'the step clips');
  const after = model.stateDict();
  // AdamW's first step moves each weight by about lr·g/(|g| + eps): compared in units of that step.
  for (const [k, v] of Object.entries(after)) {
    const r = ref[`after.${k}`].data as Float32Array;
    let worst = 0;
    (v.data as Float32Array).forEach((x, i) => {
      worst = Math.max(worst, Math.abs(x - r[i]));
    });
    assert.ok(
      worst < 1e-3 * step.lr,
      `${k} after one AdamW step: off by ${(worst / step.lr).toExponential(2)} of a step`
    );
  }
}

const small = {
  motionDim: 272,
  maxFrames: T,
  maxWords: 8,
  latent: 16,
  motionLayers: 2,
  textLayers: 1,
  heads: 2,
  ff: 24,
  dropout: 0,
};

test(`built-in text side: embeddings, InfoNCE with excluded negatives and one AdamW step equal \
the PyTorch reference`, async () => {
  const ids = Int32Array.from({ length: B * 8 }, () => 1 + rng.int(29));
  await checkAgainstReference(
    { ...small, textVocab: 30, textDim: 12 },
    { data: ids, shape: [B, 8] },
    new Int32Array([5, 3, 8, 1])
  );
});

test('cached-embedding text side: the same against the reference', async () => {
  const emb = Float32Array.from({ length: B * 6 * 10 }, () => rng.uniform(-1, 1));
  await checkAgainstReference(
    { ...small, textVocab: 0, textDim: 10 },
    { data: emb, shape: [B, 6, 10] },
    new Int32Array([6, 2, 4, 5])
  );
});

test('dropout draws from the step seed: the same seed repeats a step, another seed changes it', async () => {
  const shape = { ...small, dropout: 0.3, textVocab: 30, textDim: 12 };
  const ids = Int32Array.from({ length: B * 8 }, () => 1 + rng.int(29));
  const batch = {
    text: { data: ids, shape: [B, 8] },
    textLengths: { data: new Int32Array([5, 3, 8, 1]), shape: [B] },
    motion: { data: motion, shape: [B, T, 272] },
    motionLengths: { data: motionLengths, shape: [B] },
    exclude: { data: exclude, shape: [B, B] },
  };
  const losses = [];
  for (const seed of [7, 7, 8])
    losses.push((await new EvaluatorModel(shape, { seed: 1, device }).step(batch, { lr: 1e-3, seed })).loss);
  assert.is(losses[0], losses[1]);
  assert.not.equal(losses[0], losses[2]);
});

test('near duplicates: the same clip, or content words overlapping at the threshold', () => {
  assert.equal([...contentWords('A man walks forward happily.')], ['walks', 'forward', 'happily']);
  assert.is(jaccard(contentWords('a man walks forward happily'), contentWords('a person walks forward happily')), 1);
  assert.is(
    jaccard(contentWords('a person walks forward happily'), contentWords('someone walks straight ahead with joy')),
    1 / 6
  );
  const mask = duplicateMask(
    ['a man walks forward happily', 'the person walks forward happily', 'someone bows', 'someone bows politely'],
    [0, 1, 2, 2],
    0.8
  );
  assert.equal(Array.from(mask), [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0]);
});

test('training resumes exactly: 6 steps in one go equal 3 + 3 after a restart; held-out recall is logged', async () => {
  const root = join(tempDir('tm-ev-data-'), 'data');
  writeSyntheticDataset(root, 30, 4);
  const config = {
    model: { preset: 'small', maxFrames: 64, dropout: 0.1 } as const,
    data: { root },
    train: { steps: 6, batch: 8, lr: 1e-3, warmup: 2, evalEvery: 3, checkpointEvery: 100, device },
  };
  const quiet = () => {};
  const once = join(tempDir('tm-ev-once-'), 'run');
  await trainEvaluator(config, { out: once, log: quiet });
  const twice = join(tempDir('tm-ev-twice-'), 'run');
  const first = await trainEvaluator(config, { out: twice, log: quiet, stopAfter: 3 });
  assert.ok(first.interrupted);
  await trainEvaluator(config, { out: twice, log: quiet, resume: true });
  const a = await loadEvaluator(requireCheckpoint(once));
  const b = await loadEvaluator(requireCheckpoint(twice));
  const sa = a.model.stateDict();
  const sb = b.model.stateDict();
  for (const k of Object.keys(sa))
    assert.equal(Array.from(sa[k].data as Float32Array), Array.from(sb[k].data as Float32Array), k);
  const rows = MetricsLog.read(join(twice, 'metrics.jsonl'));
  const losses = (r: Array<Record<string, number>>) => r.filter((x) => x.kind === undefined).map((x) => x.loss);
  assert.equal(losses(rows), losses(MetricsLog.read(join(once, 'metrics.jsonl'))));
  const evals = rows.filter((x) => (x.kind as unknown) === 'eval');
  assert.equal(
    evals.map((e) => e.step),
    [2, 5]
  );
  assert.ok(
    evals.every((e) => e.pairs === 6 && e.r1 >= 0 && e.r1 <= 1 && e.medianRank >= 1),
    JSON.stringify(evals)
  );
});

test.run();
