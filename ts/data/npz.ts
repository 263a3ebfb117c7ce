// NumPy .npz archives (a zip of .npy members, stored or deflated). The central directory is the archive's index (as
// numpy reads it); each member's local header must agree with it, members may not overlap or repeat, and each
// member's bytes must match its CRC-32, so a damaged or crafted archive is refused rather than read differently.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

import { Inflate, zipSync, type Zippable } from 'fflate';

import { printable, TorchmotionError } from '../errors.js';
import { requireRegularFile } from '../files.js';
import { encodeNpy, itemSize, parseNpy, parseNpyHeader, type NpyArray, type NpyData } from './npy.js';

// A member may not inflate past this (1 GiB: a 272-dim float64 motion of 4.5 hours), nor past what its .npy header
// declares: a zip bomb fails after its first chunk, in bounded memory. TORCHMOTION_NPZ_MAX_MB raises the cap.
export function npzMemberCap(): number {
  const mb = Number(process.env.TORCHMOTION_NPZ_MAX_MB ?? 1024);
  return (Number.isFinite(mb) && mb > 0 ? mb : 1024) * 2 ** 20;
}

class ZipProblem extends Error {}
const problem = (why: string): never => {
  throw new ZipProblem(why);
};

// `label` is the name as printed: a crafted name cannot put terminal escapes, nor 64 KiB, into a message.
const shown = (name: string) => printable(name.length > 100 ? `${name.slice(0, 100)}…` : name);
interface Member {
  name: string;
  label: string;
  flags: number;
  method: number;
  crc: number;
  size: number;
  packed: number;
  offset: number;
}

// Sizes and offsets of 0xffffffff (and counts of 0xffff) mean "in the zip64 record": numpy writes zip64 local headers.
const FULL32 = 0xffffffff;

// Little-endian readers over the archive; a 64-bit value past 2^53 reads as Infinity, which every bound then refuses.
function reader(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u16: (at: number) => view.getUint16(at, true),
    u32: (at: number) => view.getUint32(at, true),
    u64: (at: number) => {
      const v = view.getBigUint64(at, true);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
    },
    text: (at: number, length: number) => Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString('utf8'),
  };
}
type Reader = ReturnType<typeof reader>;

// The zip64 extra field (id 1) holds, in order, only the values whose 32-bit field is 0xffffffff; `values` gets them.
function zip64(r: Reader, at: number, length: number, values: number[], label: string): number[] {
  const wanted = values.filter((v) => v === FULL32).length;
  let wide: number[] = [];
  for (let p = at; p + 4 <= at + length && wanted > 0;) {
    const size = r.u16(p + 2);
    if (p + 4 + size > at + length) problem(`member ${label} has an extra field that runs past its header`);
    if (r.u16(p) === 1) {
      if (size < 8 * wanted) problem(`member ${label} has a short zip64 extra field`);
      wide = Array.from({ length: wanted }, (_, k) => r.u64(p + 4 + 8 * k));
      break;
    }
    p += 4 + size;
  }
  if (wide.length < wanted) problem(`member ${label} has 0xffffffff sizes but no zip64 extra field`);
  return values.map((v) => (v === FULL32 ? wide.shift()! : v));
}

