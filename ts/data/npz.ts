// NumPy .npz archives (a zip of .npy members, stored or deflated) through fflate.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

import { unzipSync, zipSync, type Zippable } from 'fflate';

import { TorchmotionError } from '../errors.js';
import { encodeNpy, parseNpy, type NpyArray, type NpyData } from './npy.js';

export function readNpz(file: string, only?: readonly string[]): Record<string, NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new TorchmotionError(`${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, { filter: (f) => f.name.endsWith('.npy') && (!only || only.includes(f.name.slice(0, -4))) });
  } catch (err) {
    throw new TorchmotionError(`${file}: not a readable .npz (zip) archive: ${(err as Error).message}`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, data] of Object.entries(members)) out[name.slice(0, -4)] = parseNpy(data, `${file}:${name}`);
  return out;
}

export function writeNpz(file: string, arrays: Record<string, { data: NpyData; shape: readonly number[] }>, options: { compress?: boolean } = {}): void {
  const members: Zippable = {};
  for (const [name, a] of Object.entries(arrays)) members[`${name}.npy`] = [encodeNpy(a), { level: options.compress ? 6 : 0 }];
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, zipSync(members));
  renameSync(tmp, file);
}
