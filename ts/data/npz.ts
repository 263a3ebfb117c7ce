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
      failure ??= `member ${member.name} ${why}`;   // no more slices are pushed once this is set
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
  // In slices: fflate inflates all it is given in one pass, so one push of the whole file would inflate a bomb whole
  // before any check ran. 16 KiB of deflate input is at most ~16 MiB of output.
  const SLICE = 1 << 14;
  try {
    for (let at = 0; at < bytes.length && !failure; at += SLICE) unzip.push(bytes.subarray(at, at + SLICE), at + SLICE >= bytes.length);
    if (bytes.length === 0) unzip.push(bytes, true);
  } catch (err) {
    failure ??= (err as Error).message;
  }
  // The streaming reader never looks at the central directory; a file cut between members would read as fewer members.
  if (!failure && !hasEndOfCentralDirectory(bytes)) failure = 'truncated: no end-of-central-directory record';
  if (failure) throw new TorchmotionError(`${file}: not a readable .npz (zip) archive: ${failure}`);
  const out: Record<string, NpyArray> = {};
  for (const [name, data] of Object.entries(members)) out[name.slice(0, -4)] = parseNpy(data, `${file}:${name}`);
  return out;
}

// The zip's last record, "PK\x05\x06", sits in its final 22 bytes plus at most a 64 KiB comment.
function hasEndOfCentralDirectory(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && bytes[i + 2] === 0x05 && bytes[i + 3] === 0x06) return true;
  }
  return false;
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
