// Residual VQ (MoMask) against an independent PyTorch implementation (scripts/reference/rvq.py): from the same
// weights and input, the eval forward (codes per layer, reconstruction), the decode of given codes, and one training
// step with every layer and one with the layers quantizer dropout left (loss, commitment averaged over the layers
// used, layer-0 usage, the AdamW update and every layer's EMA codebook update and dead-code reset). Then the
// dropout rule itself, and what the rest of the toolkit does with (T', Q) codes: encode writes them, the
// text-to-motion dataset refuses them with a sentence.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { readNpz, writeNpz } from '../ts/data/npz.js';
import type { NpyArray } from '../ts/data/npy.js';
import { native } from '../ts/native.js';
import { T2MDataset } from '../ts/t2m/dataset.js';
import { tokenizerModel, type TokenizerModelConfig } from '../ts/tokenizer/config.js';
import { EncodedCodes, encodeDataset } from '../ts/tokenizer/encode.js';
import { TokenizerModel, type StepResult } from '../ts/tokenizer/model.js';
import { device, errorOf, maxRelErr, relL2, tempDir } from './helpers.js';
import { runPython } from './python.js';

const Q = 3;
const CODES = 16;
const B = 2;
const T = 32; // 16 latent steps: 32 encoder outputs per layer, ≥ 16 codes, so a re-drawn code is an input row as is
const lr = 1e-3;
const optimizer = { lr, beta1: 0.9, beta2: 0.99, weightDecay: 0, eps: 1e-8 };
const stepOptions = { lr, velWeight: 0.5, commitBeta: 0.02, clip: 0, threads: 1 };
const config = (quantizerDropout: number): TokenizerModelConfig =>
  tokenizerModel.parse({ width: 32, depth: 2, quantizer: 'rvq', layers: Q, codes: CODES, quantizerDropout });
const motion = (phase: number) =>
  new Float32Array(B * T * 272).map((_, i) => Math.sin(i * 0.37 + phase) * 1.5 + Math.cos(i * 0.011));
const batch = (phase: number) => ({ data: motion(phase), shape: [B, T, 272] });
const floats = (t: { data: unknown }) => Float32Array.from(t.data as ArrayLike<number>);
type State = ReturnType<TokenizerModel['stateDict']>;

// A step's codebooks against the reference's: kept rows (count ≥ 1 after the EMA) equal, every re-drawn row one of
// the layer's inputs; layers the step did not use unchanged.
function checkQuantizerState(after: State, before: State, ref: Record<string, NpyArray>, prefix: string, used: number) {
  const W = 32;
  for (let l = 0; l < Q; l++) {
    const name = (b: string) => `quantizer.layers.${l}.${b}`;
    if (l >= used) {
      for (const b of ['codebook', 'code_sum', 'code_count'])
        assert.equal(floats(after[name(b)]), floats(before[name(b)]), `${name(b)}: unused, unchanged`);
      continue;
    }
    for (const b of ['code_sum', 'code_count']) {
      const e = maxRelErr(floats(after[name(b)]), ref[`${prefix}after.${name(b)}`].data as Float32Array);
      assert.ok(e < 1e-5, `${name(b)}: EMA relative error ${e}`);
    }
    const kept = ref[`${prefix}kept.${l}`].data as Uint8Array;
    const input = ref[`${prefix}input.${l}`].data as Float32Array;
    const book = floats(after[name('codebook')]);
    const refBook = ref[`${prefix}after.${name('codebook')}`].data as Float32Array;
    let redrawn = 0;
    for (let k = 0; k < CODES; k++) {
      const row = book.subarray(k * W, (k + 1) * W);
      if (kept[k]) {
        const e = maxRelErr(row, refBook.subarray(k * W, (k + 1) * W));
        assert.ok(e < 1e-5, `${name('codebook')} row ${k}: relative error ${e}`);
      } else {
        redrawn++;
        let best = Infinity;
        for (let n = 0; n < input.length / W; n++)
          best = Math.min(best, maxRelErr(row, input.subarray(n * W, (n + 1) * W)));
        assert.ok(best < 1e-5, `${name('codebook')} row ${k} (dead) is one of the layer's inputs (closest ${best})`);
      }
    }
    if (prefix === 'full.' && l === 0)
      assert.ok(redrawn > 0 && redrawn < CODES, `layer 0 re-draws some codes and keeps others (${redrawn})`);
  }
}

