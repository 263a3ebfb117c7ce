// `--ckpt model.pth` (or .safetensors) wherever a command takes a checkpoint: the file is imported once into a run
// under the system's temporary folder, keyed by its path, size and modification time, and that run is used.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { requireCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';
import { importCheckpoint, type ImportKind, type ImportOptions } from './import.js';
import { isWeightsFile } from './weights.js';

export function importedRunFor(file: string): string {
  const st = statSync(file);
  const key = createHash('sha256').update(`${resolve(file)}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16);
  return join(tmpdir(), 'torchmotion-imports', key);
}

// A checkpoint folder for `path`: the folder itself (as requireCheckpoint resolves it), or the import of a weights file.
export async function checkpointFor(path: string, kind: ImportKind, o: Omit<ImportOptions, 'kind'> = {}): Promise<string> {
  if (!isWeightsFile(path) || !existsSync(path) || statSync(path).isDirectory()) return requireCheckpoint(path);
  const run = importedRunFor(path);
  if (!resolveCheckpoint(run)) await importCheckpoint(path, run, { ...o, kind });
  return requireCheckpoint(run);
}
