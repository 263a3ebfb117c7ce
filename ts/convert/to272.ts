// The common last steps of every converter: joint positions (Y up, metres, 30 fps) → IK rotations → rotate the
// clip about Y so that frame 0's pelvis faces +Z → the 272 forward pass. Resampling lives here too.
import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { forward272, FPS, type ForwardOptions } from '../motion/repr272.js';
import { applyMat, matMul, matrixToAxisAngle, ry } from '../motion/rotation.js';
import { JOINTS } from '../motion/skeleton.js';
import { inverseKinematics, type RestOffsets } from './ik.js';

// HumanML3D's new_joints (T,22,3): their frame rate, resampled to 30 fps.
export const humanml3dSettings = z
  .object({
    fps: z.number().positive().default(20),
  })
  .strict();

// Linear resampling of joint positions (T,J,3) from `fps` to 30 fps, keeping the clip's duration.
export function resamplePositions(positions: Float64Array, joints: number, fps: number, target = FPS): Float64Array {
  if (!(fps > 0)) throw new TorchmotionError(`frame rate ${fps} is not positive`);
  const T = positions.length / (joints * 3);
  if (Math.abs(fps - target) < 1e-6 || T < 2) return positions.slice();
  const out = Math.floor(((T - 1) * target) / fps + 1e-9) + 1;
  const res = new Float64Array(out * joints * 3);
  const w = joints * 3;
  for (let k = 0; k < out; k++) {
    const s = (k * fps) / target;
    const i = Math.min(Math.floor(s), T - 2);
    const f = s - i;
    for (let c = 0; c < w; c++) res[k * w + c] = positions[i * w + c] * (1 - f) + positions[(i + 1) * w + c] * f;
  }
  return res;
}

// Heading θ of a rotation as the forward pass defines it: atan2(R02, R22).
export const headingOf = (r: ArrayLike<number>, o = 0) => Math.atan2(r[o + 2], r[o + 8]);

export interface Converted {
  motion: Float64Array; // (T,272) float64
  joints: Float64Array; // (T,22,3) the positions fed to the forward pass (faced +Z, before floor and origin)
  axisAngles: Float64Array; // (T,22,3) SMPL-convention rotations fed to the forward pass
}

// Local rotations (T,22,9) + positions → faced clip → 272.
export function rotationsTo272(positions: Float64Array, local: Float64Array, options: ForwardOptions = {}): Converted {
  const T = positions.length / (JOINTS * 3);
  const turn = ry(-headingOf(local, 0));
  const joints = new Float64Array(positions.length);
  for (let i = 0; i < positions.length; i += 3) applyMat(turn, positions, i, joints, i);
  const axisAngles = new Float64Array(T * JOINTS * 3);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < JOINTS; j++) {
      const o = (t * JOINTS + j) * 9;
      let r = local.subarray(o, o + 9);
      if (j === 0) r = matMul(turn, r);
      axisAngles.set(matrixToAxisAngle(r), (t * JOINTS + j) * 3);
    }
  }
  return { motion: forward272(joints, axisAngles, options), joints, axisAngles };
}

export function jointsTo272(positions: Float64Array, rest?: RestOffsets, options: ForwardOptions = {}): Converted {
  if (positions.length % (JOINTS * 3) !== 0 || positions.length === 0) {
    throw new TorchmotionError(`joint positions must be (T, 22, 3) with T ≥ 1, received ${positions.length} values`);
  }
  return rotationsTo272(positions, inverseKinematics(positions, rest), options);
}
