// Writing what PyTorch loads: torch.save's zip format (a protocol-2 pickle of nested dicts whose tensors are
// persistent ids into `data/<key>` entries) and safetensors (Hugging Face's: a JSON header, then the raw tensors).
// Tensors are written one at a time as they are produced, so an export needs one tensor in memory, not the model.
// The zip is written here rather than with a zip package because torch.save aligns every tensor to 64 bytes (so
// torch.load can map it), which needs control over each local header's extra field; ZIP64 records are added when
// an entry or the archive passes 4 GiB.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

import { TorchmotionError } from '../errors.js';
import { ITEM_SIZE, type TorchDtype } from './unpickle.js';

export interface TensorOut {
  name: string;
  dtype: TorchDtype;
  shape: number[];
  data: () => Uint8Array;
}

// Nested dicts of tensors and plain values, written as OrderedDicts / dicts in the pickle.
export type PickleValue = TensorOut | number | string | boolean | null | PickleValue[] | Map<string, PickleValue>;

const STORAGE_CLASS: Record<TorchDtype, string> = {
  f4: 'FloatStorage',
  f8: 'DoubleStorage',
  f2: 'HalfStorage',
  bf16: 'BFloat16Storage',
  i8: 'LongStorage',
  i4: 'IntStorage',
  i2: 'ShortStorage',
  i1: 'CharStorage',
  u1: 'ByteStorage',
  b1: 'BoolStorage',
};
const SAFETENSORS_DTYPE: Record<TorchDtype, string> = {
  f4: 'F32',
  f8: 'F64',
  f2: 'F16',
  bf16: 'BF16',
  i8: 'I64',
  i4: 'I32',
  i2: 'I16',
  i1: 'I8',
  u1: 'U8',
  b1: 'BOOL',
};

const isTensor = (v: unknown): v is TensorOut =>
  typeof v === 'object' && v !== null && 'data' in v && 'dtype' in v && 'shape' in v;

// --- the pickle ---------------------------------------------------------------------------------------------------

class PickleWriter {
  private parts: Buffer[] = [];
  readonly tensors: TensorOut[] = [];
  op(...bytes: number[]) {
    this.parts.push(Buffer.from(bytes));
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58; // BINUNICODE
    head.writeUInt32LE(b.length, 1);
    this.parts.push(head, b);
  }
  global(module: string, name: string) {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }
  int(v: number) {
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(v, 1);
      this.parts.push(b);
    } else if (Number.isInteger(v)) {
      const b = Buffer.alloc(10);
      b[0] = 0x8a; // LONG1, 8 bytes little-endian two's complement
      b[1] = 8;
      b.writeBigInt64LE(BigInt(v), 2);
      this.parts.push(b);
    } else {
      const b = Buffer.alloc(9);
      b[0] = 0x47; // BINFLOAT, big-endian
      b.writeDoubleBE(v, 1);
      this.parts.push(b);
    }
  }
  tuple(items: number[]) {
    this.op(0x28);
    for (const i of items) this.int(i);
    this.op(0x74);
  } // MARK … TUPLE
  value(v: PickleValue) {
    if (isTensor(v)) return this.tensor(v);
    if (v === null) return this.op(0x4e);
    if (typeof v === 'boolean') return this.op(v ? 0x88 : 0x89);
    if (typeof v === 'number') return this.int(v);
    if (typeof v === 'string') return this.str(v);
    if (Array.isArray(v)) {
      this.op(0x5d, 0x28);
      for (const x of v) this.value(x);
      return this.op(0x65);
    } // EMPTY_LIST MARK … APPENDS
    this.global('collections', 'OrderedDict');
    this.op(0x29, 0x52); // EMPTY_TUPLE REDUCE
    if (v.size === 0) return;
    this.op(0x28);
    for (const [k, x] of v) {
      this.str(k);
      this.value(x);
    }
    this.op(0x75); // SETITEMS
  }
  // torch._utils._rebuild_tensor_v2(('storage', <class>, key, 'cpu', numel), 0, size, stride, False, OrderedDict())
  private tensor(t: TensorOut) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const key = String(this.tensors.length);
    this.tensors.push(t);
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28, 0x28); // MARK (args) MARK (persistent id)
    this.str('storage');
    this.global('torch', STORAGE_CLASS[t.dtype]);
    this.str(key);
    this.str('cpu');
    this.int(numel);
    this.op(0x74, 0x51); // TUPLE BINPERSID
    this.int(0);
    this.tuple(t.shape);
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    this.tuple(stride);
    this.op(0x89); // False
    this.global('collections', 'OrderedDict');
    this.op(0x29, 0x52, 0x74, 0x52); // EMPTY_TUPLE REDUCE, TUPLE (args) REDUCE
  }
  finish(root: PickleValue): Buffer {
    this.op(0x80, 2); // PROTO 2
    this.value(root);
    this.op(0x2e); // STOP
    return Buffer.concat(this.parts);
  }
}

// --- the zip --------------------------------------------------------------------------------------------------------

const ALIGN = 64;
const U32 = 0xffffffff;

interface Written {
  name: Buffer;
  offset: number;
  size: number;
  crc: number;
}

class ZipWriter {
  private pos = 0;
  private readonly written: Written[] = [];
  constructor(private readonly fd: number) {}

