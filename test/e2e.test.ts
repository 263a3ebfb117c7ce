// End to end on real mocap: tokenizer → encode → text-to-motion → generate. Trained on the bundled walks and the kick
// (mirrored copies included), the model must make "a person walks forward" travel forward far more than
// "a person kicks with the right leg". Small models, a few hundred steps: minutes on two cores.
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildDemoDataset } from '../ts/data/demo.js';
import { pelvisTravel } from '../ts/pipeline.js';
import { generateMotions } from '../ts/t2m/generate.js';
import { trainT2M } from '../ts/t2m/train.js';
import { encodeDataset } from '../ts/tokenizer/encode.js';
import { loadTokenizer } from '../ts/tokenizer/model.js';
import { trainTokenizer } from '../ts/tokenizer/train.js';
import { device, tempDir } from './helpers.js';

test('"walks forward" moves the pelvis forward far more than "kicks with the right leg"', async () => {
  const bundled = join(import.meta.dirname, '..', 'data', 'bandai-namco-1', 'data');
  const src = tempDir('tm-e2e-src-');
  for (const f of readdirSync(bundled).filter((x) => /_(walk|kick)_.*\.bvh$/.test(x)))
    copyFileSync(join(bundled, f), join(src, f));
  const work = tempDir('tm-e2e-');
  const root = join(work, 'data');
  buildDemoDataset(root, { source: src });
  const quiet = () => {};
  const tok = await trainTokenizer(
    {
      preset: 'small',
      data: { root, split: 'all' },
      train: { steps: 400, batch: 16, window: 64, lr: 1e-3, warmup: 40, seed: 1, device },
    },
    { out: join(work, 'tok'), log: quiet }
  );
  const { model } = await loadTokenizer(tok.checkpoint, device);
  await encodeDataset(model, root, join(work, 'codes'), { split: 'all', checkpoint: tok.checkpoint, log: quiet });
  await trainT2M(
    {
      model: { preset: 'tiny' },
      data: { root, codes: join(work, 'codes'), split: 'all' },
      train: { steps: 500, batch: 8, lr: 2e-3, warmup: 50, condDrop: 0, seed: 1, device },
    },
    { out: join(work, 't2m'), log: quiet }
  );
  const [walk, kick] = await generateMotions({
    ckpt: join(work, 't2m'),
    texts: ['a person walks forward', 'a person kicks with the right leg'],
    seconds: 4,
    device,
  });
  const w = pelvisTravel(walk);
  const k = pelvisTravel(kick);
  console.log(
    `walk: ${walk.frames} frames, pelvis forward ${w.forward.toFixed(2)} m; kick: ${kick.frames} frames, ` +
      `${k.forward.toFixed(2)} m`
  );
  assert.ok(
    walk.frames >= 30 && kick.frames >= 30,
    `both prompts produce motion (${walk.frames}, ${kick.frames} frames)`
  );
  assert.ok(w.forward > 1.0, `the walk moves forward: ${w.forward.toFixed(2)} m`);
  assert.ok(
    w.forward > 3 * Math.max(0.1, Math.abs(k.forward)),
    `walk ${w.forward.toFixed(2)} m vs kick ${k.forward.toFixed(2)} m`
  );
});

test.run();
