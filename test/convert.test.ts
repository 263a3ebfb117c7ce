// Converters into and out of the 272 representation, on the real AMASS sample and real Bandai Namco mocap.
import { readFileSync, readdirSync } from 'node:fs';

import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { forwardKinematics, parseBvh, readBvh, writeBvhText } from '../ts/convert/bvh.js';
import { bvhTo272 } from '../ts/convert/from-bvh.js';
import { readSmplClip, restJointsFromBodyModel, restOffsetsFromJoints, smplTo272 } from '../ts/convert/from-smpl.js';
import { forwardKinematicsSmpl, inverseKinematics } from '../ts/convert/ik.js';
import { motion272ToBvh } from '../ts/convert/to-bvh.js';
import { jointsTo272, resamplePositions } from '../ts/convert/to272.js';
import { readNpy } from '../ts/data/npy.js';
import { writeNpz } from '../ts/data/npz.js';
import { axisAnglesFromSmpl, forward272, recoverJoints } from '../ts/motion/repr272.js';
import { applyMat, axisAngleToMatrix, matMul, matrixToAxisAngle, ry } from '../ts/motion/rotation.js';
import { PARENTS } from '../ts/motion/skeleton.js';
import { errorOf, tempDir } from './helpers.js';

const fixture = join(import.meta.dirname, 'fixtures', 'repr272-sample');
const meta = JSON.parse(readFileSync(join(fixture, 'meta.json'), 'utf8')) as { floorY: number };
const joints = Float64Array.from(readNpy(join(fixture, 'joints22_facez.npy')).data as Float32Array);
const smpl = Float64Array.from(readNpy(join(fixture, 'smpl85_facez.npy')).data as Float32Array);
const golden = readNpy(join(fixture, 'repr272.npy')).data as Float64Array;
const T = joints.length / 66;
const bandai = join(import.meta.dirname, '..', 'data', 'bandai-namco-1', 'data');
const dir = tempDir('tm-convert-');

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

// The sample's rest skeleton, derived from its joints and rotations: offset_j = G_parent(0)ᵀ (P_j − P_parent).
function sampleRestJoints(): Float64Array {
  const aa = axisAnglesFromSmpl(smpl, 85);
  const g: Float64Array[] = [];
  const rest = new Float64Array(66);
  // The pelvis rest position J0: SMPL places the pelvis at transl + J0.
  for (let k = 0; k < 3; k++) rest[k] = joints[k] - smpl[72 + k];
  for (let j = 0; j < 22; j++) {
    const r = axisAngleToMatrix(aa[3 * j], aa[3 * j + 1], aa[3 * j + 2]);
    const p = PARENTS[j];
    g[j] = p < 0 ? r : matMul(g[p], r);
    if (p >= 0) {
      const d = [0, 1, 2].map((k) => joints[3 * j + k] - joints[3 * p + k]);
      for (let k = 0; k < 3; k++)
        rest[3 * j + k] = rest[3 * p + k] + g[p][k] * d[0] + g[p][3 + k] * d[1] + g[p][6 + k] * d[2];
    }
  }
  return rest;
}

test('SMPL-85 (face-Z) with the sample rest skeleton converts to the reference 272 within 1e-4', () => {
  const clip = readSmplClip(join(fixture, 'smpl85_facez.npy'));
  const out = smplTo272(clip, sampleRestJoints(), { floorY: meta.floorY });
  const err = maxDiff(out.motion, golden);
  assert.ok(err < 1e-4, `max error ${err}`);
});

test(`an AMASS-style npz (Z up, 60 fps, turned away) converts to the same 272, \
with a rest skeleton or a body model`, () => {
  // Undo the pipeline on the sample: turn it 0.7 rad about Y, go Z up, double the frame rate.
  const ZUP = new Float64Array([1, 0, 0, 0, 0, -1, 0, 1, 0]); // Y up → Z up
  const turn = matMul(ZUP, ry(0.7));
  const poses = new Float32Array(2 * T * 156);
  const trans = new Float32Array(2 * T * 3);
  for (let t = 0; t < T; t++) {
    const root = matMul(turn, axisAngleToMatrix(smpl[t * 85], smpl[t * 85 + 1], smpl[t * 85 + 2]));
    const row = Float64Array.from(smpl.subarray(t * 85, t * 85 + 66));
    row.set(matrixToAxisAngle(root), 0);
    const tr = new Float64Array(3);
    applyMat(turn, smpl, t * 85 + 72, tr, 0);
    for (const f of [2 * t, 2 * t + 1]) {
      poses.set(row, f * 156);
      trans.set(tr, f * 3);
    }
  }
  const npz = join(dir, 'clip.npz');
  writeNpz(npz, {
    poses: { data: poses, shape: [2 * T, 156] },
    trans: { data: trans, shape: [2 * T, 3] },
    betas: { data: new Float64Array(16), shape: [16] },
    mocap_framerate: { data: new Float64Array([60]), shape: [] },
  });
  const clip = readSmplClip(npz);
  assert.equal([clip.fps, clip.up], [60, 'z']);
  const rest = sampleRestJoints();
  const viaSkeleton = smplTo272(clip, rest, { floorY: meta.floorY }).motion;
  assert.ok(maxDiff(viaSkeleton, golden) < 1e-4, `npz path error ${maxDiff(viaSkeleton, golden)}`);
  // A body model whose regressor picks 22 template vertices, with one shape direction that betas move.
  const shapedirs = new Float64Array(22 * 3 * 2);
  shapedirs[(3 * 3 + 1) * 2 + 0] = 0.5; // β0 raises vertex 3 (spine1) in y by 0.5·β0
  writeNpz(join(dir, 'model.npz'), {
    v_template: { data: rest, shape: [22, 3] },
    J_regressor: { data: Float64Array.from({ length: 22 * 22 }, (_, i) => (i % 23 === 0 ? 1 : 0)), shape: [22, 22] },
    shapedirs: { data: shapedirs, shape: [22, 3, 2] },
  });
  const fromModel = restJointsFromBodyModel(join(dir, 'model.npz'), new Float64Array([0.2, 0]));
  assert.ok(Math.abs(fromModel[10] - (rest[10] + 0.1)) < 1e-12);
  assert.ok(maxDiff(restJointsFromBodyModel(join(dir, 'model.npz'), new Float64Array(2)), rest) < 1e-15);
});