function checkStep(
  step: StepResult,
  after: State,
  before: State,
  ref: Record<string, NpyArray>,
  prefix: string,
  used: number
) {
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `${what}: ${a} vs ${b}`);
  close(step.loss, ref[`${prefix}loss`].data[0] as number, `${prefix}loss`);
  close(
    step.commitment,
    ref[`${prefix}commitment`].data[0] as number,
    `${prefix}commitment (mean over the ${used} layers used)`
  );
  close(step.perplexity, ref[`${prefix}perplexity`].data[0] as number, `${prefix}perplexity (layer 0)`);
  assert.is(step.codesUsed, Number(ref[`${prefix}codesUsed`].data[0]), `${prefix}codesUsed (layer 0)`);
  assert.is(step.layersUsed, used);
  for (const [name, t] of Object.entries(after)) {
    if (name.startsWith('quantizer.')) continue;
    const e = relL2(floats(t), ref[`${prefix}after.${name}`].data as Float32Array);
    assert.ok(e < 1e-5, `${prefix}${name}: relative error ${e} after one AdamW step`);
  }
  assert.ok(
    maxRelErr(floats(after['encoder.model.0.weight']), floats(before['encoder.model.0.weight'])) > 1e-4,
    'the step moved the weights'
  );
  checkQuantizerState(after, before, ref, prefix, used);
}

test('RVQ tokenizer: forward, decode, a training step and a dropout step match PyTorch', async () => {
  const dir = tempDir('tm-golden-rvq-');
  // Codebooks from a first training step on another batch (initialised from its encodings, then one EMA update, so
  // some counts are below 1 and those codes are re-drawn by the compared step); the compared models start from these
  // weights with a fresh optimiser, as the reference does.
  const warm = new TokenizerModel(config(0), { seed: 3, device, optimizer });
  await warm.step(batch(1.3), stepOptions);
  const weights = warm.stateDict();
  const floatWeights = Object.fromEntries(
    Object.entries(weights)
      .filter(([, t]) => t.data instanceof Float32Array)
      .map(([k, t]) => [k, { data: t.data as Float32Array, shape: t.shape }])
  );
  writeNpz(join(dir, 'weights.npz'), floatWeights);
  const x = batch(0);
  const given = Int32Array.from({ length: B * (T / 2) * Q }, (_, i) => (i * 7 + (i % 5)) % CODES);
  writeNpz(join(dir, 'input.npz'), {
    motion: { data: x.data, shape: x.shape },
    codes: { data: given, shape: [B, T / 2, Q] },
  });
  const fresh = (dropout: number, seed: number) => {
    const m = new TokenizerModel(config(dropout), { seed, device, optimizer });
    m.loadStateDict(weights);
    return m;
  };

  const model = fresh(0, 3);
  const { reconstruction, codes } = await model.reconstruct(x);
  const decoded = await model.decode({ data: given, shape: [B, T / 2, Q] });
  const full = await model.step(x, stepOptions);
  const fullAfter = model.stateDict();

  // Quantizer dropout with probability 1: the seed fixes the draw n ∈ [1, Q]; the first seed that draws n < Q.
  let drop: { step: StepResult; after: State } | undefined;
  for (let seed = 0; seed < 20 && !drop; seed++) {
    const m = fresh(1, seed);
    const step = await m.step(x, stepOptions);
    if (step.layersUsed! < Q) drop = { step, after: m.stateDict() };
  }
  assert.ok(drop, 'some seed draws fewer than Q layers');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ model: config(0), lr, velWeight: 0.5, commitBeta: 0.02, layersUsed: drop.step.layersUsed })
  );
  runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'rvq.py'), 'golden', dir]);
  const ref = readNpz(join(dir, 'reference.npz'));

  assert.equal(codes.shape, [B, T / 2, Q], "codes are (B, T', Q)");
  assert.equal(
    Array.from(codes.data as Int32Array),
    Array.from(ref['eval.codes'].data as Int32Array),
    'codes of every layer are equal'
  );
  assert.ok(
    new Set(Array.from(codes.data as Int32Array).filter((_, i) => i % Q === Q - 1)).size > 1,
    'the last layer uses several codes'
  );
  assert.ok(
    maxRelErr(floats(reconstruction), ref['eval.reconstruction'].data as Float32Array) < 1e-5,
    'reconstruction (max-abs relative)'
  );
  assert.ok(
    maxRelErr(floats(decoded), ref['eval.decode'].data as Float32Array) < 1e-5,
    "decode of given (B, T', Q) codes"
  );
  assert.equal(
    Array.from(ref['full.codes'].data as Int32Array),
    Array.from(codes.data as Int32Array),
    'training codes = eval codes'
  );

  checkStep(full, fullAfter, weights, ref, 'full.', Q);
  checkStep(drop.step, drop.after, weights, ref, 'drop.', drop.step.layersUsed!);
  const dropCodes = ref['drop.codes'].data as Int32Array;
  assert.ok(
    Array.from(dropCodes).every((c, i) => (i % Q < drop!.step.layersUsed! ? c >= 0 : c === -1)),
    'left-out layers have code −1'
  );
});

