// The bundled Bandai Namco dataset-1 (174 clips, unmodified BVH and JSON files) ships as one compressed archive
// beside its licence; it is unpacked next to the archive on first use (into a temporary folder renamed into place,
// so an interrupted unpack is never mistaken for a complete one).
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { extract } from 'tar';

import { TorchmotionError } from '../errors.js';
import { makeDirs } from '../files.js';
import { packageRoot } from '../paths.js';

export const BUNDLED_CLIPS = 174;

export function bundledArchive(): string {
  return join(packageRoot(), 'data', 'bandai-namco-1', 'dataset-1.tar.gz');
}

// The folder of the bundled .bvh files, unpacked from the archive if it is not there yet.
export function bundledBandai(): string {
  const home = join(packageRoot(), 'data', 'bandai-namco-1');
  const dir = join(home, 'data');
  if (existsSync(dir) && readdirSync(dir).filter((f) => f.endsWith('.bvh')).length >= BUNDLED_CLIPS) return dir;
  const archive = bundledArchive();
  if (!existsSync(archive))
    throw new TorchmotionError(`${archive} is missing: restore it with \`git checkout -- data/bandai-namco-1\``);
  const tmp = join(home, `.unpack-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  makeDirs(tmp);
  try {
    extract({ file: archive, cwd: tmp, sync: true, strict: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'data'), dir);
  } catch (err) {
    throw new TorchmotionError(`unpacking ${archive} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