// The central directory: the archive's list of members, with where each one starts.
function centralDirectory(bytes: Uint8Array): Member[] {
  const r = reader(bytes);
  // The zip's last record, "PK\x05\x06", sits in its final 22 bytes plus at most a 64 KiB comment.
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff) && end < 0; i--) {
    if (r.u32(i) === 0x06054b50) end = i;
  }
  if (end < 0) problem('truncated: no end-of-central-directory record');
  if (r.u16(end + 4) !== 0 || r.u16(end + 6) !== 0) problem('a multi-disk archive');
  let [count, dirSize, dirAt, dirLimit] = [r.u16(end + 10), r.u32(end + 12), r.u32(end + 16), end];
  if (count === 0xffff || dirSize === FULL32 || dirAt === FULL32) {
    const locator = end - 20;
    if (locator < 0 || r.u32(locator) !== 0x07064b50) problem('no zip64 end-of-directory locator');
    const record = r.u64(locator + 8);
    if (!(record + 56 <= locator) || r.u32(record) !== 0x06064b50) problem('a broken zip64 end-of-directory record');
    [count, dirSize, dirAt, dirLimit] = [r.u64(record + 32), r.u64(record + 40), r.u64(record + 48), record];
  }
  if (!(dirAt + dirSize <= dirLimit)) problem(`its central directory (${dirSize} bytes at ${dirAt}) lies past its end`);
  const members: Member[] = [];
  for (let p = dirAt; members.length < count;) {
    if (p + 46 > dirAt + dirSize || r.u32(p) !== 0x02014b50) {
      problem(`its central directory holds ${members.length} of the ${count} members it declares`);
    }
    const [nameLength, extraLength] = [r.u16(p + 28), r.u16(p + 30)];
    const next = p + 46 + nameLength + extraLength + r.u16(p + 32);
    if (next > dirAt + dirSize) problem('its central directory is cut short');
    const name = r.text(p + 46, nameLength);
    const label = shown(name);
    const fields = [r.u32(p + 24), r.u32(p + 20), r.u32(p + 42)]; // original size, compressed size, local header
    const [size, packed, offset] = zip64(r, p + 46 + nameLength, extraLength, fields, label);
    members.push({ name, label, flags: r.u16(p + 8), method: r.u16(p + 10), crc: r.u32(p + 16), size, packed, offset });
    p = next;
  }
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.name)) problem(`member ${m.label} appears twice (reading either would be a silent choice)`);
    seen.add(m.name);
  }
  return localData(r, members, dirAt);
}

// Each member's local header checked against its directory entry; returns the members with `offset` moved to the
// start of their data, in archive order, none overlapping another or the directory.
function localData(r: Reader, members: Member[], dirAt: number): Member[] {
  const spans = members
    .map((m) => {
      const fail = (why: string) => problem(`member ${m.label} ${why}`);
      if (m.flags & 1) fail('is encrypted');
      if (m.method !== 0 && m.method !== 8) fail(`uses compression method ${m.method} (only stored and deflated are)`);
      if (m.method === 0 && m.packed !== m.size) fail(`is stored, but its sizes differ (${m.packed}, ${m.size})`);
      const at = m.offset;
      if (!(at + 30 <= dirAt) || r.u32(at) !== 0x04034b50) fail(`has no local header at ${at}`);
      const [nameLength, extraLength] = [r.u16(at + 26), r.u16(at + 28)];
      const data = at + 30 + nameLength + extraLength;
      if (data > dirAt) fail('has a local header that runs into the central directory');
      const name = r.text(at + 30, nameLength);
      if (name !== m.name) fail(`has a local header that names it ${shown(name)}`);
      const [size, packed] = zip64(r, at + 30 + nameLength, extraLength, [r.u32(at + 22), r.u32(at + 18)], m.label);
      const local = { method: r.u16(at + 8), crc: r.u32(at + 14), packed, size };
      // With bit 3 set the CRC and sizes follow the data instead, and the local header holds zeros.
      for (const k of r.u16(at + 6) & 8 ? (['method'] as const) : (['method', 'crc', 'packed', 'size'] as const)) {
        if (local[k] !== m[k]) fail(`has a local header that gives ${k} ${local[k]}, its directory entry ${m[k]}`);
      }
      if (!(data + m.packed <= dirAt)) fail(`has ${m.packed} bytes that run into the central directory`);
      return { member: { ...m, offset: data }, from: at, to: data + m.packed };
    })
    .sort((a, b) => a.from - b.from);
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [spans[i - 1], spans[i]];
    if (b.from < a.to) {
      problem(`members ${a.member.label} (bytes ${a.from}–${a.to}) and ${b.member.label} (from ${b.from}) overlap`);
    }
  }
  return spans.map((s) => s.member);
}

