// SMPL family → 272: AMASS-style .npz (poses, trans, betas, mocap frame rate) or SMPL-85 .npy, with rest joints
// J(β) from a user-supplied body model (J_regressor, v_template, shapedirs) or an explicit rest skeleton.
// Follows the public pipeline: down-sample to 30 fps by a frame stride, Z up → Y up, turn frame 0 to face +Z,
// joints by forward kinematics, then the 272 forward pass.
import { TorchmotionError } from '../errors.js';
import { readNpy, type NpyArray } from '../data/npy.js';
import { readNpz } from '../data/npz.js';
import { forward272, FPS } from '../motion/repr272.js';
import { applyMat, axisAngleToMatrix, matMul, matrixToAxisAngle, ry } from '../motion/rotation.js';
import { JOINTS, PARENTS } from '../motion/skeleton.js';
import { forwardKinematicsSmpl } from './ik.js';
import { headingOf, type Converted } from './to272.js';

export interface SmplClip {
  axisAngles: Float64Array; // (T,22,3): root orientation + 21 body joints
  trans: Float64Array; // (T,3)
  betas: Float64Array;
  fps: number;
  up: 'y' | 'z';
}

const floats = (a: NpyArray, file: string, what: string): Float64Array => {
  if (a.dtype !== 'f4' && a.dtype !== 'f8')
    throw new TorchmotionError(`${file}: ${what} must be float, found ${a.dtype}`);
  const v = Float64Array.from(a.data as Float32Array);
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0)
    throw new TorchmotionError(
      `${file}: ${what} value ${bad} is ${v[bad]}: a clip with NaN or Inf cannot be converted`
    );
  return v;
};

// AMASS .npz (Z up) or SMPL-85 .npy (already Y up in the public pipeline's intermediate files).
export function readSmplClip(file: string, options: { fps?: number; up?: 'y' | 'z' } = {}): SmplClip {
  if (file.endsWith('.npz')) {
    const z = readNpz(file);
    const poses = z.poses;
    const trans = z.trans;
    if (!poses || !trans)
      throw new TorchmotionError(
        `${file}: an AMASS .npz needs 'poses' and 'trans' arrays, found ${Object.keys(z).join(', ')}`
      );
    const T = poses.shape[0];
    if (poses.shape.length !== 2 || poses.shape[1] < 66)
      throw new TorchmotionError(`${file}: poses must be (T, ≥66), found (${poses.shape.join(', ')})`);
    if (trans.shape.join() !== `${T},3`)
      throw new TorchmotionError(`${file}: trans must be (${T}, 3), found (${trans.shape.join(', ')})`);
    const rate = z.mocap_framerate ?? z.mocap_frame_rate;
    const fps = options.fps ?? (rate ? Number(rate.data[0]) : NaN);
    if (!(fps > 0)) throw new TorchmotionError(`${file}: no mocap_framerate in the file: pass --fps`);
    const p = floats(poses, file, 'poses');
    const aa = new Float64Array(T * 66);
    for (let t = 0; t < T; t++) aa.set(p.subarray(t * poses.shape[1], t * poses.shape[1] + 66), t * 66);
    return {
      axisAngles: aa,
      trans: floats(trans, file, 'trans'),
      betas: z.betas ? floats(z.betas, file, 'betas') : new Float64Array(0),
      fps,
      up: options.up ?? 'z',
    };
  }
  const a = readNpy(file);
  if (a.shape.length !== 2 || a.shape[1] !== 85) {
    throw new TorchmotionError(
      `${file}: expected SMPL-85 (T, 85) = 66 axis-angle, 6 hand zeros, 3 translation, 10 betas; ` +
        `found (${a.shape.join(', ')})`
    );
  }
  const v = floats(a, file, 'SMPL-85');
  const T = a.shape[0];
  const aa = new Float64Array(T * 66);
  const trans = new Float64Array(T * 3);
  for (let t = 0; t < T; t++) {
    aa.set(v.subarray(t * 85, t * 85 + 66), t * 66);
    trans.set(v.subarray(t * 85 + 72, t * 85 + 75), t * 3);
  }
  return { axisAngles: aa, trans, betas: v.slice(75, 85), fps: options.fps ?? FPS, up: options.up ?? 'y' };
}

