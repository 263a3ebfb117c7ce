// How a BVH skeleton's joints become the 22 SMPL joints: by name, or by interpolating between two joints where
// the source has fewer spine joints. Built in: Bandai Namco (dataset-1/2), the CMU BVH conversions, Mixamo,
// and the SMPL skeleton torchmotion itself exports. Users pass their own as JSON in the same shape.
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { JOINT_NAMES } from '../motion/skeleton.js';

// A source's up axis; Y up is the 272 representation's.
export const UP_AXIS = z.enum(['y', 'z']);

const source = z.union([
  z.string(),
  z.object({ lerp: z.tuple([z.string(), z.string(), z.number().min(0).max(1)]) }).strict(),
]);
export const jointMapSchema = z
  .object({
    name: z.string(),
    scale: z.number().positive(), // file units → metres
    up: UP_AXIS.default('y'),
    joints: z.record(z.enum(JOINT_NAMES), source),
  })
  .strict();
export type JointMap = z.output<typeof jointMapSchema>;
type Source = z.output<typeof source>;

const limbs = (p: (side: 'L' | 'R') => Record<string, Source>) => ({ ...p('L'), ...p('R') });
const side = (s: 'L' | 'R', left: string, right: string) => (s === 'L' ? left : right);
// The limbs as CMU's BVH names them (LeftUpLeg, …), which Mixamo's rigs repeat after their `prefix`.
const mocapLimbs = (prefix: string) =>
  limbs((s) => {
    const n = `${prefix}${side(s, 'Left', 'Right')}`;
    return {
      [`${s}_hip`]: `${n}UpLeg`,
      [`${s}_knee`]: `${n}Leg`,
      [`${s}_ankle`]: `${n}Foot`,
      [`${s}_foot`]: `${n}ToeBase`,
      [`${s}_collar`]: `${n}Shoulder`,
      [`${s}_shoulder`]: `${n}Arm`,
      [`${s}_elbow`]: `${n}ForeArm`,
      [`${s}_wrist`]: `${n}Hand`,
    };
  });

export const BUILTIN_MAPS: Record<string, JointMap> = {
  'bandai-namco': {
    name: 'bandai-namco',
    scale: 0.01,
    up: 'y',
    joints: {
      pelvis: 'Hips',
      spine1: 'Spine',
      spine2: { lerp: ['Spine', 'Chest', 0.5] },
      spine3: 'Chest',
      neck: 'Neck',
      head: 'Head',
      ...limbs((s) => ({
        [`${s}_hip`]: `UpperLeg_${s}`,
        [`${s}_knee`]: `LowerLeg_${s}`,
        [`${s}_ankle`]: `Foot_${s}`,
        [`${s}_foot`]: `Toes_${s}`,
        [`${s}_collar`]: `Shoulder_${s}`,
        [`${s}_shoulder`]: `UpperArm_${s}`,
        [`${s}_elbow`]: `LowerArm_${s}`,
        [`${s}_wrist`]: `Hand_${s}`,
      })),
    } as JointMap['joints'],
  },
  cmu: {
    name: 'cmu',
    scale: 0.056444,
    up: 'y', // the common CMU BVH conversions: 1 unit = 0.056444 m
    joints: {
      pelvis: 'Hips',
      spine1: 'LowerBack',
      spine2: 'Spine',
      spine3: 'Spine1',
      neck: 'Neck',
      head: 'Head',
      ...mocapLimbs(''),
    } as JointMap['joints'],
  },
  mixamo: {
    name: 'mixamo',
    scale: 0.01,
    up: 'y',
    joints: {
      pelvis: 'mixamorig:Hips',
      spine1: 'mixamorig:Spine',
      spine2: 'mixamorig:Spine1',
      spine3: 'mixamorig:Spine2',
      neck: 'mixamorig:Neck',
      head: 'mixamorig:Head',
      ...mocapLimbs('mixamorig:'),
    } as JointMap['joints'],
  },
  smpl: {
    name: 'smpl',
    scale: 0.01,
    up: 'y',
    joints: Object.fromEntries(JOINT_NAMES.map((n) => [n, n])) as JointMap['joints'],
  },
};

export function sourceJoints(map: JointMap): string[] {
  return Object.values(map.joints).flatMap((s) => (typeof s === 'string' ? [s] : [s.lerp[0], s.lerp[1]]));
}

export function checkMap(map: JointMap, where: string): void {
  const missing = JOINT_NAMES.filter((n) => !(n in map.joints));
  if (missing.length) throw new TorchmotionError(`${where}: the joint map names no source for ${missing.join(', ')}`);
}

export function loadJointMap(file: string): JointMap {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TorchmotionError(`${file}: cannot read the joint map: ${(err as Error).message}`);
  }
  const parsed = jointMapSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TorchmotionError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'map'}: ${i.message}`).join('; ')}`
    );
  }
  checkMap(parsed.data, file);
  return parsed.data;
}

// The built-in map whose source joints all exist in the file, or an error listing what was tried.
export function detectMap(jointNames: readonly string[], file: string): JointMap {
  const have = new Set(jointNames);
  for (const map of Object.values(BUILTIN_MAPS)) if (sourceJoints(map).every((n) => have.has(n))) return map;
  throw new TorchmotionError(
    `${file}: no built-in joint map fits its skeleton (${jointNames.slice(0, 8).join(', ')}, …); ` +
      `built in: ${Object.keys(BUILTIN_MAPS).join(', ')}. Pass --map <file.json> mapping each SMPL joint ` +
      `(${JOINT_NAMES.slice(0, 3).join(', ')}, …) to a joint name or {"lerp": [a, b, t]}`
  );
}
