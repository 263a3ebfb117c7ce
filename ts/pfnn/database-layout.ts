// The SMPL-22 PFNN database (Holden et al. 2017, adapted to 30 fps): inputs X (240), outputs Y (296) and phase
// P per centre frame, from 272 motions. Layout, contact and phase rules: docs/data-formats.md, restated in the README
// this export writes beside the arrays.
import { z } from 'zod';

import { FPS, GROUPS, recoverJoints } from '../motion/repr272.js';
import { contactSettings, footContacts, gaitPhase, phaseSettings } from './contacts.js';

export const WINDOW = 30; // frames either side of the centre (1 s at 30 fps, as PFNN's 60 at 60 fps)
export const STEP = 5; // trajectory sample spacing
export const SAMPLES = 12; // input trajectory: offsets −30 … +25
export const NEXT_SAMPLES = 6; // next trajectory: +1 … +26 in frame i+1's root space
export const GAITS = ['stand', 'walk', 'run', 'crouch', 'jump'] as const;
export const X_DIM = 4 * SAMPLES + GAITS.length * SAMPLES + 66 + 66; // 240
export const Y_DIM = 2 + 1 + 1 + 4 + 4 * NEXT_SAMPLES + 66 + 66 + 132; // 296
export const MIN_FRAMES = 2 * WINDOW + 2; // centres in [30, T−31) need T ≥ 62

