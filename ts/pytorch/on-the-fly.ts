// `--ckpt model.pth` (or .safetensors) wherever a command takes a checkpoint: the file is imported once into a run in
// the user's cache and that run is used. The run is keyed by the file's path, size and modification time and by the
// options that change the import, not by the file's content: hashing a multi-GB checkpoint on every call would cost
// more than the command. So the cache must be private: a folder created 0700 and checked on every use to be a real
// folder (never followed through a symlink), owned by the user and writable by no one else — another user can then
// neither plant a run under a predictable key nor redirect the import elsewhere.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

import { TorchmotionError } from '../errors.js';
import { fileError, makeDirs } from '../files.js';
import { requireCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';
import { importCheckpoint, type ImportKind, type ImportOptions } from './import.js';
import { isWeightsFile } from './weights.js';

// A folder only the user can write: made 0700 if absent, refused if it is a symlink, another user's, or writable by
// group or others (Windows has no such modes: there, only the symlink is checked).
function privateFolder(dir: string): string {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(err, 'making the import cache', dir);
  }
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  const problem = st.isSymbolicLink()
    ? 'is a symbolic link'
    : !st.isDirectory()
      ? 'is not a folder'
      : uid !== undefined && st.uid !== uid
        ? `belongs to uid ${st.uid}, not to you (uid ${uid})`
        : uid !== undefined && st.mode & 0o022
          ? `can be written by others (mode ${(st.mode & 0o777).toString(8)})`
          : undefined;
  if (problem) {
    throw new TorchmotionError(
      `the import cache ${dir} ${problem}: remove it (torchmotion makes a private one ` +
        'in its place), or set XDG_CACHE_HOME to a folder of your own'
    );
  }
  return dir;
}

const writable = (dir: string) => {
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

// $XDG_CACHE_HOME/torchmotion/imports, else ~/.cache/… (%LOCALAPPDATA%\torchmotion\imports on Windows); the
// temporary folder (as torchmotion-<uid>/imports) only when that folder cannot be written, and checked the same way.
export function importCache(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const user =
    process.platform === 'win32' ? process.env.LOCALAPPDATA : xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  const top =
    user && writable(user) ? join(user, 'torchmotion') : join(tmpdir(), `torchmotion-${process.getuid?.() ?? 'user'}`);
  return privateFolder(join(privateFolder(top), 'imports'));
}

const PATH_OPTIONS = ['data', 'tokenizer', 'embeddings'] as const;

export function importedRunFor(file: string, kind: ImportKind, o: Omit<ImportOptions, 'kind'> = {}): string {
  const st = statSync(file);
  // Paths as the import records them (absolute), the default dtype spelled out: equal imports share a key.
  const paths = Object.fromEntries(PATH_OPTIONS.map((k) => [k, o[k] && resolve(o[k])]));
  const options: Record<string, unknown> = { ...o, ...paths, kind, dtype: o.dtype ?? 'fp32' };
  const given = Object.keys(options)
    .filter((k) => options[k] !== undefined)
    .sort()
    .map((k) => [k, options[k]]);
  const key = createHash('sha256')
    .update(`${resolve(file)}\0${st.size}\0${st.mtimeMs}\0${JSON.stringify(given)}`)
    .digest('hex');
  return join(importCache(), key.slice(0, 16));
}

// A checkpoint folder for `path`: the folder itself (as requireCheckpoint resolves it), or the import of a weights
// file.
export async function checkpointFor(
  path: string,
  kind: ImportKind,
  o: Omit<ImportOptions, 'kind'> = {}
): Promise<string> {
  if (!isWeightsFile(path) || !existsSync(path) || statSync(path).isDirectory()) return requireCheckpoint(path);
  const run = importedRunFor(path, kind, o);
  if (!resolveCheckpoint(run)) await importCheckpoint(path, run, { ...o, kind });
  return requireCheckpoint(run);
}
