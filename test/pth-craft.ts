// Hostile PyTorch and safetensors files for the tests, made in TypeScript: a pickle written opcode by opcode (so a
// tensor can declare any storage, offset, shape and stride), zipped with stored entries, the archive's records found
// for patching (duplicated names, overlaps, damaged bytes), and a safetensors file with any header text.
import { zipSync } from 'fflate';

import { HAAR_WAVELETS, toReferenceName, unpatcherIndex } from '../ts/pytorch/reference-tokenizer.js';
import type { TensorOut } from '../ts/pytorch/write.js';
import { resolveModel } from '../ts/tokenizer/config.js';
import { TokenizerModel } from '../ts/tokenizer/model.js';

// A tensor as _rebuild_tensor_v2 receives it: `storage` is normally [class, key, numel] (a persistent id), but may be
// any value; offset, shape and stride may be any value too.
export interface PyTensor {
  storage: [string, string, number] | Py;
  offset?: Py;
  shape: Py;
  stride?: Py;
}
export type Py =
  | null
  | number
  | bigint
  | string
  | boolean
  | Py[]
  | Map<string, Py>
  | { global: [string, string] }
  | { tensor: PyTensor };

export const rowMajor = (shape: number[]) => shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

export function pickle(root: Py): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 2])];
  const op = (...b: number[]): void => void parts.push(Buffer.from(b));
  const global = (module: string, name: string): void =>
    void parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58; // BINUNICODE
    head.writeUInt32LE(b.length, 1);
    parts.push(head, b);
  };
  const value = (v: Py, tuple = false): void => {
    if (v === null) return op(0x4e);
    if (typeof v === 'boolean') return op(v ? 0x88 : 0x89);
    if (typeof v === 'string') return str(v);
    const long = typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 2 ** 31 && Math.abs(v) < 2 ** 63;
    if (typeof v === 'bigint' || long) {
      const b = Buffer.alloc(10);
      b[0] = 0x8a; // LONG1, 8 bytes
      b[1] = 8;
      b.writeBigInt64LE(BigInt(v), 2);
      return void parts.push(b);
    }
    if (typeof v === 'number') {
      const int = Math.abs(v) < 2 ** 31 && Number.isInteger(v);
      const b = Buffer.alloc(int ? 5 : 9);
      if (int) {
        b[0] = 0x4a;
        b.writeInt32LE(v, 1);
      } else {
        b[0] = 0x47;
        b.writeDoubleBE(v, 1);
      } // BININT, BINFLOAT
      return void parts.push(b);
    }
    if (Array.isArray(v)) {
      if (tuple) {
        op(0x28);
        v.forEach((x) => value(x));
        return op(0x74);
      } // MARK … TUPLE
      op(0x5d, 0x28);
      v.forEach((x) => value(x));
      return op(0x65); // EMPTY_LIST MARK … APPENDS
    }
    if (v instanceof Map) {
      op(0x7d, 0x28); // EMPTY_DICT MARK … SETITEMS
      for (const [k, x] of v) {
        str(k);
        value(x);
      }
      return op(0x75);
    }
    if ('global' in v) return global(...v.global);
    const t = v.tensor;
    global('torch._utils', '_rebuild_tensor_v2');
    op(0x28);
    if (Array.isArray(t.storage) && t.storage.length === 3 && typeof t.storage[0] === 'string') {
      op(0x28);
      str('storage');
      global('torch', t.storage[0]);
      value(t.storage[1]);
      str('cpu');
      value(t.storage[2]);
      op(0x74, 0x51); // TUPLE BINPERSID
    } else {
      value(t.storage as Py);
    }
    value(t.offset ?? 0);
    value(t.shape, true);
    value(t.stride ?? rowMajor(t.shape as number[]), true);
    op(0x89);
    global('collections', 'OrderedDict');
    op(0x29, 0x52, 0x74, 0x52); // EMPTY_TUPLE REDUCE, TUPLE REDUCE
  };
  value(root);
  op(0x2e);
  return Buffer.concat(parts);
}

// A torch.save archive: the pickle and each storage's bytes under data/<key>, stored.
export function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array>): Buffer {
  const files: Record<string, [Uint8Array, { level: 0 }]> = { 'archive/data.pkl': [pkl, { level: 0 }] };
  for (const [key, bytes] of Object.entries(storages)) files[`archive/data/${key}`] = [bytes, { level: 0 }];
  files['archive/version'] = [Buffer.from('3\n'), { level: 0 }];
  return Buffer.from(zipSync(files, { level: 0 }));
}

export const f32 = (values: ArrayLike<number>) => Buffer.from(Float32Array.from(values).buffer);
const bytesOf = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

// A tensor over its own storage `key` (row-major, numel elements).
export const plainTensor = (key: string, shape: number[], cls = 'FloatStorage'): { tensor: PyTensor } => ({
  tensor: { storage: [cls, key, shape.reduce((a, b) => a * b, 1)], shape },
});

// Where the archive's records are: each central record's position and fields, and its local header's.
export interface ZipRecord {
  name: string;
  central: number;
  local: number;
  data: number;
  size: number;
  crc: number;
}
export function zipRecords(zip: Buffer): ZipRecord[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 5, 6]));
  const out: ZipRecord[] = [];
  for (let at = zip.readUInt32LE(end + 16), n = zip.readUInt16LE(end + 10); n > 0; n--) {
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    out.push({
      name: zip.subarray(at + 46, at + 46 + nameLength).toString(),
      central: at,
      local,
      data: local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28),
      size: zip.readUInt32LE(at + 20),
      crc: zip.readUInt32LE(at + 16),
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}

// The safetensors layout around any header text.
export function safetensorsBytes(header: string, data: Uint8Array): Buffer {
  const json = Buffer.from(header, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

// The tiny tokenizer's weights in the reference's layout (names, patchers' buffers), as export.ts writes them.
export function tinyReferenceTokenizer(): TensorOut[] {
  const sd = new TokenizerModel(resolveModel({ preset: 'tiny' }), { seed: 3 }).stateDict();
  const patcher = (prefix: string): TensorOut[] => [
    { name: `${prefix}.wavelets`, dtype: 'f4', shape: [2], data: () => f32(HAAR_WAVELETS) },
    { name: `${prefix}._arange`, dtype: 'i8', shape: [2], data: () => Buffer.from(new BigInt64Array([0n, 1n]).buffer) },
  ];
  const weights = Object.entries(sd).map(([n, t]): TensorOut => ({
    name: toReferenceName(n),
    dtype: 'f4',
    shape: t.shape,
    data: () => bytesOf(t.data as Float32Array),
  }));
  const last = unpatcherIndex(Object.keys(sd));
  return [...patcher('vqvae.encoder.model.0'), ...weights, ...patcher(`vqvae.decoder.model.${last}`)];
}
