// Prints every number docs/data-formats.md quotes: the bundled mean/std statistics, one frame of the bundled AMASS
// sample slice by slice, and how closely the torchmotion inverse, forward and mirror reproduce the sample.
// Usage: npx tsx scripts/docs/format-example.ts [frame=260]
import { join } from 'node:path';

import { readMeanStd } from '../../ts/data/motion-files.js';
import { readNpy } from '../../ts/data/npy.js';
import { parseCaptionLine } from '../../ts/data/texts.js';
import { denormalize, normalize, type MeanStd } from '../../ts/motion/normalize.js';
import {
  GROUP_RANGES,
  GROUPS,
  DIM,
  FPS,
  axisAnglesFromSmpl,
  forward272,
  mirror272,
  recoverJoints,
  recoverSmpl85,
} from '../../ts/motion/repr272.js';
import { axisAngleToMatrix, sixDToMatrix } from '../../ts/motion/rotation.js';
import { JOINT_NAMES, JOINTS, MIRRORED, PARENTS } from '../../ts/motion/skeleton.js';
import { atFloorOrigin, sampleDir, sampleMeta } from '../../test/repr272-sample.js';

const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures');
const f = (v: number, d = 4) => v.toFixed(d);
const deg = (rad: number) => (rad * 180) / Math.PI;
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

console.log('## Normalisation statistics (test/fixtures/mean_std)');
const stats: Record<string, MeanStd> = {};
for (const name of ['motionmillion', 'humanml3d_272']) {
  const dir = join(fixtures, 'mean_std', name);
  const { mean, std } = (stats[name] = readMeanStd(join(dir, 'mean.npy'), join(dir, 'std.npy')));
  const groups = GROUP_RANGES.map(([a, b]) => {
    const s = std.subarray(a, b);
    const [lo, hi] = [Math.min(...s), Math.max(...s)];
    return lo === hi ? f(lo) : `${f(lo)}..${f(hi)}`;
  });
  console.log(
    `${name}: dtype ${readNpy(join(dir, 'mean.npy')).dtype}, mean root height (channel 9) ${f(mean[9], 3)} m, ` +
      `group stds ${groups.join(' / ')}; mean of dims 8, 10: ${mean[8]}, ${mean[10]}`
  );
}

const [sample, meta] = [sampleDir, sampleMeta];
const file = readNpy(join(sample, 'repr272.npy'));
const x = Float64Array.from(file.data as Float64Array);
const T = file.shape[0];
const t = Number(process.argv[2] ?? 260);
const row = x.subarray(t * DIM, (t + 1) * DIM);
console.log(
  `\n## Sample: repr272.npy (${file.shape.join(', ')}) ${file.dtype}, ${FPS} fps = ${f(T / FPS, 1)} s; frame ${t}`
);

const [vx, vz] = [row[0], row[1]];
console.log(
  `0:2    root displacement (x, z) = (${f(vx)}, ${f(vz)}) m/frame = (${f(vx * FPS, 3)}, ${f(vz * FPS, 3)}) m/s, ` +
    `speed ${f(Math.hypot(vx, vz) * FPS, 3)} m/s`
);
const dh = Math.atan2(row[4], row[2]);
console.log(
  `2:8    heading increment 6D = [${Array.from(row.subarray(2, 8), (v) => f(v, 5)).join(', ')}]: ` +
    `Ry(${f(deg(dh), 3)} deg): the yaw grows by ${f(-deg(dh), 3)} deg (${f(-deg(dh) * FPS, 1)} deg/s; ` +
    `positive = towards +x, the body's left)`
);
const feet = [7, 8, 10, 11].map((j) => row[8 + 3 * j + 1]);
console.log(
  `8:74   pelvis (j0) = (${f(row[8])}, ${f(row[9])}, ${f(row[10])}) m; dim 9 is the pelvis height ` +
    `(lowest ankle/foot joint in this frame ${f(Math.min(...feet), 3)} m)`
);
for (const j of [7, 15]) {
  const c = 8 + 3 * j;
  console.log(
    `       ${JOINT_NAMES[j]} (j${j}, channels ${c}..${c + 2}) = (${f(row[c])}, ${f(row[c + 1])}, ${f(row[c + 2])}) m`
  );
}
const v7 = 74 + 3 * 7;
console.log(
  `74:140 L_ankle velocity (channels ${v7}..${v7 + 2}) = (${f(row[v7])}, ${f(row[v7 + 1])}, ` +
    `${f(row[v7 + 2])}) m/frame ` +
    `= ${f(Math.hypot(row[v7], row[v7 + 1], row[v7 + 2]) * FPS, 3)} m/s`
);
const pelvis6 = row.subarray(140, 146);
const R = sixDToMatrix(pelvis6);
console.log(
  `140:272 pelvis 6D = [${Array.from(pelvis6, (v) => f(v)).join(', ')}]; its forward axis (column 2) = ` +
    `(${f(R[2])}, ${f(R[5])}, ${f(R[8])}), yaw ${f(deg(Math.atan2(R[2], R[8])), 3)} deg`
);

