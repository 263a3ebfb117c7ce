// 272 → BVH on the SMPL-22 skeleton (centimetres, 30 fps), for Blender and other tools. Every joint carries
// position channels (its offset from the parent, per frame, in the parent's frame) as well as rotations, so
// the file reproduces the 272 joint positions exactly even where they do not follow fixed bone lengths
// (network outputs); the OFFSETs are frame 0's, for tools that ignore joint position channels.
import { DIM, FPS, recoverJoints, recoverSmpl85 } from '../motion/repr272.js';
import { axisAngleToMatrix, matMul, transpose } from '../motion/rotation.js';
import { JOINT_NAMES, JOINTS, PARENTS } from '../motion/skeleton.js';
import type { Bvh, BvhJoint, Channel } from './bvh.js';

const CM = 100;
const CHANNELS: Channel[] = ['Xposition', 'Yposition', 'Zposition', 'Zrotation', 'Yrotation', 'Xrotation'];

// R = Rz(a)·Ry(b)·Rx(c) → [a, b, c] in degrees.
export function eulerZYX(r: ArrayLike<number>): [number, number, number] {
  const deg = 180 / Math.PI;
  const sb = -r[6];
  if (Math.abs(sb) > 1 - 1e-12) {
    return [Math.atan2(-r[1], r[4]) * deg, Math.sign(sb) * 90, 0];
  }
  return [Math.atan2(r[3], r[0]) * deg, Math.asin(sb) * deg, Math.atan2(r[7], r[8]) * deg];
}

export function motion272ToBvh(x: Float64Array): Bvh {
  const T = x.length / DIM;
  const joints = recoverJoints(x);
  const smpl = recoverSmpl85(x);
  const channelCount = JOINTS * 6;
  const values = new Float64Array(T * channelCount);
  const global: Float64Array[] = [];
  const offsets: Array<[number, number, number]> = [];
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < JOINTS; j++) {
      const a = t * 85 + 3 * j;
      const local = axisAngleToMatrix(smpl[a], smpl[a + 1], smpl[a + 2]);
      const p = PARENTS[j];
      global[j] = p < 0 ? local : matMul(global[p], local);
      const pj = (t * JOINTS + j) * 3;
      let rel: [number, number, number];
      if (p < 0) {
        rel = [joints[pj], joints[pj + 1], joints[pj + 2]];
      } else {
        const pp = (t * JOINTS + p) * 3;
        const d = [joints[pj] - joints[pp], joints[pj + 1] - joints[pp + 1], joints[pj + 2] - joints[pp + 2]];
        const g = transpose(global[p]);
        rel = [0, 1, 2].map((k) => g[3 * k] * d[0] + g[3 * k + 1] * d[1] + g[3 * k + 2] * d[2]) as [
          number,
          number,
          number,
        ];
      }
      if (t === 0) offsets[j] = p < 0 ? [0, 0, 0] : (rel.map((v) => v * CM) as [number, number, number]);
      const o = t * channelCount + j * 6;
      values.set(
        rel.map((v) => v * CM),
        o
      );
      values.set(eulerZYX(local), o + 3);
    }
  }
  const bvhJoints: BvhJoint[] = JOINT_NAMES.map((name, j) => ({
    name,
    parent: PARENTS[j],
    offset: offsets[j],
    channels: CHANNELS,
    channelStart: j * 6,
    ...([10, 11, 15, 20, 21].includes(j) && { endSite: [0, 0, 0] as [number, number, number] }),
  }));
  return { joints: bvhJoints, frameTime: 1 / FPS, frames: T, values, channelCount };
}