  private raw(b: Uint8Array) {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done, this.pos + done);
    this.pos += b.length;
  }

  add(name: string, data: Uint8Array) {
    const nameBytes = Buffer.from(name, 'utf8');
    const big = data.length >= U32 || this.pos >= U32;
    const zip64 = big ? Buffer.alloc(20) : Buffer.alloc(0);
    if (big) {
      zip64.writeUInt16LE(0x0001, 0);
      zip64.writeUInt16LE(16, 2);
      zip64.writeBigUInt64LE(BigInt(data.length), 4);
      zip64.writeBigUInt64LE(BigInt(data.length), 12);
    }
    // Pad the extra field so the data starts on a 64-byte boundary (torch.save does the same with its 'FB' record).
    const before = this.pos + 30 + nameBytes.length + zip64.length + 4;
    const pad = (ALIGN - (before % ALIGN)) % ALIGN;
    const padding = Buffer.alloc(4 + pad);
    padding.writeUInt16LE(0x4246, 0);
    padding.writeUInt16LE(pad, 2);
    const extra = Buffer.concat([zip64, padding]);
    const crc = crc32(data);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(big ? 45 : 20, 4);
    h.writeUInt16LE(0x0800, 6); // UTF-8 names
    h.writeUInt16LE(0, 8); // stored
    h.writeUInt32LE(crc >>> 0, 14);
    h.writeUInt32LE(big ? U32 : data.length, 18);
    h.writeUInt32LE(big ? U32 : data.length, 22);
    h.writeUInt16LE(nameBytes.length, 26);
    h.writeUInt16LE(extra.length, 28);
    const offset = this.pos;
    this.raw(h);
    this.raw(nameBytes);
    this.raw(extra);
    this.raw(data);
    this.written.push({ name: nameBytes, offset, size: data.length, crc: crc >>> 0 });
  }

  finish() {
    const start = this.pos;
    for (const w of this.written) {
      const big = w.size >= U32 || w.offset >= U32;
      const zip64 = Buffer.alloc(big ? 28 : 0);
      if (big) {
        zip64.writeUInt16LE(0x0001, 0);
        zip64.writeUInt16LE(24, 2);
        zip64.writeBigUInt64LE(BigInt(w.size), 4);
        zip64.writeBigUInt64LE(BigInt(w.size), 12);
        zip64.writeBigUInt64LE(BigInt(w.offset), 20);
      }
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(big ? 45 : 20, 4);
      c.writeUInt16LE(big ? 45 : 20, 6);
      c.writeUInt16LE(0x0800, 8);
      c.writeUInt32LE(w.crc, 16);
      c.writeUInt32LE(big ? U32 : w.size, 20);
      c.writeUInt32LE(big ? U32 : w.size, 24);
      c.writeUInt16LE(w.name.length, 28);
      c.writeUInt16LE(zip64.length, 30);
      c.writeUInt32LE(big ? U32 : w.offset, 42);
      this.raw(c);
      this.raw(w.name);
      this.raw(zip64);
    }
    const size = this.pos - start;
    const n = this.written.length;
    if (start >= U32 || size >= U32 || n >= 0xffff) {
      const rec = Buffer.alloc(56);
      rec.writeUInt32LE(0x06064b50, 0);
      rec.writeBigUInt64LE(44n, 4);
      rec.writeUInt16LE(45, 12);
      rec.writeUInt16LE(45, 14);
      rec.writeBigUInt64LE(BigInt(n), 24);
      rec.writeBigUInt64LE(BigInt(n), 32);
      rec.writeBigUInt64LE(BigInt(size), 40);
      rec.writeBigUInt64LE(BigInt(start), 48);
      const recAt = this.pos;
      this.raw(rec);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(recAt), 8);
      loc.writeUInt32LE(1, 16);
      this.raw(loc);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(n, 0xffff), 8);
    end.writeUInt16LE(Math.min(n, 0xffff), 10);
    end.writeUInt32LE(Math.min(size, U32), 12);
    end.writeUInt32LE(Math.min(start, U32), 16);
    this.raw(end);
  }
}

function checked(t: TensorOut): Uint8Array {
  const bytes = t.data();
  const want = t.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[t.dtype];
  if (bytes.length !== want) {
    throw new TorchmotionError(
      `export: ${t.name} has ${bytes.length} bytes, its shape (${t.shape.join(', ')}) of ${t.dtype} needs ${want}`
    );
  }
  return bytes;
}

// Written to <file>.tmp, flushed, then renamed: an interrupted export never leaves a file PyTorch half-reads.
function atomically(file: string, write: (fd: number) => void): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* closed already */
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}

// A torch.save file of `root` (the archive's folder is named after the file, as torch.save names it).
export function writeTorchFile(file: string, root: PickleValue, archiveName = 'archive'): void {
  const pickle = new PickleWriter();
  const pkl = pickle.finish(root);
  atomically(file, (fd) => {
    const zip = new ZipWriter(fd);
    zip.add(`${archiveName}/data.pkl`, pkl);
    zip.add(`${archiveName}/byteorder`, Buffer.from('little'));
    pickle.tensors.forEach((t, i) => zip.add(`${archiveName}/data/${i}`, checked(t)));
    zip.add(`${archiveName}/version`, Buffer.from('3\n'));
    zip.finish();
  });
}

// safetensors: 8-byte header length, the JSON header (padded with spaces to 8 bytes), then every tensor back to back.
export function writeSafetensors(file: string, tensors: TensorOut[], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let at = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[t.dtype];
    header[t.name] = { dtype: SAFETENSORS_DTYPE[t.dtype], shape: t.shape, data_offsets: [at, at + size] };
    at += size;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  atomically(file, (fd) => {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    let pos = 0;
    const raw = (b: Uint8Array) => {
      let d = 0;
      while (d < b.length) d += writeSync(fd, b, d, b.length - d, pos + d);
      pos += b.length;
    };
    raw(length);
    raw(json);
    for (const t of tensors) raw(checked(t));
  });
}
