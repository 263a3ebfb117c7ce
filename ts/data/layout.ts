// Where things live in a MotionMillion dataset root, under the reference names or the released ones.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';

export const MOTION_DIRS = ['motion_data/vector_272', 'motion_272rpr'] as const;
export const STAGE_SPLIT_DIRS = { tokenizer: 'split/version1/tokenizer_96', t2m: 'split/version1/t2m_60_300' } as const;
export type Stage = keyof typeof STAGE_SPLIT_DIRS;

export function motionDir(root: string): string {
  for (const d of MOTION_DIRS) if (existsSync(join(root, d))) return join(root, d);
  throw new TorchmotionError(
    `${root}: no motion folder found (looked for ${MOTION_DIRS.join(' and ')}): ` +
      'run `torchmotion data prepare <download-dir> --out <root>` or point at the dataset root'
  );
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
    for (const [m, s] of [
      ['mean.npy', 'std.npy'],
      ['Mean.npy', 'Std.npy'],
    ]) {
      if (existsSync(join(root, dir, m)) && existsSync(join(root, dir, s)))
        return { mean: join(root, dir, m), std: join(root, dir, s) };
    }
  }
  throw new TorchmotionError(
    `${root}: no mean/std found (looked for mean_std/vector_272/{mean,std}.npy and mean_std/{Mean,Std}.npy); ` +
      'copy the released mean_std folder there, or compute them from the training clips with ' +
      '`torchmotion data mean-std <root>`'
  );
}

// Mirrored clips are named in one of two ways: the released MotionMillion archives put them in a twin folder with a
// `Mirror_` prefix on the subset (`Mirror_MotionGV/folder8/494361`), the 272 repository's scripts put an `M` on the
// file name (`BABEL/new_joint_vecs_prefix/M043161`).
export const MIRROR_FOLDER_PREFIX = 'Mirror_';
export type MirrorConvention = 'folder' | 'file';

// The subset of a name is its first path component without the mirror prefix ("Mirror_MotionGV/…" → MotionGV), so
// a subset's mirrored twins are counted with it, as mirrors.
export function subsetOf(name: string): string {
  const i = name.indexOf('/');
  if (i < 0) return '(root)';
  const first = name.slice(0, i);
  return first.startsWith(MIRROR_FOLDER_PREFIX) ? first.slice(MIRROR_FOLDER_PREFIX.length) : first;
}

// The name of the clip a mirrored clip was made from, or undefined when the name is not a mirror's. A `Mirror_`
// folder always marks a mirror. An `M` file prefix is ambiguous ("Male_walk"), so when the names of the dataset
// are given it counts only if the unprefixed twin is among them.
export function mirrorSource(name: string, names?: ReadonlySet<string>): string | undefined {
  if (name.startsWith(MIRROR_FOLDER_PREFIX) && name.indexOf('/') > MIRROR_FOLDER_PREFIX.length)
    return name.slice(MIRROR_FOLDER_PREFIX.length);
  const slash = name.lastIndexOf('/') + 1;
  if (name[slash] !== 'M' || name.length === slash + 1) return undefined;
  const twin = name.slice(0, slash) + name.slice(slash + 1);
  return !names || names.has(twin) ? twin : undefined;
}

export function isMirrored(name: string, names?: ReadonlySet<string>): boolean {
  return mirrorSource(name, names) !== undefined;
}

// The name a mirrored copy of an unmirrored clip gets under a convention.
export function mirrorName(name: string, convention: MirrorConvention): string {
  if (convention === 'folder') return MIRROR_FOLDER_PREFIX + name;
  const slash = name.lastIndexOf('/') + 1;
  return name.slice(0, slash) + 'M' + name.slice(slash);
}

// Which convention a dataset's names use: folder when any name sits in a `Mirror_` folder, else file.
export function mirrorConvention(names: Iterable<string>): MirrorConvention {
  for (const n of names) if (n.startsWith(MIRROR_FOLDER_PREFIX)) return 'folder';
  return 'file';
}
