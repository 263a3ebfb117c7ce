import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { trainT2M } from '../ts/t2m/train.js';
import { Vocabulary, padCaptions } from '../ts/t2m/vocab.js';
import { encodeDataset } from '../ts/tokenizer/encode.js';
import { loadTokenizer } from '../ts/tokenizer/model.js';
import { trainTokenizer } from '../ts/tokenizer/train.js';
import { MetricsLog } from '../ts/train/metrics.js';
import { device, tempDir } from './helpers.js';

const work = tempDir('tm-t2m-train-');
const root = join(work, 'data');
writeSyntheticDataset(root, 12, 4);
const quiet = () => {};

test(`text-to-motion losses after a resume equal an uninterrupted run bit for bit (one thread, \
accumulation 2)`, async () => {
  const tok = await trainTokenizer(
    { preset: 'tiny', data: { root }, train: { steps: 3, batch: 2, window: 32, threads: 1, device } },
    { out: join(work, 'tok'), log: quiet }
  );
  const { model } = await loadTokenizer(tok.checkpoint, device);
  await encodeDataset(model, root, join(work, 'codes'), { split: 'all', checkpoint: tok.checkpoint, log: quiet });
  const config = {
    model: { preset: 'tiny' as const },
    data: { root, codes: join(work, 'codes') },
    train: { steps: 8, batch: 3, accumulate: 2, lr: 3e-3, warmup: 2, checkpointEvery: 3, threads: 1, device },
  };
  const full = await trainT2M(config, { out: join(work, 'full'), log: quiet });
  const cut = await trainT2M(config, { out: join(work, 'cut'), log: quiet, stopAfter: 4 });
  assert.equal([cut.steps, cut.interrupted], [4, true]);
  // A checkpoint from before model.ropeBase was a setting (its state.json lacks it) resumes the same.
  const state = join(cut.checkpoint, 'state.json');
  const saved = JSON.parse(readFileSync(state, 'utf8'));
  assert.is(saved.native.ropeBase, 10000);
  delete saved.native.ropeBase;
  writeFileSync(state, JSON.stringify(saved));
  const resumed = await trainT2M(config, { out: join(work, 'cut'), log: quiet, resume: true });
  assert.is(resumed.steps, 8);
  const a = MetricsLog.read(full.metrics).map((m) => m.loss);
  assert.is(a.length, 8);
  assert.equal(
    MetricsLog.read(resumed.metrics).map((m) => m.loss),
    a
  );
  // Held-out evaluation every 3 steps (and at the end) leaves training as it was, bit for bit.
  const evaluated = await trainT2M(
    { ...config, train: { ...config.train, evalEvery: 3, evalSamples: 5 } },
    { out: join(work, 'eval'), log: quiet }
  );
  const rows = MetricsLog.read(evaluated.metrics) as Array<Record<string, number | string>>;
  assert.equal(
    rows.filter((r) => r.kind === undefined).map((r) => r.loss),
    a
  );
  const evals = rows.filter((r) => r.kind === 'eval');
  assert.equal(
    evals.map((r) => r.step),
    [2, 5, 7]
  );
  for (const e of evals)
    assert.ok(
      Number(e.loss) > 0 && Number(e.accuracy) >= 0 && Number(e.accuracy) <= 1 && e.samples === 2,
      JSON.stringify(e)
    ); // the val split's 2 pairs
});

test('activation recompute trains the same model: losses of 4 steps agree within 1e-6 (relative)', async () => {
  const config = (recompute: boolean) => ({
    model: { preset: 'tiny' as const },
    data: { root, codes: join(work, 'codes') },
    train: { steps: 4, batch: 3, lr: 3e-3, warmup: 1, checkpointEvery: 4, threads: 1, device, recompute },
  });
  const plain = await trainT2M(config(false), { out: join(work, 'plain'), log: quiet });
  const again = await trainT2M(config(true), { out: join(work, 'recompute'), log: quiet });
  const a = MetricsLog.read(plain.metrics).map((m) => m.loss);
  const b = MetricsLog.read(again.metrics).map((m) => m.loss);
  assert.is(b.length, 4);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-6 * Math.abs(x), `step ${i}: ${x} vs ${b[i]}`));
  assert.ok(a[3] !== a[0], 'the steps trained');
});

test('captions: vocabulary by frequency, BOS first, unknown words, left padding', () => {
  const v = Vocabulary.build(['a person walks', 'a person runs', 'A man walks!']);
  assert.equal(v.words, ['a', 'person', 'walks', 'man', 'runs']);
  assert.equal(v.encode('a person jumps', 10), [1, 3, 4, 2]);
  assert.equal(v.encode('', 10), [1]);
  const p = padCaptions([
    [1, 3],
    [1, 3, 4, 5],
  ]);
  assert.equal([Array.from(p.ids), Array.from(p.lengths), p.slots], [[0, 0, 1, 3, 1, 3, 4, 5], [2, 4], 4]);
});

test.run();
