// Golden tests of the text-to-motion decoder against an independent PyTorch script (scripts/reference/t2m.py), and
// KV-cache generation against generation without a cache.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz, writeNpz } from '../ts/data/npz.js';
import { Rng } from '../ts/rng.js';
import { countParameters, nativeOptions, t2mModel } from '../ts/t2m/config.js';
import { T2MModel } from '../ts/t2m/model.js';
import { device, tempDir } from './helpers.js';
import { runPython } from './python.js';

const rng = new Rng(11);
const B = 2;
const Lt = 4;
const textDim = 32;
const options = {
  vocab: 130,
  dim: 48,
  layers: 2,
  heads: 4,
  hidden: 128,
  textDim,
  maxLen: 64,
  ropeBase: 10000,
  textVocab: 0,
  textLayers: 1,
  textHeads: 1,
  textMaxLen: 1,
};
const text = new Float32Array(B * Lt * textDim).map(() => rng.uniform(-1, 1));
const lengths = new Int32Array([2, 4]);
const codes = new Int32Array([5, 17, 99, 128, 129, 129, 3, 3, 64, 120, 7, 128]);
const batch = {
  text: { data: text, shape: [B, Lt, textDim] },
  textLengths: { data: lengths, shape: [B] },
  codes: { data: codes, shape: [B, 6] },
};

test('logits and greedy tokens match the PyTorch reference; the KV cache changes nothing', async () => {
  const model = new T2MModel(options, { seed: 5, device });
  const dir = tempDir('tm-golden-t2m-');
  const state = model.stateDict();
  writeNpz(
    join(dir, 'weights.npz'),
    Object.fromEntries(Object.entries(state).map(([k, t]) => [k, { data: t.data as Float32Array, shape: t.shape }]))
  );
  writeNpz(join(dir, 'input.npz'), { text: batch.text, lengths: batch.textLengths, codes: batch.codes });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: options, maxTokens: 24 }));
  runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 't2m.py'), 'golden', dir]);
  const ref = readNpz(join(dir, 'reference.npz'));
  const logits = await model.logits(batch);
  assert.equal(logits.shape, [B, 6, 129]);
  let num = 0;
  let den = 0;
  for (let i = 0; i < logits.data.length; i++) {
    num = Math.max(num, Math.abs((logits.data[i] as number) - (ref.logits.data[i] as number)));
    den = Math.max(den, Math.abs(ref.logits.data[i] as number));
  }
  assert.ok(num / den < 1e-5, `relative logit error ${num / den}`);
  const prompt = { text: batch.text, textLengths: batch.textLengths };
  const cached = await model.generate(prompt, { maxTokens: 24, cache: true });
  const uncached = await model.generate(prompt, { maxTokens: 24, cache: false });
  assert.equal(
    Array.from(cached.tokens.data as Int32Array),
    Array.from(uncached.tokens.data as Int32Array),
    'cache = no cache'
  );
  assert.equal(
    Array.from(cached.tokens.data as Int32Array),
    Array.from(ref.tokens.data as Int32Array),
    'greedy tokens = reference'
  );
});

test(`held-out loss: the cross-entropy of the logits (computed here in float64), \
the loss a step reports, no update`, async () => {
  const model = new T2MModel(options, { seed: 7, device });
  const before = model.stateDict();
  const ev = await model.evaluate(batch);
  const logits = await model.logits(batch);
  const V = logits.shape[2];
  let sum = 0;
  let correct = 0;
  let n = 0;
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === options.vocab - 1) continue; // PAD is never a target
    const row = Array.from((logits.data as Float32Array).subarray(i * V, (i + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    sum += lse - row[codes[i]];
    if (row.indexOf(max) === codes[i]) correct++;
    n++;
  }
  assert.is(ev.tokens, n);
  assert.ok(Math.abs(ev.loss - sum / n) < 1e-5 * (sum / n), `evaluate ${ev.loss} vs ${sum / n}`);
  assert.is(ev.accuracy, correct / n);
  const after = model.stateDict();
  for (const k of Object.keys(before)) assert.equal(after[k].data, before[k].data, `${k} unchanged by evaluate`);
  const step = await model.step(batch, { lr: 1e-3, clip: 0, threads: 1 });
  assert.ok(Math.abs(step.loss - ev.loss) < 1e-6 * ev.loss, `step ${step.loss} vs evaluate ${ev.loss}`);
});

test('sampled generation with a KV cache equals sampling without one for the same seed', async () => {
  const model = new T2MModel(options, { seed: 6, device });
  const prompt = { text: batch.text, textLengths: batch.textLengths };
  const o = { maxTokens: 30, temperature: 1.2, topK: 40, topP: 0.95, seed: 9 };
  const a = await model.generate(prompt, { ...o, cache: true });
  const b = await model.generate(prompt, { ...o, cache: false });
  assert.equal(Array.from(a.tokens.data as Int32Array), Array.from(b.tokens.data as Int32Array));
  // One prompt: cached steps take the matrix-vector path, the uncached ones matrix products.
  const one = {
    text: { data: text.slice(0, Lt * textDim), shape: [1, Lt, textDim] },
    textLengths: { data: new Int32Array([2]), shape: [1] },
  };
  const p = await model.generate(one, { ...o, cache: true });
  const q = await model.generate(one, { ...o, cache: false });
  assert.equal(Array.from(p.tokens.data as Int32Array), Array.from(q.tokens.data as Int32Array));
  const c = await model.generate(prompt, { ...o, seed: 10 });
  assert.not.equal(
    Array.from(a.tokens.data as Int32Array),
    Array.from(c.tokens.data as Int32Array),
    'another seed, other tokens'
  );
});

test(`parameter counts: 44M and 111M with vocabulary 64,002 and text width 2048 are the \
reference 93.9M and 184.8M`, () => {
  const o44 = nativeOptions(t2mModel.parse({ preset: '44M', text: 'embeddings' }), 64000, 0);
  assert.is(countParameters(o44).total, 93858304);
  assert.is(
    new T2MModel(o44).parameterTable().reduce((s, r) => s + r.count, 0),
    93858304
  );
  assert.is(
    countParameters(nativeOptions(t2mModel.parse({ preset: '111M', text: 'embeddings' }), 64000, 0)).total,
    184833792
  );
  const tiny = nativeOptions(t2mModel.parse({ preset: 'tiny' }), 125, 40);
  assert.is(
    new T2MModel(tiny).parameterTable().reduce((s, r) => s + r.count, 0),
    countParameters(tiny).total
  );
});

test('invalid batches are JS errors naming the tensor and the fix', async () => {
  const model = new T2MModel(options, { device });
  const bad = { ...batch, codes: { data: new Int32Array([0, 1, 200, 3, 4, 5, 0, 1, 2, 3, 4, 5]), shape: [B, 6] } };
  try {
    await model.step(bad, { lr: 1e-3 });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'codes: every token must lie in [0, 130) (codes, END = 128, PAD = 129)');
  }
  try {
    await model.logits({ ...batch, textLengths: { data: new Int32Array([0, 4]), shape: [B] } });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'textLengths: every length must lie in [1, 4] (captions are left-padded to Lt)');
  }
});

test.run();
