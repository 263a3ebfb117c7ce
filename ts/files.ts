// File-system guards shared by every reader and writer: a directory or a FIFO given where a file is expected gets a
// sentence (opening a FIFO would block until something writes to it), and folders are made one level at a time
// (Node's recursive mkdir loops forever under /proc).
import { mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { TorchmotionError } from './errors.js';

// An fs error as a sentence that names the file: "no space left on device while writing <path>".
export function fileError(err: unknown, doing: string, path: string): TorchmotionError {
  if (err instanceof TorchmotionError) return err;
  const e = err as NodeJS.ErrnoException;
  const cause =
    e?.code === 'ENOSPC'
      ? 'no space left on device'
      : e?.code === 'EISDIR'
        ? 'it is a directory'
        : e?.code === 'EACCES'
          ? 'permission denied'
          : e?.code === 'ENOENT'
            ? 'a folder on the way does not exist'
            : String(e?.message ?? e)
                .replace(/^[A-Z]+: /, '')
                .replace(/, \w+ '.*'$/, '');
  return new TorchmotionError(`${cause} while ${doing} ${path}`, { cause: err });
}

// Throws unless `path` is a regular file or does not exist (then the open that follows reports it, as before).
export function requireRegularFile(path: string): void {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return;
  }
  if (stat.isDirectory()) throw new TorchmotionError(`${path} is a directory, not a file: give a file`);
  if (!stat.isFile())
    throw new TorchmotionError(`${path} is not a regular file (a pipe, socket or device): give a file`);
}

// A regular file's text; a failure to read it becomes `failure(err)` (by default fileError's sentence).
export function readTextFile(file: string, failure = (err: unknown): Error => fileError(err, 'reading', file)): string {
  requireRegularFile(file);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw failure(err);
  }
}

// Writes `file` through `write` to a temporary file and a rename, so a reader never sees half a file.
export function writeViaRename(file: string, write: (tmp: string) => void): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    write(tmp);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fileError(err, 'writing', file);
  }
}

// mkdir -p, one level at a time from the deepest folder that exists, with errors that name the folder.
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    let stat;
    try {
      stat = statSync(at);
    } catch {
      missing.push(at);
      const up = dirname(at);
      if (up === at) break;
      at = up;
      continue;
    }
    if (!stat.isDirectory()) throw new TorchmotionError(`cannot make the folder ${dir}: ${at} is not a folder`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw fileError(err, 'making the folder', `${d}: choose another folder`);
    }
  }
}