test('quantizer dropout: probability 0 uses every layer; the seed fixes the draws; n covers [1, Q]', async () => {
  const draws = async (dropout: number, seed: number, steps: number) => {
    const m = new TokenizerModel({ ...config(dropout), width: 16, depth: 1 }, { seed, device, optimizer });
    const out: number[] = [];
    for (let i = 0; i < steps; i++)
      out.push((await m.step({ data: motion(i).subarray(0, 16 * 272), shape: [1, 16, 272] }, stepOptions)).layersUsed!);
    return out;
  };
  assert.equal(await draws(0, 1, 8), new Array(8).fill(Q));
  const a = await draws(0.5, 7, 30);
  assert.equal(await draws(0.5, 7, 30), a, 'the same seed, the same draws');
  assert.ok(a.includes(Q) && a.some((n) => n < Q), `some batches drop layers, some do not: ${a}`);
  assert.equal(
    [...new Set(await draws(1, 2, 30))].sort(),
    [1, 2, 3],
    'with probability 1, n takes every value of [1, Q]'
  );
});

test('RVQ decode checks its codes; an unknown quantizer is refused naming the list', async () => {
  const model = new TokenizerModel(config(0.2), { device });
  assert.match(
    await errorOf(() => model.decode({ data: new Int32Array(4), shape: [1, 4] })),
    /codes: expected shape \[B, T', 3\]/
  );
  assert.is(
    await errorOf(() => model.decode({ data: new Int32Array(6).fill(CODES), shape: [1, 2, 3] })),
    'codes: every code must lie in [0, 16)'
  );
  const options = { ...config(0.2), ...optimizer, seed: 0, device, quantizer: 'pq' };
  assert.match(
    await errorOf(() => new (native().Tokenizer)(options as never)),
    /quantizer 'pq' is not one of fsq, vq, rvq/
  );
  const { layers: _layers, ...noLayers } = { ...config(0.2), ...optimizer, seed: 0, device };
  assert.match(await errorOf(() => new (native().Tokenizer)(noLayers as never)), /option 'layers' is missing/);
});

test("tokenizer encode writes (T', Q) codes; the text-to-motion dataset refuses them with a sentence", async () => {
  const work = tempDir('tm-rvq-encode-');
  const root = join(work, 'data');
  writeSyntheticDataset(root, 6, 2);
  const model = new TokenizerModel(
    tokenizerModel.parse({ width: 16, depth: 1, quantizer: 'rvq', layers: 2, codes: 8 }),
    { device }
  );
  const out = join(work, 'codes');
  const index = await encodeDataset(model, root, out, { split: 'all', checkpoint: 'none', log: () => {} });
  assert.is(index.layers, 2);
  const encoded = new EncodedCodes(out);
  const first = encoded.codes(0);
  assert.ok(
    first.length > 0 && first.length % 2 === 0 && first.every((c) => c >= 0 && c < 8),
    "a clip's codes: (T', 2) in [0, 8)"
  );
  assert.is(
    index.tokens * 2,
    Number(encoded.offsets[encoded.names.length]),
    'tokens count steps, offsets int32 values'
  );
  encoded.close();
  assert.is(
    await errorOf(() => new T2MDataset(out, root, 'train', 100)),
    `${out} holds residual-VQ codes (T', Q) from a tokenizer with quantizer rvq: the text-to-motion ` +
      `decoder reads one code per step ` +
      '(FSQ or VQ); train the tokenizer with quantizer fsq or vq for text-to-motion'
  );
});

test.run();