test('inverse kinematics on the real sample: forward kinematics of the solved rotations reproduces the joints', () => {
  const local = inverseKinematics(joints, restOffsetsFromJoints(sampleRestJoints()));
  const root = Float64Array.from({ length: T * 3 }, (_, i) => joints[Math.floor(i / 3) * 66 + (i % 3)]);
  const err = maxDiff(forwardKinematicsSmpl(local, restOffsetsFromJoints(sampleRestJoints()), root), joints);
  assert.ok(err < 1e-5, `max FK(IK) error ${err} m`);
});

const bandaiFiles = readdirSync(bandai)
  .filter((f) => f.endsWith('.bvh'))
  .sort();

test(`BVH → 272 on real Bandai Namco clips: recovered joints match the mapped BVH joints within 1 cm, \
IK self-consistent`, () => {
  for (const f of [
    bandaiFiles[0],
    bandaiFiles.find((x) => x.includes('kick'))!,
    bandaiFiles.find((x) => x.includes('walk-back'))!,
  ]) {
    const c = bvhTo272(readBvh(join(bandai, f)), f);
    assert.is(c.map, 'bandai-namco');
    const rec = recoverJoints(c.motion);
    let floor = Infinity;
    for (let i = 1; i < c.joints.length; i += 3) floor = Math.min(floor, c.joints[i]);
    const expected = c.joints.map((v, i) => v - (i % 3 === 0 ? c.joints[0] : i % 3 === 1 ? floor : c.joints[2]));
    assert.ok(maxDiff(rec, expected) < 0.01, `${f}: recovered vs mapped ${maxDiff(rec, expected)} m`);
    // The mapped joints are the BVH's own (scaled to metres): the hips joint at frame 0 sits 0.8–1.0 m up.
    assert.ok(c.mapped[1] > 0.8 && c.mapped[1] < 1.0);
    const again = forward272(rec, jointsTo272(rec).axisAngles);
    assert.ok(maxDiff(again, c.motion) < 1e-4, `${f}: IK on recovered joints ${maxDiff(again, c.motion)}`);
  }
});

test('272 → BVH → 272 round trip within 1e-4 (real AMASS motion)', () => {
  const text = writeBvhText(motion272ToBvh(golden));
  const back = bvhTo272(parseBvh(text, 'export.bvh'), 'export.bvh');
  assert.is(back.map, 'smpl');
  const err = maxDiff(back.motion, golden);
  assert.ok(err < 1e-4, `round trip error ${err}`);
  assert.match(
    text,
    new RegExp(
      String.raw`^HIERARCHY\nROOT pelvis\n\{\n {2}OFFSET 0 0 0\n {2}CHANNELS 6 Xposition Yposition Zposition ` +
        String.raw`Zrotation Yrotation Xrotation\n {2}JOINT L_hip`
    )
  );
});

test(`HumanML3D joints at 20 fps become 30 fps: exact at shared instants, within 2.5 cm \
of the original 30 fps motion`, () => {
  const at20 = resamplePositions(joints, 22, 30, 20); // the sample as HumanML3D would store it
  const c = jointsTo272(resamplePositions(at20, 22, 20), undefined, { floorY: meta.floorY });
  const rec = recoverJoints(c.motion);
  const shift = (src: ArrayLike<number>, i: number) =>
    src[i] - (i % 3 === 0 ? joints[0] : i % 3 === 1 ? meta.floorY : joints[2]);
  let atShared = 0;
  let overall = 0;
  for (let t = 0; t < rec.length / 66; t++) {
    for (let k = 0; k < 66; k++) {
      const e = Math.abs(rec[t * 66 + k] - shift(joints, t * 66 + k));
      overall = Math.max(overall, e);
      if (t % 3 === 0) atShared = Math.max(atShared, e); // every 3rd frame at 30 fps is every 2nd at 20 fps
    }
  }
  assert.ok(atShared < 1e-5, `at shared instants ${atShared} m`);
  assert.ok(overall < 0.025, `overall ${overall} m (linear interpolation of a 20 fps clip)`);
});

