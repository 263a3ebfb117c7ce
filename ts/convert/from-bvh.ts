// BVH → 272: forward kinematics in the file's skeleton, joints mapped to SMPL-22, units and axes converted,
// resampled to 30 fps, then SMPL rotations solved by inverse kinematics (or, for a BVH on torchmotion's own
// SMPL skeleton, read from the file so that 272 → BVH → 272 is exact).
import { TorchmotionError } from '../errors.js';
import { FPS } from '../motion/repr272.js';
import { matMul } from '../motion/rotation.js';
import { JOINT_NAMES, JOINTS } from '../motion/skeleton.js';
import { forwardKinematics, localRotation, type Bvh } from './bvh.js';
import { detectMap, type JointMap } from './joint-maps.js';
import { jointsTo272, resamplePositions, rotationsTo272, type Converted } from './to272.js';

// Z up → Y up: a −90° turn about X, (x, y, z) → (x, z, −y).
const Z_TO_Y = new Float64Array([1, 0, 0, 0, 0, 1, 0, -1, 0]);

export interface BvhConverted extends Converted {
  map: string;
  sourceFps: number;
  mapped: Float64Array; // (T,22,3) mapped joints at 30 fps, metres, Y up (before facing, floor and origin)
}

export function mapJoints(bvh: Bvh, map: JointMap, positions: Float64Array): Float64Array {
  const index = new Map(bvh.joints.map((j, k) => [j.name, k]));
  const find = (name: string) => {
    const k = index.get(name);
    if (k === undefined) throw new TorchmotionError(`joint '${name}' of map ${map.name} is not in the file`);
    return k;
  };
  const J = bvh.joints.length;
  const out = new Float64Array(bvh.frames * JOINTS * 3);
  JOINT_NAMES.forEach((smpl, j) => {
    const src = map.joints[smpl];
    const [a, b, w] =
      typeof src === 'string' ? [find(src), find(src), 0] : [find(src.lerp[0]), find(src.lerp[1]), src.lerp[2]];
    for (let f = 0; f < bvh.frames; f++) {
      for (let c = 0; c < 3; c++) {
        const v = positions[(f * J + a) * 3 + c] * (1 - w) + positions[(f * J + b) * 3 + c] * w;
        out[(f * JOINTS + j) * 3 + c] = v * map.scale;
      }
    }
  });
  if (map.up === 'z') {
    for (let i = 0; i < out.length; i += 3) [out[i + 1], out[i + 2]] = [out[i + 2], -out[i + 1]];
  }
  return out;
}

export function bvhTo272(
  bvh: Bvh,
  file: string,
  map: JointMap = detectMap(
    bvh.joints.map((j) => j.name),
    file
  )
): BvhConverted {
  const fps = 1 / bvh.frameTime;
  if (bvh.frames < 2) throw new TorchmotionError(`${file}: ${bvh.frames} frame(s): a clip needs at least 2`);
  const { positions } = forwardKinematics(bvh);
  const mapped = resamplePositions(mapJoints(bvh, map, positions), JOINTS, fps);
  let converted: Converted;
  if (map.name === 'smpl' && Math.abs(fps - FPS) < 1e-3) {
    // Our own export: the rotations are SMPL-convention already, and heights are above the 272's floor.
    const index = JOINT_NAMES.map((n) => bvh.joints.findIndex((j) => j.name === n));
    const local = new Float64Array(bvh.frames * JOINTS * 9);
    for (let f = 0; f < bvh.frames; f++) {
      index.forEach((k, j) => {
        let r = localRotation(bvh, k, f);
        if (j === 0 && map.up === 'z') r = matMul(Z_TO_Y, r);
        local.set(r, (f * JOINTS + j) * 9);
      });
    }
    converted = rotationsTo272(mapped, local, { floorY: 0 });
  } else {
    converted = jointsTo272(mapped);
  }
  return { ...converted, map: map.name, sourceFps: fps, mapped };
}
