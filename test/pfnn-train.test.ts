// `pfnn train` and `pfnn export` on a database exported from the demo data: the held-out split takes whole clips with
// their mirrored twins, an interrupted run resumes exactly, and the runtime files (50 pre-evaluated phases) evaluated
// in a plain implementation give the native network's outputs at those phases.
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildPfnnDatabase } from '../ts/pfnn/database-build.js';
import { mirrorSource } from '../ts/data/layout.js';
import { writePfnnRuntime, readPfnnRuntime, readPhaseWeights } from '../ts/pfnn/runtime-files.js';
import { readPfnnDatabase, splitByClip } from '../ts/pfnn/database.js';
import { loadPfnn } from '../ts/pfnn/model.js';
import { forward } from '../ts/pfnn/runtime.js';
import { rowsBatch, trainPfnn } from '../ts/pfnn/train.js';
import { plotRuns } from '../ts/plot/plot.js';
import { requireCheckpoint } from '../ts/train/checkpoint.js';
import { maxRelErr, tempDir } from './helpers.js';

const dir = tempDir('tm-pfnn-train-');
const db = join(dir, 'db');
buildPfnnDatabase(join(import.meta.dirname, '..', 'data', 'demo'), 'train', db);
const config = (steps: number) => ({
  data: { root: db },
  model: { hidden: 32 },
  train: { steps, batch: 16, checkpointEvery: 4, logEvery: 1, evalEvery: 3, evalRows: 256, threads: 1 },
});
const quiet = () => {};

test('the held-out split takes whole clips, each with its mirrored twin, and no row of them trains', () => {
  const database = readPfnnDatabase(db);
  const { train, heldOut, heldOutClips } = splitByClip(database, 0.1);
  assert.ok(heldOutClips.length > 0 && heldOut.length > 0);
  assert.is(train.length + heldOut.length, database.rows);
  const held = new Set(heldOutClips);
  assert.ok(
    Array.from(train).every((r) => !held.has(database.clips[database.clipOf[r]].name)),
    'no training row comes from a held-out clip'
  );
  const names = new Set(database.clips.map((c) => c.name));
  for (const name of heldOutClips) {
    const twin = database.clips.find(
      (c) => c.name !== name && (mirrorSource(c.name, names) === name || mirrorSource(name, names) === c.name)
    );
    if (twin) assert.ok(held.has(twin.name), `${name}'s mirror ${twin.name} is held out too`);
  }
});

test('an interrupted run resumes exactly (losses, held-out error and weights)', async () => {
  const whole = await trainPfnn(config(8), { out: join(dir, 'whole'), log: quiet });
  assert.is(whole.steps, 8);
  await trainPfnn(config(8), { out: join(dir, 'cut'), log: quiet, stopAfter: 5 });
  await trainPfnn(config(8), { out: join(dir, 'cut'), log: quiet, resume: true });
  const lines = (run: string) =>
    readFileSync(join(run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map(({ seconds: _s, rowsPerSecond: _r, ...rest }) => rest);
  const a = lines(join(dir, 'whole'));
  assert.ok(
    a.some((l) => l.kind === 'eval' && l.mse > 0),
    'held-out error logged'
  );
  assert.equal(lines(join(dir, 'cut')), a);
  const plot = await plotRuns([join(dir, 'whole')], join(dir, 'curves.svg'));
  assert.ok(plot.panels.includes('PFNN output MSE (normalised)'), `plot panels: ${plot.panels}`);
  const w1 = (await loadPfnn(requireCheckpoint(join(dir, 'whole')))).model.stateDict();
  const w2 = (await loadPfnn(requireCheckpoint(join(dir, 'cut')))).model.stateDict();
  for (const k of Object.keys(w1))
    assert.equal(Array.from(w2[k].data as Float32Array), Array.from(w1[k].data as Float32Array), k);
});

test(`the runtime export: 50 phases of raw float32 that, run in plain TypeScript, \
give the native outputs`, async () => {
  const out = join(dir, 'runtime');
  const info = await writePfnnRuntime(join(dir, 'whole'), out);
  assert.is(info.phases, 50);
  assert.is(statSync(join(out, 'W0_049.bin')).size, 4 * 32 * info.input);
  assert.is(statSync(join(out, 'b2_000.bin')).size, 4 * info.output);
  assert.ok(existsSync(join(out, 'cubic', 'W1_003.bin')) && !existsSync(join(out, 'cubic', 'W1_004.bin')));
  const rt = readPfnnRuntime(out);
  const database = readPfnnDatabase(db);
  const { model } = await loadPfnn(requireCheckpoint(join(dir, 'whole')));
  const rows = Int32Array.from({ length: 50 }, (_, i) => i * 37);
  const batch = rowsBatch(database, rows);
  batch.phase.data = Float32Array.from({ length: 50 }, (_, i) => i / 50);
  const native = (await model.forward(batch)).data as Float32Array;
  let worst = 0;
  for (let i = 0; i < 50; i++) {
    const y = forward(readPhaseWeights(out, rt.info, i), batch.x.data.subarray(i * info.input, (i + 1) * info.input));
    worst = Math.max(worst, maxRelErr(y, native.subarray(i * info.output, (i + 1) * info.output)));
  }
  assert.ok(worst < 1e-5, `plain forward at the 50 phases vs native: ${worst}`);
  assert.equal(Array.from(rt.stats.Xstd), Array.from(database.stats.Xstd), 'normalisation copied from the database');
});

test('a database exported before clip numbers existed is refused with how to fix it', async () => {
  const old = join(dir, 'old');
  buildPfnnDatabase(join(import.meta.dirname, '..', 'data', 'demo'), 'test', old);
  unlinkSync(join(old, 'clips.json'));
  try {
    readPfnnDatabase(old);
    assert.unreachable('refused');
  } catch (err) {
    assert.is(
      (err as Error).message,
      `${old} was exported without clip numbers (Cun, clips.json), which the held-out split needs: ` +
        `export it again with this version`
    );
  }
});

test.run();