test('BVH parser: any channel order and end sites; forward kinematics by hand', () => {
  const text = `HIERARCHY
ROOT a
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  JOINT b
  {
    OFFSET 0 10 0
    CHANNELS 3 Yrotation Xrotation Zrotation
    End Site
    {
      OFFSET 0 5 0
    }
  }
}
MOTION
Frames: 1
Frame Time: 0.05
1 2 3 0 0 90 90 0 0
`;
  const bvh = parseBvh(text, 'hand.bvh');
  assert.equal([bvh.joints.length, bvh.frames, bvh.frameTime, bvh.joints[1].endSite], [2, 1, 0.05, [0, 5, 0]]);
  const { positions } = forwardKinematics(bvh);
  // Root turned 90° about Z: the bone (0,10,0) points along −x.
  assert.ok(maxDiff(positions, [1, 2, 3, -9, 2, 3]) < 1e-12);
});

test('hostile BVH headers are errors naming file, line and value, never NaN motions or a crashed parser', async () => {
  const head = (channels: string, frames = '1', time = '0.033') =>
    `HIERARCHY\nROOT hip\n{\n  OFFSET 0 0 0\n  CHANNELS ${channels}\n}\nMOTION\nFrames: ` +
    `${frames}\nFrame Time: ${time}\n`;
  const six = '6 Xposition Yposition Zposition Zrotation Xrotation Yrotation';
  const ok = `${head(six)}0 1 2 3 4 5\n`;
  assert.is(parseBvh(ok, 'ok.bvh').channelCount, 6);
  const cases: Array<[string, string]> = [
    [head('-6 Xposition'), "h.bvh:5: CHANNELS of joint hip must be a whole number from 1 to 6 (found '-6')"],
    [head('5.5 Xposition'), "h.bvh:5: CHANNELS of joint hip must be a whole number from 1 to 6 (found '5.5')"],
    [
      head('3 Xposition Yposition'),
      'h.bvh:6: joint hip lists 3 channels, but this is not one of Xposition, Yposition, Zposition, ' +
        "Xrotation, Yrotation, Zrotation (found '}')",
    ],
    [head('2 Xposition Xposition'), "h.bvh:5: joint hip lists channel Xposition twice (found 'Xposition')"],
    [`${head(six, '-5')}0 1 2 3 4 5`, "h.bvh:8: Frames: must be a whole number of at least 1 (found '-5')"],
    [`${head(six, '2.5')}0 1 2 3 4 5`, "h.bvh:8: Frames: must be a whole number of at least 1 (found '2.5')"],
    [
      `${head(six, '1e12')}0 1 2 3 4 5`,
      'h.bvh: truncated: 1000000000000 frames × 6 channels need 6000000000000 values, found 6',
    ],
    [
      `${head(six, '1', '-0.1')}0 1 2 3 4 5`,
      "h.bvh:9: Frame Time: must be a positive number of seconds (found '-0.1')",
    ],
    [`${head(six, '1', 'NaN')}0 1 2 3 4 5`, "h.bvh:9: expected a number (found 'NaN')"],
    [`${head(six)}0 1 2 3 4 5 6 7`, "h.bvh:10: 2 values more than Frames: 1 × 6 channels declare (found '6')"],
    [`${head(six)}0 1 2 nan 4 5`, "h.bvh:10: frame 0 holds a value that is not a finite number (found 'nan')"],
  ];
  for (const [text, message] of cases) assert.is(await errorOf(() => parseBvh(text, 'h.bvh')), message);
  // 10,000 nested joints: refused by depth, not by a stack overflow.
  const deep = `HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\n${'JOINT j\n{\nOFFSET 0 0 0\n'.repeat(10000)}`;
  assert.match(
    await errorOf(() => parseBvh(deep, 'deep.bvh')),
    /^deep\.bvh:\d+: the hierarchy nests deeper than 256 joints/
  );
});

test('broken BVH files name the file and the problem', async () => {
  assert.is(
    await errorOf(() => parseBvh('HIERARCHY\nROOT a\n{\nOFFSET 0 0\n}', 'bad.bvh')),
    "bad.bvh:5: expected a number (found '}')"
  );
  const text = readFileSync(join(bandai, bandaiFiles[0]), 'utf8');
  assert.match(
    await errorOf(() => parseBvh(text.slice(0, text.length - 4000), 'cut.bvh')),
    /^cut\.bvh: truncated: \d+ frames × 132 channels need \d+ values, found \d+$/
  );
});

test.run();
