// The 272-dim representation of MotionStreamer / MotionMillion (spec: docs of the shared data, repr272.md).
// Per frame: root xz displacement (2), heading increment as 6D (6), canonical joint positions (66), their frame
// differences (66), joint rotations as 6D rows (132). All arrays here are float64, frame-major.
import { TorchmotionError } from '../errors.js';
import {
  applyMat,
  axisAngleToMatrix,
  matMul,
  matrixToAxisAngle,
  rows01,
  ry,
  sixDToMatrix,
  transpose,
} from './rotation.js';
import { JOINTS, MIRRORED } from './skeleton.js';

export const DIM = 272;
// Frames per second of every 272 motion (MotionMillion resamples all sources to 30).
export const FPS = 30;
// [start, end) of each channel group; std is averaged within each group when normalising.
export const GROUPS = {
  rootVelocity: [0, 2],
  heading: [2, 8],
  positions: [8, 74],
  velocities: [74, 140],
  rotations: [140, 272],
} as const;
export const GROUP_RANGES = Object.values(GROUPS) as ReadonlyArray<readonly [number, number]>;

export interface ForwardOptions {
  // The floor height in the input frame; default the lowest joint over the whole clip. Pass the full clip's
  // floor when converting a cropped part of it.
  floorY?: number;
}

function frames(len: number, per: number, what: string): number {
  if (len % per !== 0) throw new TorchmotionError(`${what}: length ${len} is not a multiple of ${per}`);
  return len / per;
}

// Global joints P (T,22,3) and axis-angle rotations A (T,22,3), in the Y-up frame whose frame 0 faces +Z → (T,272).
export function forward272(
  joints: ArrayLike<number>,
  axisAngles: ArrayLike<number>,
  options: ForwardOptions = {}
): Float64Array {
  const T = frames(joints.length, JOINTS * 3, 'joints');
  if (frames(axisAngles.length, JOINTS * 3, 'rotations') !== T) {
    throw new TorchmotionError(`joints have ${T} frames but rotations have ${axisAngles.length / (JOINTS * 3)}`);
  }
  const P = Float64Array.from(joints);
  let floor = options.floorY ?? Infinity;
  if (options.floorY === undefined) for (let i = 1; i < P.length; i += 3) floor = Math.min(floor, P[i]);
  const [ox, oz] = [P[0], P[2]];
  for (let i = 0; i < P.length; i += 3) {
    P[i] -= ox;
    P[i + 1] -= floor;
    P[i + 2] -= oz;
  }
  const out = new Float64Array(T * DIM);
  const H = new Float64Array(9);
  const Hprev = new Float64Array(9);
  const R = new Float64Array(9);
  const tmp = new Float64Array(3);
  let hPrev = 0;
  for (let t = 0; t < T; t++) {
    const o = t * DIM;
    const p = t * JOINTS * 3;
    axisAngleToMatrix(axisAngles[p], axisAngles[p + 1], axisAngles[p + 2], R);
    const h = -Math.atan2(R[2], R[8]);
    ry(h, H);
    // Canonical positions: root x,z removed, heading removed.
    const [rx, rz] = [P[p], P[p + 2]];
    for (let j = 0; j < JOINTS; j++) {
      tmp[0] = P[p + 3 * j] - rx;
      tmp[1] = P[p + 3 * j + 1];
      tmp[2] = P[p + 3 * j + 2] - rz;
      applyMat(H, tmp, 0, out, o + 8 + 3 * j);
    }
    if (t === 0) {
      out.set([1, 0, 0, 0, 1, 0], o + 2);
    } else {
      // Root displacement from t-1 to t, in frame t-1's heading-free frame.
      tmp[0] = P[p] - P[p - JOINTS * 3];
      tmp[1] = P[p + 1] - P[p - JOINTS * 3 + 1];
      tmp[2] = P[p + 2] - P[p - JOINTS * 3 + 2];
      applyMat(Hprev, tmp, 0, tmp, 0);
      out[o] = tmp[0];
      out[o + 1] = tmp[2];
      rows01(ry(h - hPrev), out, o + 2);
      for (let k = 8; k < 74; k++) out[o + 66 + k] = out[o + k] - out[o - DIM + k];
    }
    rows01(matMul(H, R), out, o + 140);
    for (let j = 1; j < JOINTS; j++) {
      const q = p + 3 * j;
      rows01(axisAngleToMatrix(axisAngles[q], axisAngles[q + 1], axisAngles[q + 2]), out, o + 140 + 6 * j);
    }
    Hprev.set(H);
    hPrev = h;
  }
  return out;
}

