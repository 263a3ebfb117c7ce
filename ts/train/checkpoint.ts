// Checkpoints are directories (model.pt from the addon + state.json from TypeScript) made under a temporary name and
// renamed into place, so an interrupted write never replaces a good checkpoint; `latest` names the newest one.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';

export interface CheckpointState {
  step: number;
  [key: string]: unknown;
}

export function checkpointsDir(run: string): string {
  return join(run, 'checkpoints');
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export async function saveCheckpoint(run: string, state: CheckpointState, saveModel: (file: string) => Promise<void>, keep = 3): Promise<string> {
  const root = checkpointsDir(run);
  mkdirSync(root, { recursive: true });
  const name = `step-${String(state.step).padStart(8, '0')}`;
  const dir = join(root, name);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  await saveModel(join(tmp, 'model.pt'));
  writeFileSync(join(tmp, 'state.json'), JSON.stringify(state, null, 2));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  writeAtomic(join(root, 'latest'), name + '\n');
  const old = readdirSync(root).filter((f) => /^step-\d+$/.test(f)).sort();
  for (const f of old.slice(0, Math.max(0, old.length - keep))) rmSync(join(root, f), { recursive: true, force: true });
  return dir;
}

// A checkpoint directory, a run directory (its latest checkpoint), or undefined when a run has none yet.
export function resolveCheckpoint(path: string): string | undefined {
  if (existsSync(join(path, 'state.json')) && existsSync(join(path, 'model.pt'))) return path;
  const latest = join(checkpointsDir(path), 'latest');
  if (!existsSync(latest)) return undefined;
  const dir = join(checkpointsDir(path), readFileSync(latest, 'utf8').trim());
  if (!existsSync(join(dir, 'state.json'))) throw new TorchmotionError(`${latest} names ${dir}, which is not a complete checkpoint`);
  return dir;
}

export function requireCheckpoint(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new TorchmotionError(`checkpoint ${path} does not exist: pass a run folder or one of its checkpoints/step-… folders`);
  }
  const dir = resolveCheckpoint(path);
  if (!dir) throw new TorchmotionError(`${path} holds no checkpoint yet (no checkpoints/latest): train first or pass a checkpoint folder`);
  return dir;
}

export function readCheckpointState<S extends CheckpointState>(dir: string): S {
  return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as S;
}