export function restOffsetsFromJoints(rest: ArrayLike<number>): Array<[number, number, number]> {
  return PARENTS.map(
    (p, j) => (p < 0 ? [0, 0, 0] : [0, 1, 2].map((k) => rest[3 * j + k] - rest[3 * p + k])) as [number, number, number]
  );
}

// J(β) = J_regressor · (v_template + shapedirs · β), first 22 joints.
export function restJointsFromBodyModel(file: string, betas: Float64Array): Float64Array {
  const m = readNpz(file, ['J_regressor', 'v_template', 'shapedirs']);
  for (const k of ['J_regressor', 'v_template', 'shapedirs']) {
    if (!m[k])
      throw new TorchmotionError(
        `${file}: a body model needs J_regressor, v_template and shapedirs; '${k}' is missing`
      );
  }
  const [V] = m.v_template.shape;
  const [J, V2] = m.J_regressor.shape;
  const B = m.shapedirs.shape[2] ?? 0;
  if (V2 !== V || J < JOINTS || m.shapedirs.shape[0] !== V) {
    throw new TorchmotionError(
      `${file}: inconsistent body model: v_template (${m.v_template.shape}), J_regressor (${m.J_regressor.shape}), ` +
        `shapedirs (${m.shapedirs.shape})`
    );
  }
  const vt = floats(m.v_template, file, 'v_template');
  const sd = floats(m.shapedirs, file, 'shapedirs');
  const jr = floats(m.J_regressor, file, 'J_regressor');
  const nb = Math.min(B, betas.length);
  const verts = vt.slice();
  for (let v = 0; v < V; v++)
    for (let c = 0; c < 3; c++) for (let b = 0; b < nb; b++) verts[v * 3 + c] += sd[(v * 3 + c) * B + b] * betas[b];
  const out = new Float64Array(JOINTS * 3);
  for (let j = 0; j < JOINTS; j++)
    for (let v = 0; v < V; v++) {
      const w = jr[j * V + v];
      if (w !== 0) for (let c = 0; c < 3; c++) out[j * 3 + c] += w * verts[v * 3 + c];
    }
  return out;
}

const Z_TO_Y = new Float64Array([1, 0, 0, 0, 0, 1, 0, -1, 0]);

// rest: absolute rest joints J(β) (22×3); the pelvis is SMPL's transl + J0, as the body model places it.
export function smplTo272(clip: SmplClip, restJoints: ArrayLike<number>, options: { floorY?: number } = {}): Converted {
  const rest = restOffsetsFromJoints(restJoints);
  const T0 = clip.trans.length / 3;
  // Down-sample as the public pipeline does: every int(fps/30)-th frame.
  const stride = Math.max(1, Math.floor(clip.fps / FPS + 1e-6));
  const T = Math.ceil(T0 / stride);
  const local = new Float64Array(T * JOINTS * 9);
  const root = new Float64Array(T * 3);
  for (let t = 0; t < T; t++) {
    const s = t * stride;
    for (let j = 0; j < JOINTS; j++) {
      const a = s * 66 + 3 * j;
      let r = axisAngleToMatrix(clip.axisAngles[a], clip.axisAngles[a + 1], clip.axisAngles[a + 2]);
      if (j === 0 && clip.up === 'z') r = matMul(Z_TO_Y, r);
      local.set(r, (t * JOINTS + j) * 9);
    }
    root.set(clip.trans.subarray(s * 3, s * 3 + 3), t * 3);
    if (clip.up === 'z') applyMat(Z_TO_Y, root, t * 3, root, t * 3);
  }
  const turn = ry(-headingOf(local, 0));
  for (let t = 0; t < T; t++) {
    local.set(matMul(turn, local.subarray(t * JOINTS * 9, t * JOINTS * 9 + 9)), t * JOINTS * 9);
    applyMat(turn, root, t * 3, root, t * 3);
  }
  for (let t = 0; t < T; t++) for (let k = 0; k < 3; k++) root[t * 3 + k] += restJoints[k];
  const joints = forwardKinematicsSmpl(local, rest, root);
  const axisAngles = new Float64Array(T * JOINTS * 3);
  for (let i = 0; i < T * JOINTS; i++) axisAngles.set(matrixToAxisAngle(local.subarray(i * 9, i * 9 + 9)), i * 3);
  return { motion: forward272(joints, axisAngles, options), joints, axisAngles };
}