// Accumulated heading G_t = D_t·G_{t-1} (D_t from channels 2:8) as transposes Gi_t, matrix products throughout
// so that network outputs (not exact yaw rotations) recover as the reference does.
function headings(x: ArrayLike<number>, T: number): Float64Array<ArrayBufferLike>[] {
  const gi: Float64Array<ArrayBufferLike>[] = [];
  let G: Float64Array<ArrayBufferLike> = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const D = new Float64Array(9);
  for (let t = 0; t < T; t++) {
    sixDToMatrix(x, t * DIM + 2, D);
    G = t === 0 ? Float64Array.from(D) : matMul(D, G);
    gi.push(transpose(G));
  }
  return gi;
}

// Root trajectory: cumulative displacement, each rotated by the previous frame's heading (frame 0 unrotated).
function trajectory(x: ArrayLike<number>, T: number, gi: Float64Array<ArrayBufferLike>[]): Float64Array {
  const tr = new Float64Array(T * 3);
  const v = new Float64Array(3);
  let [sx, sz] = [0, 0];
  for (let t = 0; t < T; t++) {
    v[0] = x[t * DIM];
    v[1] = 0;
    v[2] = x[t * DIM + 1];
    if (t > 0) applyMat(gi[t - 1], v, 0, v, 0);
    sx += v[0];
    sz += v[2];
    tr[3 * t] = sx;
    tr[3 * t + 2] = sz;
  }
  return tr;
}

// (T,272) de-normalised → global joints (T,22,3).
export function recoverJoints(x: ArrayLike<number>): Float64Array {
  const T = frames(x.length, DIM, '272 motion');
  const gi = headings(x, T);
  const tr = trajectory(x, T, gi);
  const out = new Float64Array(T * JOINTS * 3);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < JOINTS; j++) {
      const q = (t * JOINTS + j) * 3;
      applyMat(gi[t], x, t * DIM + 8 + 3 * j, out, q);
      out[q] += tr[3 * t];
      out[q + 2] += tr[3 * t + 2];
    }
  }
  return out;
}

// (T,272) de-normalised → SMPL-85 per frame: 66 axis-angle, 6 zeros, pelvis joint position (3), 10 zero betas.
// The position is the pelvis joint, not SMPL's `transl` (which is pelvis − J0(β)).
export function recoverSmpl85(x: ArrayLike<number>): Float64Array {
  const T = frames(x.length, DIM, '272 motion');
  const gi = headings(x, T);
  const tr = trajectory(x, T, gi);
  const out = new Float64Array(T * 85);
  const R = new Float64Array(9);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < JOINTS; j++) {
      sixDToMatrix(x, t * DIM + 140 + 6 * j, R);
      if (j === 0) matMul(gi[t], R, R);
      out.set(matrixToAxisAngle(R), t * 85 + 3 * j);
    }
    out[t * 85 + 72] = tr[3 * t];
    out[t * 85 + 73] = x[t * DIM + 9];
    out[t * 85 + 74] = tr[3 * t + 2];
  }
  return out;
}

// The mirror image (x → −x, left ↔ right) of a 272 motion: every rotation R becomes S·R·S with S = diag(−1, 1, 1).
export function mirror272(x: ArrayLike<number>): Float64Array {
  const T = frames(x.length, DIM, '272 motion');
  const out = new Float64Array(T * DIM);
  const flip6 = [1, -1, -1, -1, 1, 1]; // rows01 of S·R·S
  for (let t = 0; t < T; t++) {
    const o = t * DIM;
    out[o] = -x[o];
    out[o + 1] = x[o + 1];
    for (let k = 0; k < 6; k++) out[o + 2 + k] = flip6[k] * x[o + 2 + k];
    for (let j = 0; j < JOINTS; j++) {
      const m = MIRRORED[j];
      for (const base of [8, 74]) {
        out[o + base + 3 * m] = -x[o + base + 3 * j];
        out[o + base + 3 * m + 1] = x[o + base + 3 * j + 1];
        out[o + base + 3 * m + 2] = x[o + base + 3 * j + 2];
      }
      for (let k = 0; k < 6; k++) out[o + 140 + 6 * m + k] = flip6[k] * x[o + 140 + 6 * j + k];
    }
  }
  return out;
}

// SMPL-85 (or 66) axis-angle block → (T,22,3), for the forward pass.
export function axisAnglesFromSmpl(smpl: ArrayLike<number>, width: 85 | 66): Float64Array {
  const T = frames(smpl.length, width, `SMPL-${width}`);
  const out = new Float64Array(T * JOINTS * 3);
  for (let t = 0; t < T; t++) for (let k = 0; k < 66; k++) out[t * 66 + k] = smpl[t * width + k];
  return out;
}