// Conventions checked over every frame.
let dims810 = 0;
let [hLo, hHi] = [Infinity, -Infinity];
let rootYaw = 0;
let turned = 0;
for (let s = 0; s < T; s++) {
  [hLo, hHi] = [Math.min(hLo, x[s * DIM + 9]), Math.max(hHi, x[s * DIM + 9])];
  dims810 = Math.max(dims810, Math.abs(x[s * DIM + 8]), Math.abs(x[s * DIM + 10]));
  const r = sixDToMatrix(x, s * DIM + 140);
  rootYaw = Math.max(rootYaw, Math.abs(deg(Math.atan2(r[2], r[8]))));
  if (s > 0) turned += -deg(Math.atan2(x[s * DIM + 4], x[s * DIM + 2]));
}
console.log(
  `frame 0: displacement (${x[0]}, ${x[1]}), heading 6D [${Array.from(x.subarray(2, 8)).join(', ')}], ` +
    `velocities all 0: ${x.subarray(74, 140).every((v) => v === 0)}`
);
console.log(
  `all frames: max |dim 8|, |dim 10| = ${dims810}; max |yaw| of the heading-free pelvis ` +
    `${rootYaw.toExponential(1)} deg; ` +
    `heading increments sum to ${f(turned, 1)} deg over the clip; ` +
    `pelvis height ${f(hLo, 3)}..${f(hHi, 3)} m`
);

// Inverse: recovered joints vs the pipeline's joints, moved so the floor is y = 0 and frame 0's pelvis x,z is the
// origin.
const J = readNpy(join(sample, 'joints22_facez.npy'));
const raw = Float64Array.from(J.data as Float32Array);
const shifted = atFloorOrigin(raw, meta.floorY);
const [ox, oz] = [raw[0], raw[2]];
const rec = recoverJoints(x);
let sumErr = 0;
for (let i = 0; i < rec.length; i += 3)
  sumErr += Math.hypot(rec[i] - shifted[i], rec[i + 1] - shifted[i + 1], rec[i + 2] - shifted[i + 2]);
console.log(
  `\n## Inverse and forward on the sample (joints22_facez.npy (${J.shape.join(', ')}) ` +
    `${J.dtype}, floorY ${meta.floorY})`
);
console.log(
  `recoverJoints vs joints22_facez shifted by (${f(ox)}, ${f(meta.floorY)}, ${f(oz)}): max |error| ` +
    `${maxAbsDiff(rec, shifted).toExponential(1)} m, mean joint error ${(sumErr / (rec.length / 3)).toExponential(1)} m`
);
// What mixing the statistics does: normalise with MotionMillion's, de-normalise with HumanML3D-272's.
const mixed = recoverJoints(denormalize(normalize(x, stats.motionmillion), stats.humanml3d_272));
let [mixErr, mixRoot] = [0, 0];
for (let i = 0; i < rec.length; i += 3)
  mixErr += Math.hypot(mixed[i] - rec[i], mixed[i + 1] - rec[i + 1], mixed[i + 2] - rec[i + 2]);
for (let s = 0; s < T; s++)
  mixRoot = Math.max(mixRoot, Math.hypot(mixed[s * 66] - rec[s * 66], mixed[s * 66 + 2] - rec[s * 66 + 2]));
