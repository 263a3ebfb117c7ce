// The 22-joint SMPL body skeleton of the 272 representation (Y up, facing +Z, left is +x).
export const JOINTS = 22;

export const JOINT_NAMES = [
  'pelvis',
  'L_hip',
  'R_hip',
  'spine1',
  'L_knee',
  'R_knee',
  'spine2',
  'L_ankle',
  'R_ankle',
  'spine3',
  'L_foot',
  'R_foot',
  'neck',
  'L_collar',
  'R_collar',
  'head',
  'L_shoulder',
  'R_shoulder',
  'L_elbow',
  'R_elbow',
  'L_wrist',
  'R_wrist',
] as const;

export const PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19] as const;

// Drawing chains; right side first in each pair of limbs.
export const CHAINS = [
  [0, 2, 5, 8, 11],
  [0, 1, 4, 7, 10],
  [0, 3, 6, 9, 12, 15],
  [9, 14, 17, 19, 21],
  [9, 13, 16, 18, 20],
] as const;

export const MIRROR_PAIRS = [
  [1, 2],
  [4, 5],
  [7, 8],
  [10, 11],
  [13, 14],
  [16, 17],
  [18, 19],
  [20, 21],
] as const;

// MIRRORED[j] is the joint that j becomes in the mirror image.
export const MIRRORED: readonly number[] = (() => {
  const m = Array.from({ length: JOINTS }, (_, j) => j);
  for (const [a, b] of MIRROR_PAIRS) [m[a], m[b]] = [b, a];
  return m;
})();
