// Checkpoints are directories (model.pt from the addon + state.json from TypeScript) made under a temporary name and
// renamed into place, so an interrupted write never replaces a good checkpoint; `latest` names the newest one.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';
import { fileError, requireRegularFile, writeViaRename } from '../files.js';
import { ZipArchive } from '../pytorch/zip.js';

export interface CheckpointState {
  step: number;
  [key: string]: unknown;
}

export function checkpointsDir(run: string): string {
  return join(run, 'checkpoints');
}

// Writes and flushes a file to the disk (fsync) before anything may name it.
function writeDurable(file: string, text: string): void {
  const fd = openSync(file, 'w');
  try {
    writeFileSync(fd, text); // every byte (a lone write may be short on a filling disk)
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// A rename is durable once the folder holding it is on the disk too (POSIX; Windows cannot open a folder for it).
function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeAtomic(file: string, text: string): void {
  writeViaRename(file, (tmp) => writeDurable(tmp, text));
}

// model.pt (written by the addon, flushed there) and state.json into `<run>/checkpoints/step-N.tmp`, flushed, then
// renamed to `step-N` and named by `latest`. A failure at any point removes what it wrote and leaves the previous
// checkpoint and `latest` as they were.
export async function saveCheckpoint(
  run: string,
  state: CheckpointState,
  saveModel: (file: string) => Promise<void>,
  keep = 3
): Promise<string> {
  const root = checkpointsDir(run);
  const name = `step-${String(state.step).padStart(8, '0')}`;
  const dir = join(root, name);
  const tmp = `${dir}.tmp`;
  try {
    mkdirSync(root, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    await saveModel(join(tmp, 'model.pt'));
    const stateFile = join(tmp, 'state.json');
    try {
      writeDurable(stateFile, JSON.stringify(state, null, 2));
    } catch (err) {
      throw fileError(err, 'writing', stateFile);
    }
    syncDir(tmp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    syncDir(root);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // fs errors carry a code and no path worth showing; the addon's already name their file.
    throw (err as NodeJS.ErrnoException)?.code ? fileError(err, 'writing', tmp) : err;
  }
  writeAtomic(join(root, 'latest'), name + '\n');
  const old = readdirSync(root)
    .filter((f) => /^step-\d+$/.test(f))
    .sort();
  for (const f of old.slice(0, Math.max(0, old.length - keep))) rmSync(join(root, f), { recursive: true, force: true });
  return dir;
}

// A checkpoint directory, a run directory (its latest checkpoint), or undefined when a run has none yet.
export function resolveCheckpoint(path: string): string | undefined {
  if (existsSync(join(path, 'state.json')) && existsSync(join(path, 'model.pt'))) return path;
  const latest = join(checkpointsDir(path), 'latest');
  if (!existsSync(latest)) return undefined;
  const dir = join(checkpointsDir(path), readFileSync(latest, 'utf8').trim());
  if (!existsSync(join(dir, 'state.json')))
    throw new TorchmotionError(`${latest} names ${dir}, which is not a complete checkpoint`);
  return dir;
}

export function requireCheckpoint(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new TorchmotionError(
      `checkpoint ${path} does not exist: pass a run folder or one of its checkpoints/step-… folders`
    );
  }
  const dir = resolveCheckpoint(path);
  if (!dir)
    throw new TorchmotionError(
      `${path} holds no checkpoint yet (no checkpoints/latest): train first or pass a checkpoint folder`
    );
  return dir;
}

export function readCheckpointState<S extends CheckpointState>(dir: string): S {
  const file = join(dir, 'state.json');
  requireRegularFile(file);
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TorchmotionError(
      `${file} is not a readable checkpoint state (${(err as Error).message.split('\n')[0]}): ` +
        'the checkpoint is damaged; resume from an earlier checkpoints/step-… folder',
      { cause: err }
    );
  }
  const step = (state as { step?: unknown } | null)?.step;
  if (typeof state !== 'object' || state === null || !Number.isInteger(step) || (step as number) < 0) {
    throw new TorchmotionError(
      `${file} has no step count: the checkpoint is damaged; resume from an earlier checkpoints/step-… folder`
    );
  }
  return state as S;
}

// Whether a run folder holds a checkpoint at `steps` or later (a stage of a recipe that need not run again).
export function runReached(run: string, steps: number): boolean {
  const ck = existsSync(run) ? resolveCheckpoint(run) : undefined;
  return ck !== undefined && readCheckpointState(ck).step >= steps;
}

// A model.pt checked before LibTorch reads it: LibTorch's reader ends the process on some damaged files (a stack
// overflow in its type parser) instead of failing. The archive must open and every entry match its CRC-32 (streamed:
// bounded memory, one more read of the file), so damage is an error naming the file and the entry.
export async function verifyModelFile(file: string): Promise<void> {
  if (!existsSync(file)) return; // the load says so, naming it
  requireRegularFile(file); // a pipe would block the open
  let zip: ZipArchive;
  try {
    zip = await ZipArchive.open(file);
  } catch (err) {
    throw new TorchmotionError(
      `${file} is not a complete checkpoint (truncated, or not written by torchmotion): ` +
        (err as Error).message.replace(`${file}: `, ''),
      { cause: err }
    );
  }
  try {
    for (const name of zip.entries.keys()) zip.verify(name);
  } finally {
    zip.close();
  }
}