console.log(
  `normalised with motionmillion, de-normalised with humanml3d_272: mean joint error ` +
    `${f(mixErr / (rec.length / 3), 3)} m, ` +
    `root x,z off by up to ${f(mixRoot, 3)} m, pelvis height at frame ${t} ${f(mixed[t * 66 + 1], 3)} ` +
    `instead of ${f(rec[t * 66 + 1], 3)} m`
);
console.log(
  `root at the last frame: (${f(rec[(T - 1) * 66])}, ${f(rec[(T - 1) * 66 + 1])}, ${f(rec[(T - 1) * 66 + 2])}) m`
);

const smplFile = readNpy(join(sample, 'smpl85_facez.npy'));
const smpl = Float64Array.from(smplFile.data as Float32Array);
const rs = recoverSmpl85(x);
let rotErr = 0;
const off = [
  [Infinity, -Infinity],
  [Infinity, -Infinity],
  [Infinity, -Infinity],
];
for (let s = 0; s < T; s++) {
  for (let j = 0; j < JOINTS; j++) {
    const a = axisAngleToMatrix(rs[s * 85 + 3 * j], rs[s * 85 + 3 * j + 1], rs[s * 85 + 3 * j + 2]);
    const b = axisAngleToMatrix(smpl[s * 85 + 3 * j], smpl[s * 85 + 3 * j + 1], smpl[s * 85 + 3 * j + 2]);
    rotErr = Math.max(rotErr, maxAbsDiff(a, b));
  }
  // Pelvis joint (world, before the shift) minus SMPL transl: J0(β), constant for one body.
  for (let k = 0; k < 3; k++) {
    const d = raw[s * 66 + k] - smpl[s * 85 + 72 + k];
    off[k] = [Math.min(off[k][0], d), Math.max(off[k][1], d)];
  }
}
console.log(
  `recoverSmpl85 rotations vs smpl85_facez (${smplFile.shape.join(', ')}): max |matrix entry error| ` +
    `${rotErr.toExponential(1)}`
);
console.log(
  `pelvis joint minus SMPL transl (= J0(beta)), min..max over all frames: ` +
    `${off.map(([lo, hi]) => `${f(lo)}..${f(hi)}`).join(', ')} m`
);

const fw = forward272(raw, axisAnglesFromSmpl(smpl, 85), { floorY: meta.floorY });
console.log(
  `forward272(joints22_facez, smpl85_facez, floorY) vs repr272.npy: max |error| ${maxAbsDiff(fw, x).toExponential(1)}`
);

// Mirror: the mirrored motion's joints are the original's with x negated and left/right swapped.
const mj = recoverJoints(mirror272(x));
let mirErr = 0;
for (let s = 0; s < T; s++) {
  for (let j = 0; j < JOINTS; j++) {
    const a = s * 66 + 3 * MIRRORED[j];
    const b = s * 66 + 3 * j;
    mirErr = Math.max(
      mirErr,
      Math.abs(mj[a] + rec[b]),
      Math.abs(mj[a + 1] - rec[b + 1]),
      Math.abs(mj[a + 2] - rec[b + 2])
    );
  }
}
console.log(
  `mirror272 then recoverJoints vs recovered joints with x negated and L/R swapped: max |error| ` +
    `${mirErr.toExponential(1)} m`
);

console.log('\n## Caption lines (parseCaptionLine, 30 fps)');
for (const line of [
  'a person bows energetically',
  'a man walks forward and stops.#a/DET man/NOUN walk/VERB forward/ADV and/CCONJ stop/VERB#1.5#4.0',
  'a man walks forward and stops.#a/DET man/NOUN walk/VERB#0.0#0.0',
]) {
  console.log(`${JSON.stringify(line)} -> ${JSON.stringify(parseCaptionLine(line))}`);
}

console.log('\n## Channel index per joint: position x,y,z | velocity x,y,z | 6D rotation');
console.log(
  `groups: ${Object.entries(GROUPS)
    .map(([k, [a, b]]) => `${k} ${a}:${b}`)
    .join(', ')}`
);
for (let j = 0; j < JOINTS; j++) {
  const p = 8 + 3 * j;
  const v = 74 + 3 * j;
  const r = 140 + 6 * j;
  console.log(
    `| ${j} | ${JOINT_NAMES[j]} | ${PARENTS[j]} | ${p}, ${p + 1}, ${p + 2} | ${v}, ${v + 1}, ${v + 2} | ${r}–${r + 5} |`
  );
}