// The database's rules (`pfnn database` sets contacts, phase and facingSigma by flags).
export const pfnnDatabaseSettings = z
  .object({
    contacts: contactSettings.prefault({}),
    phase: phaseSettings.prefault({}),
    facingSigma: z.number().positive().default(10), // frames, Gaussian smoothing of the facing direction
    gait: z
      .object({
        standSpeed: z.number().positive().default(0.3), // m/s
        runSpeed: z.number().positive().default(1.8), // m/s
        crouchRatio: z.number().positive().default(0.8), // of the clip's standing head height
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type PfnnOptions = z.output<typeof pfnnDatabaseSettings>;
export const DEFAULT_PFNN: PfnnOptions = pfnnDatabaseSettings.parse({});

export interface ClipRows {
  X: Float32Array;
  Y: Float32Array;
  P: Float32Array;
  rows: number;
  cyclic: boolean;
}

const J = 22;

// Facing per frame: across = (L_shoulder − R_shoulder) + (L_hip − R_hip); forward = across × up, smoothed, unit.
function facing(joints: Float64Array, T: number, sigma: number): Float64Array {
  const raw = new Float64Array(T * 2);
  for (let t = 0; t < T; t++) {
    const o = t * 66;
    const ax = joints[o + 48] - joints[o + 51] + joints[o + 3] - joints[o + 6];
    const az = joints[o + 50] - joints[o + 53] + joints[o + 5] - joints[o + 8];
    // (ax, 0, az) × (0, 1, 0) = (−az, 0, ax)
    raw[2 * t] = -az;
    raw[2 * t + 1] = ax;
  }
  const out = new Float64Array(T * 2);
  const radius = Math.ceil(3 * sigma);
  for (let t = 0; t < T; t++) {
    let [x, z, w] = [0, 0, 0];
    for (let d = -radius; d <= radius; d++) {
      const s = Math.min(T - 1, Math.max(0, t + d)); // edges repeat, as scipy's 'nearest'
      const k = Math.exp(-(d * d) / (2 * sigma * sigma));
      x += k * raw[2 * s];
      z += k * raw[2 * s + 1];
      w += k;
    }
    const n = Math.hypot(x, z) || 1;
    out[2 * t] = x / n;
    out[2 * t + 1] = z / n;
  }
  return out;
}

// Soft gait labels from root speed and head height (the data has no gait labels): stand/walk/run by speed with
// linear ramps, crouch when the head is below crouchRatio of the clip's standing height, jump with no contact at all.
function gaitLabels(joints: Float64Array, contacts: Float32Array, T: number, g: PfnnOptions['gait']): Float32Array {
  const heads = Array.from({ length: T }, (_, t) => joints[t * 66 + 15 * 3 + 1]).sort((a, b) => a - b);
  const standing = heads[Math.floor(0.9 * (T - 1))];
  const out = new Float32Array(T * 5);
  const ramp = (v: number, lo: number, hi: number) => Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
  for (let t = 0; t < T; t++) {
    const q = Math.min(T - 1, t + 1);
    const p = Math.max(0, q - 1);
    const speed = Math.hypot(joints[q * 66] - joints[p * 66], joints[q * 66 + 2] - joints[p * 66 + 2]) * FPS;
    const label = new Float32Array(5);
    const airborne = contacts.subarray(t * 4, t * 4 + 4).every((c) => c === 0);
    const crouch = ramp(g.crouchRatio * standing - joints[t * 66 + 46], -0.05, 0.05);
    if (airborne && speed > g.standSpeed) label[4] = 1;
    else if (crouch > 0) label[3] = crouch;
    const rest = 1 - label[3] - label[4];
    const run = ramp(speed, g.runSpeed - 0.3, g.runSpeed + 0.3);
    const moving = ramp(speed, g.standSpeed - 0.1, g.standSpeed + 0.1);
    label[0] = rest * (1 - moving);
    label[1] = rest * moving * (1 - run);
    label[2] = rest * moving * run;
    out.set(label, t * 5);
  }
  return out;
}

export function clipRows(motion: Float64Array, o: PfnnOptions = DEFAULT_PFNN): ClipRows {
  const T = motion.length / 272;
  const joints = recoverJoints(motion);
  const contacts = footContacts(joints, o.contacts);
  const { phase, cyclic } = gaitPhase(contacts, o.phase);
  const fwd = facing(joints, T, o.facingSigma);
  const gait = gaitLabels(joints, contacts, T, o.gait);
  const yaw = (t: number) => Math.atan2(fwd[2 * t], fwd[2 * t + 1]); // rotation taking forward onto +Z is Ry(−yaw)
  // A vector (x, z) in frame t's root space: rotate by −yaw_t about Y.
  const toRoot = (t: number, x: number, z: number): [number, number] => {
    const a = -yaw(t);
    return [Math.cos(a) * x + Math.sin(a) * z, -Math.sin(a) * x + Math.cos(a) * z];
  };
  const localJoints = (t: number, out: Float32Array, at: number) => {
    for (let j = 0; j < J; j++) {
      const o3 = t * 66 + 3 * j;
      const [x, z] = toRoot(t, joints[o3] - joints[t * 66], joints[o3 + 2] - joints[t * 66 + 2]);
      out[at + 3 * j] = x;
      out[at + 3 * j + 1] = joints[o3 + 1];
      out[at + 3 * j + 2] = z;
    }
  };
  const localVelocities = (t: number, out: Float32Array, at: number) => {
    const n = Math.min(T - 1, t + 1);
    const p = n === t ? t - 1 : t;
    for (let j = 0; j < J; j++) {
      const [x, z] = toRoot(
        t,
        joints[n * 66 + 3 * j] - joints[p * 66 + 3 * j],
        joints[n * 66 + 3 * j + 2] - joints[p * 66 + 3 * j + 2]
      );
      out[at + 3 * j] = x;
      out[at + 3 * j + 1] = joints[n * 66 + 3 * j + 1] - joints[p * 66 + 3 * j + 1];
      out[at + 3 * j + 2] = z;
    }
  };
  const first = WINDOW;
  const end = T - WINDOW - 1;
  const rows = Math.max(0, end - first);
  const X = new Float32Array(rows * X_DIM);
  const Y = new Float32Array(rows * Y_DIM);
  const P = new Float32Array(rows);
  const tmp = new Float32Array(66);
  for (let r = 0; r < rows; r++) {
    const i = first + r;
    const x = X.subarray(r * X_DIM, (r + 1) * X_DIM);
    for (let s = 0; s < SAMPLES; s++) {
      const f = i - WINDOW + s * STEP;
      const [px, pz] = toRoot(i, joints[f * 66] - joints[i * 66], joints[f * 66 + 2] - joints[i * 66 + 2]);
      const [dx, dz] = toRoot(i, fwd[2 * f], fwd[2 * f + 1]);
      x[s] = px;
      x[SAMPLES + s] = pz;
      x[2 * SAMPLES + s] = dx;
      x[3 * SAMPLES + s] = dz;
      for (let g = 0; g < 5; g++) x[4 * SAMPLES + g * SAMPLES + s] = gait[f * 5 + g];
    }
    localJoints(i - 1, x, 9 * SAMPLES);
    localVelocities(i - 1, x, 9 * SAMPLES + 66);
    const y = Y.subarray(r * Y_DIM, (r + 1) * Y_DIM);
    [y[0], y[1]] = toRoot(i, joints[(i + 1) * 66] - joints[i * 66], joints[(i + 1) * 66 + 2] - joints[i * 66 + 2]);
    let dyaw = yaw(i + 1) - yaw(i);
    dyaw = Math.atan2(Math.sin(dyaw), Math.cos(dyaw));
    y[2] = dyaw;
    y[3] = (((phase[i + 1] - phase[i]) % 1) + 1) % 1;
    y.set(contacts.subarray(i * 4, i * 4 + 4), 4);
    for (let s = 0; s < NEXT_SAMPLES; s++) {
      const f = i + 1 + s * STEP;
      const [px, pz] = toRoot(
        i + 1,
        joints[f * 66] - joints[(i + 1) * 66],
        joints[f * 66 + 2] - joints[(i + 1) * 66 + 2]
      );
      const [dx, dz] = toRoot(i + 1, fwd[2 * f], fwd[2 * f + 1]);
      y[8 + s] = px;
      y[8 + NEXT_SAMPLES + s] = pz;
      y[8 + 2 * NEXT_SAMPLES + s] = dx;
      y[8 + 3 * NEXT_SAMPLES + s] = dz;
    }
    localJoints(i, tmp, 0);
    y.set(tmp, 32);
    localVelocities(i, tmp, 0);
    y.set(tmp, 98);
    for (let k = 0; k < 132; k++) y[164 + k] = motion[i * 272 + GROUPS.rotations[0] + k];
    P[r] = phase[i];
  }
  return { X, Y, P, rows, cyclic };
}

// [start, end) of each normalisation group; std is averaged within a group (PFNN's rule).
export const X_GROUPS: Array<[string, number, number]> = [
  ['trajectory position x', 0, 12],
  ['trajectory position z', 12, 24],
  ['trajectory direction x', 24, 36],
  ['trajectory direction z', 36, 48],
  ['gait', 48, 108],
  ['joint positions (frame i−1)', 108, 174],
  ['joint velocities (frame i−1)', 174, 240],
];
export const Y_GROUPS: Array<[string, number, number]> = [
  ['root velocity x, z', 0, 2],
  ['root yaw velocity', 2, 3],
  ['phase change', 3, 4],
  ['contacts', 4, 8],
  ['next trajectory positions', 8, 20],
  ['next trajectory directions', 20, 32],
  ['joint positions', 32, 98],
  ['joint velocities', 98, 164],
  ['joint rotations (6D)', 164, 296],
];

// A group whose std is not above this is constant: it passes through unscaled (std 1). The PFNN readers refuse a std
// below it, which no export writes.
export const MIN_STD = 1e-8;

// Per-dimension mean; std averaged within each group, with a zero-std guard; input joint groups divided by 0.1
// (PFNN's joint weights of 1 × 0.1, which shrink those inputs tenfold).
export function normalisation(
  data: Float32Array,
  dim: number,
  groups: Array<[string, number, number]>,
  shrink: number[] = []
) {
  const n = data.length / dim;
  const mean = new Float64Array(dim);
  const m2 = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) mean[c] += data[r * dim + c] / n;
  for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) m2[c] += (data[r * dim + c] - mean[c]) ** 2;
  const std = new Float32Array(dim);
  groups.forEach(([, a, b], g) => {
    let s = 0;
    for (let c = a; c < b; c++) s += Math.sqrt(m2[c] / Math.max(1, n));
    s /= b - a;
    if (!(s > MIN_STD)) s = 1; // zero-std guard: constant groups pass through unscaled
    if (shrink.includes(g)) s /= 0.1;
    std.fill(s, a, b);
  });
  return { mean: Float32Array.from(mean), std };
}
