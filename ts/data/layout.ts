// Where things live in a MotionMillion dataset root, under the reference names or the released ones.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';

export const MOTION_DIRS = ['motion_data/vector_272', 'motion_272rpr'] as const;
export const STAGE_SPLIT_DIRS = { tokenizer: 'split/version1/tokenizer_96', t2m: 'split/version1/t2m_60_300' } as const;
export type Stage = keyof typeof STAGE_SPLIT_DIRS;

export function motionDir(root: string): string {
  for (const d of MOTION_DIRS) if (existsSync(join(root, d))) return join(root, d);
  throw new TorchmotionError(`${root}: no motion folder found (looked for ${MOTION_DIRS.join(' and ')}): ` +
    'run `torchmotion data prepare <download-dir> --out <root>` or point at the dataset root');
}

export function motionFile(root: string, name: string, dir = motionDir(root)): string {
  return join(dir, `${name}.npy`);
}

export function textFile(root: string, name: string): string {
  return join(root, 'texts', `${name}.txt`);
}

// A split is a name (train, val, test, all) looked up under the stage's folder, or a path to a split file.
export function splitFile(root: string, split: string, stage: Stage): string {
  if (split.endsWith('.txt') && existsSync(split)) return split;
  const candidates = [join(root, STAGE_SPLIT_DIRS[stage], `${split}.txt`), join(root, 'split', `${split}.txt`)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new TorchmotionError(`split '${split}' not found for stage ${stage}: looked for ${candidates.join(' and ')}`);
}

export function meanStdFiles(root: string): { mean: string; std: string } {
  for (const dir of ['mean_std/vector_272', 'mean_std']) {
    for (const [m, s] of [['mean.npy', 'std.npy'], ['Mean.npy', 'Std.npy']]) {
      if (existsSync(join(root, dir, m)) && existsSync(join(root, dir, s))) return { mean: join(root, dir, m), std: join(root, dir, s) };
    }
  }
  throw new TorchmotionError(`${root}: no mean/std found (looked for mean_std/vector_272/{mean,std}.npy and mean_std/{Mean,Std}.npy); ` +
    'copy the released mean_std folder there, or compute them from the training clips with `torchmotion data mean-std <root>`');
}

// The subset of a name is its first path component (e.g. "HumanML3D/…" → HumanML3D).
export function subsetOf(name: string): string {
  const i = name.indexOf('/');
  return i < 0 ? '(root)' : name.slice(0, i);
}

// Mirrored clips carry an M prefix on the last path component.
export function isMirrored(name: string): boolean {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.startsWith('M');
}
