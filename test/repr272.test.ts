// Golden tests on a real AMASS clip (test/fixtures/repr272-sample, first 300 frames of the public sample).
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpy } from '../ts/data/npy.js';
import { denormalize, MotionStatistics, normalize } from '../ts/motion/normalize.js';
import { axisAnglesFromSmpl, DIM, forward272, mirror272, recoverJoints, recoverSmpl85 } from '../ts/motion/repr272.js';
import { axisAngleToMatrix, matrixToAxisAngle } from '../ts/motion/rotation.js';
import { MIRRORED } from '../ts/motion/skeleton.js';
import { atFloorOrigin, sampleDir, sampleMeta } from './repr272-sample.js';

const [dir, meta] = [sampleDir, sampleMeta];
const joints = Float64Array.from(readNpy(join(dir, 'joints22_facez.npy')).data as Float32Array);
const smpl = readNpy(join(dir, 'smpl85_facez.npy')).data as Float32Array;
const golden = readNpy(join(dir, 'repr272.npy')).data as Float64Array;
const T = meta.frames;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('forward pass reproduces the reference 272 file within 1e-5', () => {
  const x = forward272(joints, axisAnglesFromSmpl(smpl, 85), { floorY: meta.floorY });
  assert.is(x.length, T * DIM);
  const err = maxAbsDiff(x, golden);
  assert.ok(err < 1e-5, `max |forward − reference| = ${err}`);
});

test('position inverse recovers the joints within 1e-5 m', () => {
  const rec = recoverJoints(golden);
  const expected = atFloorOrigin(joints, meta.floorY);
  const err = maxAbsDiff(rec, expected);
  assert.ok(err < 1e-5, `max joint error ${err} m`);
});

test('rotation inverse recovers the SMPL rotations within 1e-5', () => {
  const rec = recoverSmpl85(golden);
  let err = 0;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < 22; j++) {
      const a = axisAngleToMatrix(rec[t * 85 + 3 * j], rec[t * 85 + 3 * j + 1], rec[t * 85 + 3 * j + 2]);
      const b = axisAngleToMatrix(smpl[t * 85 + 3 * j], smpl[t * 85 + 3 * j + 1], smpl[t * 85 + 3 * j + 2]);
      err = Math.max(err, maxAbsDiff(a, b));
    }
  }
  assert.ok(err < 1e-5, `max rotation-matrix error ${err}`);
  // The pelvis height channel is carried through as the translation's y.
  assert.ok(Math.abs(rec[73] - golden[9]) < 1e-12);
});

test('axis-angle ↔ matrix round trip, including angles near 0 and π', () => {
  for (const v of [
    [0, 0, 0],
    [1e-9, 0, 2e-9],
    [0.3, -0.2, 0.1],
    [0, Math.PI - 1e-6, 0],
    [Math.PI / Math.sqrt(2), Math.PI / Math.sqrt(2), 0],
    [-2.5, 1, 0.5],
  ]) {
    const r = axisAngleToMatrix(v[0], v[1], v[2]);
    const back = matrixToAxisAngle(r);
    assert.ok(maxAbsDiff(axisAngleToMatrix(...back), r) < 1e-9, `round trip of ${v}`);
  }
});

test('mirroring twice is the identity, and mirroring commutes with the forward pass', () => {
  assert.ok(maxAbsDiff(mirror272(mirror272(golden)), golden) < 1e-15);
  // Mirror the inputs (x → −x, swap left/right, axis-angle (x, y, z) → (x, −y, −z)) and run the forward pass.
  const aa = axisAnglesFromSmpl(smpl, 85);
  const mj = new Float64Array(joints.length);
  const ma = new Float64Array(aa.length);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < 22; j++) {
      const src = (t * 22 + j) * 3;
      const dst = (t * 22 + MIRRORED[j]) * 3;
      mj.set([-joints[src], joints[src + 1], joints[src + 2]], dst);
      ma.set([aa[src], -aa[src + 1], -aa[src + 2]], dst);
    }
  }
  const viaInputs = forward272(mj, ma, { floorY: meta.floorY });
  const err = maxAbsDiff(viaInputs, mirror272(golden));
  assert.ok(err < 1e-5, `max |forward(mirror) − mirror(forward)| = ${err}`);
});

test('normalise then de-normalise is the identity; statistics average std within groups', () => {
  const stats = new MotionStatistics();
  const half = (T / 2) * DIM;
  stats.add(golden.subarray(0, half));
  stats.add(golden.subarray(half));
  assert.is(stats.add(new Float64Array(DIM).fill(NaN)), false, 'a clip with NaN is skipped');
  assert.is(stats.skipped, 1);
  const ms = stats.result();
  // Check against a direct two-pass computation over all frames.
  for (const c of [0, 9, 100, 271]) {
    let mean = 0;
    for (let t = 0; t < T; t++) mean += golden[t * DIM + c];
    mean /= T;
    assert.ok(Math.abs(ms.mean[c] - mean) < 1e-12, `mean of channel ${c}`);
  }
  let groupStd = 0;
  for (let c = 8; c < 74; c++) {
    let m = 0;
    let s = 0;
    for (let t = 0; t < T; t++) m += golden[t * DIM + c] / T;
    for (let t = 0; t < T; t++) s += (golden[t * DIM + c] - m) ** 2 / T;
    groupStd += Math.sqrt(s) / 66;
  }
  assert.ok(Math.abs(ms.std[8] - groupStd) < 1e-12 && ms.std[73] === ms.std[8]);
  const back = denormalize(normalize(golden, ms), ms);
  assert.ok(maxAbsDiff(back, golden) < 1e-12);
});

test.run();
