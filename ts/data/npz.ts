// NumPy .npz archives (a zip of .npy members, stored or deflated) through fflate.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

import { Unzip, UnzipInflate, zipSync, type Zippable } from 'fflate';

import { TorchmotionError } from '../errors.js';
import { requireRegularFile } from '../files.js';
import { encodeNpy, itemSize, parseNpy, parseNpyHeader, type NpyArray, type NpyData } from './npy.js';

// A member may not inflate past this (1 GiB: a 272-dim float64 motion of 4.5 hours), nor past what its .npy header
// declares: a zip bomb fails after its first chunk, in bounded memory. TORCHMOTION_NPZ_MAX_MB raises the cap.
export function npzMemberCap(): number {
  const mb = Number(process.env.TORCHMOTION_NPZ_MAX_MB ?? 1024);
  return (Number.isFinite(mb) && mb > 0 ? mb : 1024) * 2 ** 20;
}

export function readNpz(file: string, only?: readonly string[]): Record<string, NpyArray> {
  let bytes: Uint8Array;
  requireRegularFile(file);
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new TorchmotionError(`${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const cap = npzMemberCap();
  const members: Record<string, Uint8Array> = {};
  let failure: string | undefined;
  const unzip = new Unzip((member) => {
    if (failure || !member.name.endsWith('.npy') || (only && !only.includes(member.name.slice(0, -4)))) return;
    const chunks: Uint8Array[] = [];
    let length = 0;
    let expected: number | undefined;
    const stop = (why: string) => {
      failure ??= `member ${member.name} ${why}`;
      member.terminate();
    };
    if (member.originalSize !== undefined && member.originalSize > cap) {
      return stop(`declares ${member.originalSize} bytes, more than the ${cap / 2 ** 20} MiB a member may hold (TORCHMOTION_NPZ_MAX_MB)`);
    }
    member.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) return stop(`cannot be inflated: ${err.message}`);
      chunks.push(chunk);
      length += chunk.length;
      if (expected === undefined && length >= 128) {
        const head = concat(chunks, length);
        try {
          const h = parseNpyHeader(head, `${file}:${member.name}`);
          expected = h.dataOffset + h.shape.reduce((x, y) => x * y, 1) * itemSize(h.dtype);
        } catch {
          // The header may not be complete yet (it can be 64 KiB); past that it is broken and parseNpy says so below.
          if (length > 70000) expected = cap;
        }
        if (expected !== undefined && expected > cap) return stop(`declares an array of ${expected} bytes, more than the ${cap / 2 ** 20} MiB a member may hold (TORCHMOTION_NPZ_MAX_MB)`);
      }
      if (length > Math.min(cap, expected ?? cap)) return stop(`inflates past the ${Math.min(cap, expected ?? cap)} bytes it declares`);
      if (final) members[member.name] = concat(chunks, length);
    };
    member.start();
  });
  unzip.register(UnzipInflate);
  try {
    unzip.push(bytes, true);
  } catch (err) {
    failure ??= (err as Error).message;
  }
  if (failure) throw new TorchmotionError(`${file}: not a readable .npz (zip) archive: ${failure}`);
  if (Object.keys(members).length === 0 && bytes.length > 0 && !(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw new TorchmotionError(`${file}: not a readable .npz (zip) archive: it does not start with a zip signature`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, data] of Object.entries(members)) out[name.slice(0, -4)] = parseNpy(data, `${file}:${name}`);
  return out;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  chunks.splice(0, chunks.length, out);
  return out;
}

export function writeNpz(file: string, arrays: Record<string, { data: NpyData; shape: readonly number[] }>, options: { compress?: boolean } = {}): void {
  const members: Zippable = {};
  for (const [name, a] of Object.entries(arrays)) members[`${name}.npy`] = [encodeNpy(a), { level: options.compress ? 6 : 0 }];
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, zipSync(members));
  renameSync(tmp, file);
}
