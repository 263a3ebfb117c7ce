// Inverse kinematics: SMPL-convention local rotations (joint j's rotation turns its children's rest offsets)
// from global joint positions, against a rest skeleton. Swing from bone directions; twist from a second
// direction: the plane of a limb's two bones for hips and shoulders (blended with the parent's frame as the
// limb straightens, where that plane vanishes), the hips' and collars' across vectors for pelvis and spine3.
// Leaves (feet, head, wrists) cannot be observed from positions and keep their parent's orientation.
import { cross, dot, matMul, transpose, type Mat3, type Vec3 } from '../motion/rotation.js';
import { JOINTS, PARENTS } from '../motion/skeleton.js';
import { SMPL_REST_OFFSETS } from '../motion/smpl-rest.js';

export type RestOffsets = ReadonlyArray<readonly [number, number, number]>;

const sub = (a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): Vec3 => [
  a[ai] - b[bi],
  a[ai + 1] - b[bi + 1],
  a[ai + 2] - b[bi + 2],
];
const norm = (a: Vec3): Vec3 => {
  const n = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / n, a[1] / n, a[2] / n];
};
const apply = (m: Mat3, v: readonly number[]): Vec3 => [
  m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
  m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
  m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
];

// Columns e1 = a, e2 = b ⟂ a, e3 = e1 × e2.
function frame(a: Vec3, b: Vec3): Mat3 {
  const e1 = norm(a);
  const e2 = norm([b[0] - dot(b, e1) * e1[0], b[1] - dot(b, e1) * e1[1], b[2] - dot(b, e1) * e1[2]]);
  const e3 = cross(e1, e2);
  return new Float64Array([e1[0], e2[0], e3[0], e1[1], e2[1], e3[1], e1[2], e2[2], e3[2]]);
}

// The rotation taking the rest pair (a, b) onto the target pair: primary directions match exactly.
function alignPair(restA: Vec3, restB: Vec3, targetA: Vec3, targetB: Vec3): Mat3 {
  return matMul(frame(targetA, targetB), transpose(frame(restA, restB)));
}

// Minimal rotation taking unit v onto unit d.
function rotationBetween(v: Vec3, d: Vec3): Mat3 {
  const axis = cross(v, d);
  const s = Math.hypot(...axis);
  const c = dot(v, d);
  if (s < 1e-12) {
    if (c > 0) return new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    // half turn about any perpendicular
    const p = norm(Math.abs(v[0]) < 0.9 ? cross(v, [1, 0, 0]) : cross(v, [0, 1, 0]));
    return new Float64Array([
      2 * p[0] * p[0] - 1,
      2 * p[0] * p[1],
      2 * p[0] * p[2],
      2 * p[1] * p[0],
      2 * p[1] * p[1] - 1,
      2 * p[1] * p[2],
      2 * p[2] * p[0],
      2 * p[2] * p[1],
      2 * p[2] * p[2] - 1,
    ]);
  }
  const k = norm(axis);
  const t = 1 - c;
  return new Float64Array([
    c + k[0] * k[0] * t,
    k[0] * k[1] * t - k[2] * s,
    k[0] * k[2] * t + k[1] * s,
    k[1] * k[0] * t + k[2] * s,
    c + k[1] * k[1] * t,
    k[1] * k[2] * t - k[0] * s,
    k[2] * k[0] * t - k[1] * s,
    k[2] * k[1] * t + k[0] * s,
    c + k[2] * k[2] * t,
  ]);
}

// Which child's bone defines a joint's swing; leaves have none.
const PRIMARY_CHILD = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -1, -1, 15, 16, 17, -1, 18, 19, 20, 21, -1, -1];
// Hinge joints: [joint, child, grandchild, rest hinge axis]. The rest hinge is the flexion axis of the next joint
// (knees bend about +x; elbows, with the rest arm along ±x, about ∓y).
const HINGES: ReadonlyArray<readonly [number, number, number, Vec3]> = [
  [1, 4, 7, [1, 0, 0]],
  [2, 5, 8, [1, 0, 0]],
  [16, 18, 20, [0, -1, 0]],
  [17, 19, 21, [0, 1, 0]],
];
const BEND_FULL = Math.sin((20 * Math.PI) / 180); // bend at which the limb's plane fully decides the twist
const BEND_NONE = Math.sin((3 * Math.PI) / 180);