// One member's bytes, inflated in slices: fflate inflates all it is given in one pass, so one push of the whole member
// would inflate a bomb whole before any check ran. 16 KiB of deflate input is at most ~16 MiB of output.
function memberBytes(bytes: Uint8Array, m: Member, file: string, cap: number): Uint8Array {
  const tooBig = (what: string) =>
    problem(
      `member ${m.label} declares ${what}, more than the ${cap / 2 ** 20} MiB ` +
        'a member may hold (TORCHMOTION_NPZ_MAX_MB)'
    );
  if (m.size > cap) tooBig(`${m.size} bytes`);
  const packed = bytes.subarray(m.offset, m.offset + m.packed);
  const chunks: Uint8Array[] = [];
  let length = 0;
  let limit = m.size;
  let headerDone = false;
  let crc = 0;
  const take = (chunk: Uint8Array) => {
    chunks.push(chunk);
    length += chunk.length;
    crc = crc32(chunk, crc);
    if (!headerDone && (length >= 128 || length === m.size)) {
      try {
        const h = parseNpyHeader(concat(chunks, length), `${file}:${m.label}`);
        const expected = h.dataOffset + h.shape.reduce((x, y) => x * y, 1) * itemSize(h.dtype);
        if (expected > cap) tooBig(`an array of ${expected} bytes`);
        limit = Math.min(limit, expected);
        headerDone = true;
      } catch (err) {
        if (err instanceof ZipProblem) throw err;
        // The header may not be complete yet (it can be 64 KiB); past that it is broken and parseNpy says so below.
        headerDone = length > 70000;
      }
    }
    if (length > limit) problem(`member ${m.label} inflates past the ${limit} bytes it declares`);
  };
  if (m.method === 0) {
    take(packed.slice());
  } else {
    const inflate = new Inflate((chunk) => take(chunk));
    const SLICE = 1 << 14;
    try {
      for (let at = 0; at < packed.length || at === 0; at += SLICE) {
        inflate.push(packed.subarray(at, at + SLICE), at + SLICE >= packed.length);
      }
    } catch (err) {
      if (err instanceof ZipProblem) throw err;
      problem(`member ${m.label} cannot be inflated: ${(err as Error).message}`);
    }
  }
  if (length !== m.size) problem(`member ${m.label} inflates to ${length} bytes, but the archive declares ${m.size}`);
  if (crc >>> 0 !== m.crc) problem(`member ${m.label} fails its CRC-32 check (the archive is damaged)`);
  return concat(chunks, length);
}

export function readNpz(file: string, only?: readonly string[]): Record<string, NpyArray> {
  let bytes: Uint8Array;
  requireRegularFile(file);
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new TorchmotionError(
      `${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
    );
  }
  const cap = npzMemberCap();
  const members: Record<string, Uint8Array> = {};
  try {
    for (const m of centralDirectory(bytes)) {
      if (!m.name.endsWith('.npy') || (only && !only.includes(m.name.slice(0, -4)))) continue;
      members[m.name] = memberBytes(bytes, m, file, cap);
    }
  } catch (err) {
    if (!(err instanceof ZipProblem)) throw err;
    throw new TorchmotionError(`${file}: not a readable .npz (zip) archive: ${err.message}`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, data] of Object.entries(members)) {
    out[name.slice(0, -4)] = parseNpy(data, `${file}:${printable(name)}`);
  }
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

export function writeNpz(
  file: string,
  arrays: Record<string, { data: NpyData; shape: readonly number[] }>,
  options: { compress?: boolean } = {}
): void {
  const members: Zippable = {};
  for (const [name, a] of Object.entries(arrays))
    members[`${name}.npy`] = [encodeNpy(a), { level: options.compress ? 6 : 0 }];
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, zipSync(members));
  renameSync(tmp, file);
}
