// The data commands end to end through the CLI binary.
import { spawnSync } from 'node:child_process';

import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpy, writeNpy } from '../ts/data/npy.js';
import { writeClip, writeSplit } from '../ts/data/synthetic.js';
import { normalize, MotionStatistics } from '../ts/motion/normalize.js';
import { recoverJoints } from '../ts/motion/repr272.js';
import { tempDir } from './helpers.js';

const bin = join(import.meta.dirname, '..', 'bin', 'torchmotion.js');
const fixture = join(import.meta.dirname, 'fixtures', 'repr272-sample');
const dir = tempDir('tm-datacli-');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('data forward on the real sample reproduces the reference 272 file', () => {
  const out = join(dir, 'f.npy');
  const run = cli(
    'data',
    'forward',
    '--smpl',
    join(fixture, 'smpl85_facez.npy'),
    '--joints',
    join(fixture, 'joints22_facez.npy'),
    '--out',
    out,
    '--floor-y',
    '-0.5759887099266052'
  );
  assert.is(run.status, 0, run.stderr);
  const a = readNpy(out);
  const b = readNpy(join(fixture, 'repr272.npy'));
  assert.equal([a.dtype, a.shape], ['f8', [300, 272]]);
  let err = 0;
  for (let i = 0; i < a.data.length; i++) err = Math.max(err, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  assert.ok(err < 1e-5, `max error ${err}`);
});

test('data recover de-normalises with --mean/--std and writes float32 (T,22,3)', () => {
  const x = Float64Array.from(readNpy(join(fixture, 'repr272.npy')).data as Float64Array);
  const s = new MotionStatistics();
  s.add(x);
  const ms = s.result();
  writeNpy(join(dir, 'mean.npy'), { data: ms.mean, shape: [272] });
  writeNpy(join(dir, 'std.npy'), { data: ms.std, shape: [272] });
  writeNpy(join(dir, 'norm.npy'), { data: normalize(x, ms), shape: [300, 272] });
  const run = cli(
    'data',
    'recover',
    join(dir, 'norm.npy'),
    '--out',
    join(dir, 'j.npy'),
    '--mean',
    join(dir, 'mean.npy'),
    '--std',
    join(dir, 'std.npy')
  );
  assert.is(run.status, 0, run.stderr);
  const j = readNpy(join(dir, 'j.npy'));
  assert.equal([j.dtype, j.shape], ['f4', [300, 22, 3]]);
  const expected = recoverJoints(x);
  let err = 0;
  for (let i = 0; i < expected.length; i++) err = Math.max(err, Math.abs((j.data[i] as number) - expected[i]));
  assert.ok(err < 1e-5, `max error ${err}`);
  const half = cli(
    'data',
    'recover',
    join(dir, 'norm.npy'),
    '--out',
    join(dir, 'j2.npy'),
    '--mean',
    join(dir, 'mean.npy')
  );
  assert.is(half.stderr.trim(), 'torchmotion: --mean and --std go together: give both or neither');
  const wrong = cli('data', 'recover', join(fixture, 'smpl85_facez.npy'), '--out', join(dir, 'j3.npy'));
  assert.is(
    wrong.stderr.trim(),
    `torchmotion: ${join(fixture, 'smpl85_facez.npy')}: expected a (T, 272) float array, found (300, 85) f4`
  );
});

test('data index --json and data stats --json on a small dataset', () => {
  const root = join(dir, 'ds');
  writeClip(root, { name: 'A/one', frames: 120, captions: ['a person jumps'] });
  writeClip(root, { name: 'A/two', frames: 40 });
  writeSplit(root, 'tokenizer_96', 'train', ['A/one', 'A/two', 'B/gone']);
  const run = cli('data', 'index', root, '--split', 'train', '--json');
  assert.is(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal([r.listed, r.usable, r.missing.count, r.filtered.count], [3, 1, 1, 1]);
  const stats = JSON.parse(cli('data', 'stats', root, '--json').stdout);
  assert.is(stats.A.clips, 2);
  // jumps; the other travels at 1 m/s
  assert.equal([stats.A.motionTypes.counts.locomotion, stats.A.motionTypes.fromCaptions], [2, 1]);
  const strict = cli('data', 'index', root, '--split', 'train', '--strict');
  assert.is(strict.status, 1);
  assert.match(strict.stderr, /1 of 3 clips listed in .* are missing/);
});

test('data convert bvh reports a failing file and converts the rest; data export bvh writes a BVH', async () => {
  const { copyFileSync, mkdirSync, readFileSync, writeFileSync, readdirSync } = await import('node:fs');
  const src = join(dir, 'bvh-in');
  mkdirSync(src, { recursive: true });
  const bandai = join(import.meta.dirname, '..', 'data', 'bandai-namco-1', 'data');
  copyFileSync(join(bandai, 'dataset-1_run_normal_001.bvh'), join(src, 'a.bvh'));
  copyFileSync(join(bandai, 'dataset-1_bow_normal_001.bvh'), join(src, 'b.bvh'));
  writeFileSync(join(src, 'broken.bvh'), readFileSync(join(src, 'a.bvh'), 'utf8').slice(0, 5000));
  const run = cli('data', 'convert', 'bvh', src, '--out', join(dir, 'bvh-out'), '--mirror');
  assert.is(run.status, 0, run.stderr);
  assert.match(
    run.stdout,
    /FAILED .*broken\.bvh: .*broken\.bvh: truncated: \d+ frames × 132 channels need \d+ values, found \d+/
  );
  assert.match(run.stdout, /2 converted, 1 failed/);
  assert.equal(readdirSync(join(dir, 'bvh-out')).sort(), ['Ma.npy', 'Mb.npy', 'a.npy', 'b.npy']);
  const exp = cli('data', 'export', 'bvh', join(dir, 'bvh-out', 'a.npy'), '--out', join(dir, 'a.bvh'));
  assert.is(exp.status, 0, exp.stderr);
  assert.match(readFileSync(join(dir, 'a.bvh'), 'utf8'), /^HIERARCHY\nROOT pelvis/);
});
test.run();