// positions: (T,22,3) global, Y up. Returns local rotations (T,22,9) row-major; joint 0's is its global rotation.
export function inverseKinematics(positions: ArrayLike<number>, rest: RestOffsets = SMPL_REST_OFFSETS): Float64Array {
  const T = positions.length / (JOINTS * 3);
  const local = new Float64Array(T * JOINTS * 9);
  const global: Mat3[] = Array.from({ length: JOINTS }, () => new Float64Array(9));
  const hinge = new Map(HINGES.map((h) => [h[0], h]));
  const restVec = (j: number): Vec3 => [rest[j][0], rest[j][1], rest[j][2]];
  for (let t = 0; t < T; t++) {
    const at = (j: number) => (t * JOINTS + j) * 3;
    const bone = (j: number, c: number) => sub(positions, at(c), positions, at(j));
    for (let j = 0; j < JOINTS; j++) {
      const parent = PARENTS[j];
      const pg = parent >= 0 ? global[parent] : new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
      let g: Mat3;
      if (j === 0) {
        g = alignPair(restVec(3), sub(rest[1], 0, rest[2], 0), bone(0, 3), sub(positions, at(1), positions, at(2)));
      } else if (j === 9) {
        g = alignPair(
          restVec(12),
          sub(rest[13], 0, rest[14], 0),
          bone(9, 12),
          sub(positions, at(13), positions, at(14))
        );
      } else if (PRIMARY_CHILD[j] < 0) {
        g = Float64Array.from(pg);
      } else {
        const c = PRIMARY_CHILD[j];
        const d = norm(bone(j, c));
        const swing = matMul(rotationBetween(norm(apply(pg, restVec(c))), d), pg);
        const h = hinge.get(j);
        if (!h) {
          g = swing;
        } else {
          // Flexion axis seen in the data, blended with the swing's own axis as the limb straightens.
          const restHinge = h[3];
          const bend = cross(d, norm(bone(c, h[2])));
          const w = Math.min(1, Math.max(0, (Math.hypot(...bend) - BEND_NONE) / (BEND_FULL - BEND_NONE)));
          const fromSwing = apply(swing, restHinge);
          const fromBend = norm(bend);
          const axis: Vec3 = [0, 1, 2].map((k) => w * fromBend[k] + (1 - w) * fromSwing[k]) as Vec3;
          g = w > 0 ? alignPair(restVec(c), restHinge, d, axis) : swing;
        }
      }
      global[j] = g;
      local.set(j === 0 ? g : matMul(transpose(pg), g), (t * JOINTS + j) * 9);
    }
  }
  return local;
}

// Forward kinematics of local rotations on a rest skeleton, rooted at given pelvis positions: for tests and export.
export function forwardKinematicsSmpl(
  local: ArrayLike<number>,
  rest: RestOffsets,
  root: ArrayLike<number>
): Float64Array {
  const T = local.length / (JOINTS * 9);
  const out = new Float64Array(T * JOINTS * 3);
  const global: Mat3[] = [];
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < JOINTS; j++) {
      const l = Float64Array.from({ length: 9 }, (_, k) => local[(t * JOINTS + j) * 9 + k]);
      const p = PARENTS[j];
      global[j] = p < 0 ? l : matMul(global[p], l);
      const o = (t * JOINTS + j) * 3;
      if (p < 0) {
        out.set([root[3 * t], root[3 * t + 1], root[3 * t + 2]], o);
      } else {
        const v = apply(global[p], rest[j]);
        for (let k = 0; k < 3; k++) out[o + k] = out[(t * JOINTS + p) * 3 + k] + v[k];
      }
    }
  }
  return out;
}
