// NumPy .npy files: header first, then only the rows asked for. Supports f4 f8 i4 i8 u1 b1, both byte
// orders, C and Fortran order, format versions 1–3. Every failure names the file and what is wrong with it.
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';

import { TorchmotionError } from '../errors.js';
import { requireRegularFile, writeViaRename } from '../files.js';
import { dtypeOf, type Dtype } from '../tensor.js';

export type NpyDtype = 'f4' | 'f8' | 'i4' | 'i8' | 'u1' | 'b1';
export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface NpyArray<D extends NpyData = NpyData> {
  dtype: NpyDtype;
  shape: number[];
  data: D; // C order, host byte order
}

export interface NpyHeader {
  version: number;
  dtype: NpyDtype;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = { f4: 4, f8: 8, i4: 4, i8: 8, u1: 1, b1: 1 };
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function itemSize(dtype: NpyDtype): number {
  return ITEM_SIZE[dtype];
}

function fail(file: string, what: string): never {
  throw new TorchmotionError(`${file}: ${what}`);
}

// Parses the header at the start of `bytes` (which must hold at least the whole header).
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    fail(file, 'not a .npy file (the \\x93NUMPY magic is missing)');
  const version = bytes[6];
  if (version < 1 || version > 3)
    fail(file, `unsupported .npy format version ${version}.${bytes[7]} (supported: 1, 2, 3)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = version === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail(file, 'truncated inside the .npy header');
  const headerLen = version === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (bytes.length < start + headerLen)
    fail(file, `truncated: the header needs ${start + headerLen} bytes, the file has ${bytes.length}`);
  const text = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = text.match(/'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/);
  const fortran = text.match(/'fortran_order'\s*:\s*(True|False)/);
  const shapeText = text.match(/'shape'\s*:\s*\(([^)]*)\)/);
  if (!descr || !fortran || !shapeText) fail(file, `malformed .npy header: ${JSON.stringify(text.trim())}`);
  const dtype = `${descr[2]}${descr[3]}` as NpyDtype;
  if (!(dtype in ITEM_SIZE)) fail(file, `unsupported dtype '${descr[1]}${dtype}' (supported: f4, f8, i4, i8, u1, b1)`);
  const shape = shapeText[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    fail(file, `malformed shape (${shapeText[1]}) in the .npy header`);
  const order = descr[1];
  const littleEndian = order === '<' || order === '|' || (order === '=' && HOST_LITTLE);
  return { version, dtype, littleEndian, fortranOrder: fortran[1] === 'True', shape, dataOffset: start + headerLen };
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function typedArray(dtype: NpyDtype, buffer: ArrayBuffer, length: number): NpyData {
  switch (dtype) {
    case 'f4':
      return new Float32Array(buffer, 0, length);
    case 'f8':
      return new Float64Array(buffer, 0, length);
    case 'i4':
      return new Int32Array(buffer, 0, length);
    case 'i8':
      return new BigInt64Array(buffer, 0, length);
    default:
      return new Uint8Array(buffer, 0, length);
  }
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

// Turns raw element bytes (file order) into a host-order typed array, transposing Fortran-ordered data to C order.
function decode(header: NpyHeader, raw: Uint8Array, shape: number[], file: string): NpyArray {
  const size = ITEM_SIZE[header.dtype];
  if (header.littleEndian !== HOST_LITTLE) swapBytes(raw, size);
  let data = typedArray(header.dtype, raw.buffer as ArrayBuffer, numel(shape));
  if (header.fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  if (header.dtype === 'b1') {
    const bad = (data as Uint8Array).findIndex((v) => v > 1);
    if (bad >= 0) fail(file, `bool element ${bad} holds ${data[bad]}, not 0 or 1`);
  }
  return { dtype: header.dtype, shape, data };
}

function fortranToC(src: NpyData, shape: number[]): NpyData {
  const out = new (src.constructor as new (n: number) => NpyData)(src.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const cStrides = new Array<number>(rank);
  cStrides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) cStrides[d] = cStrides[d + 1] * shape[d + 1];
  for (let f = 0; f < src.length; f++) {
    let c = 0;
    for (let d = 0; d < rank; d++) c += idx[d] * cStrides[d];
    (out as unknown as number[])[c] = (src as unknown as number[])[f];
    for (let d = 0; d < rank && ++idx[d] === shape[d]; d++) idx[d] = 0; // Fortran: first index fastest
  }
  return out;
}

function readExact(fd: number, length: number, position: number, file: string, what: string): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(length)); // own, aligned buffer: typed arrays view it directly
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, length - got, position + got);
    if (n === 0)
      fail(
        file,
        `truncated: ${what} needs ${length} bytes at offset ${position}, the file ends after ${position + got}`
      );
    got += n;
  }
  return out;
}

export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const header = parseNpyHeader(bytes, file);
  const length = numel(header.shape) * ITEM_SIZE[header.dtype];
  if (bytes.length < header.dataOffset + length) {
    fail(
      file,
      `truncated: shape (${header.shape.join(', ')}) of ${header.dtype} needs ${length} data bytes, ` +
        `the file has ${bytes.length - header.dataOffset}`
    );
  }
  const raw = new Uint8Array(new ArrayBuffer(length));
  raw.set(bytes.subarray(header.dataOffset, header.dataOffset + length));
  return decode(header, raw, header.shape, file);
}

// An open .npy file: the header is read once, then any range of rows (first axis) on demand.
export class NpyFile {
  readonly header: NpyHeader;
  private fd: number;

  constructor(readonly file: string) {
    requireRegularFile(file);
    try {
      this.fd = openSync(file, 'r');
    } catch (err) {
      throw new TorchmotionError(
        `${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
      );
    }
    try {
      const size = fstatSync(this.fd).size;
      const head = readExact(this.fd, Math.min(size, 4096), 0, file, 'the header');
      let header = parseNpyHeaderOrLonger(head, file);
      if (!header) header = parseNpyHeader(readExact(this.fd, Math.min(size, 1 << 20), 0, file, 'the header'), file);
      this.header = header;
      const need = header.dataOffset + numel(header.shape) * ITEM_SIZE[header.dtype];
      if (size < need) {
        fail(
          file,
          `truncated: shape (${header.shape.join(', ')}) of ${header.dtype} needs ${need} bytes, the file has ${size}`
        );
      }
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  get rows(): number {
    return this.header.shape[0] ?? 1;
  }

  // Rows [start, start+count) along the first axis, as a C-order array of shape [count, ...rest].
  readRows(start: number, count: number): NpyArray {
    const { header, file } = this;
    if (header.shape.length === 0) fail(file, 'a 0-d array has no rows');
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > this.rows) {
      fail(file, `rows [${start}, ${start + count}) are outside the ${this.rows} rows of the file`);
    }
    const rest = header.shape.slice(1);
    const rowElems = numel(rest);
    const size = ITEM_SIZE[header.dtype];
    const shape = [count, ...rest];
    if (!header.fortranOrder || rest.length === 0) {
      const raw = readExact(
        this.fd,
        count * rowElems * size,
        header.dataOffset + start * rowElems * size,
        file,
        'the rows'
      );
      return decode({ ...header, fortranOrder: false }, raw, shape, file);
    }
    // Fortran order: the first axis varies fastest, so each of the other positions holds a contiguous run of rows.
    const raw = new Uint8Array(new ArrayBuffer(count * rowElems * size));
    for (let k = 0; k < rowElems; k++) {
      const part = readExact(
        this.fd,
        count * size,
        header.dataOffset + (k * this.rows + start) * size,
        file,
        'the rows'
      );
      raw.set(part, k * count * size);
    }
    return decode(header, raw, shape, file);
  }

  readAll(): NpyArray {
    return this.header.shape.length === 0
      ? decode(
          this.header,
          readExact(this.fd, ITEM_SIZE[this.header.dtype], this.header.dataOffset, this.file, 'the value'),
          [],
          this.file
        )
      : this.readRows(0, this.rows);
  }

  close(): void {
    closeSync(this.fd);
  }
}

// Returns undefined when the 4 KiB probe is too short for a (rare) longer header.
function parseNpyHeaderOrLonger(head: Uint8Array, file: string): NpyHeader | undefined {
  if (head.length >= 12 && head[6] >= 2) {
    const len = new DataView(head.buffer).getUint32(8, true);
    if (12 + len > head.length) return undefined;
  }
  return parseNpyHeader(head, file);
}

export function readNpyHeader(file: string): NpyHeader {
  const f = new NpyFile(file);
  f.close();
  return f.header;
}

export function readNpy(file: string): NpyArray {
  const f = new NpyFile(file);
  try {
    return f.readAll();
  } finally {
    f.close();
  }
}

export function readNpyRows(file: string, start: number, count: number): NpyArray {
  const f = new NpyFile(file);
  try {
    return f.readRows(start, count);
  } finally {
    f.close();
  }
}

const NPY_DTYPE: Record<Dtype, NpyDtype> = { float32: 'f4', float64: 'f8', int32: 'i4', int64: 'i8', bool: 'u1' };

export function dtypeOfData(data: NpyData): NpyDtype {
  return NPY_DTYPE[dtypeOf(data)];
}

export interface EncodeOptions {
  dtype?: NpyDtype; // 'b1' to write a Uint8Array as bool; otherwise taken from the typed array
  bigEndian?: boolean;
  fortranOrder?: boolean; // the data given is C order; it is written transposed
  version?: 1 | 2 | 3;
}

// The header alone (magic, version, dict, padding so that data starts 64-byte aligned).
export function encodeNpyHeader(
  dtype: NpyDtype,
  shape: readonly number[],
  options: Omit<EncodeOptions, 'dtype'> = {}
): Uint8Array {
  const order = ITEM_SIZE[dtype] === 1 ? '|' : options.bigEndian ? '>' : '<';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict =
    `{'descr': '${order}${dtype}', 'fortran_order': ${options.fortranOrder ? 'True' : 'False'}, ` +
    `'shape': ${shapeText}, }`;
  const version = options.version ?? (dict.length + 12 > 65535 ? 2 : 1);
  const lenBytes = version === 1 ? 2 : 4;
  const unpadded = 8 + lenBytes + dict.length + 1;
  const headerLen = dict.length + 1 + ((64 - (unpadded % 64)) % 64);
  const out = new Uint8Array(8 + lenBytes + headerLen);
  out.set(MAGIC);
  out[6] = version;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  out.set(new TextEncoder().encode(dict.padEnd(headerLen - 1, ' ') + '\n'), 8 + lenBytes);
  return out;
}

export function encodeNpy(array: { data: NpyData; shape: readonly number[] }, options: EncodeOptions = {}): Uint8Array {
  const dtype = options.dtype ?? dtypeOfData(array.data);
  if (numel(array.shape) !== array.data.length) {
    throw new TorchmotionError(
      `encodeNpy: shape (${array.shape.join(', ')}) holds ${numel(array.shape)} elements ` +
        `but data has ${array.data.length}`
    );
  }
  const header = encodeNpyHeader(dtype, array.shape, options);
  const out = new Uint8Array(header.length + array.data.byteLength);
  out.set(header);
  let data = array.data;
  if (options.fortranOrder && array.shape.length > 1) data = cToFortran(data, [...array.shape]);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (ITEM_SIZE[dtype] > 1 && !!options.bigEndian === HOST_LITTLE) swapBytes(body, ITEM_SIZE[dtype]);
  out.set(body, header.length);
  return out;
}

function cToFortran(src: NpyData, shape: number[]): NpyData {
  // Transposing C→F for shape s equals F→C for the reversed shape.
  return fortranToC(src, [...shape].reverse());
}

// Writes through a temporary file and a rename, so a reader never sees half a file.
export function writeNpy(
  file: string,
  array: { data: NpyData; shape: readonly number[] },
  options: EncodeOptions = {}
): void {
  const bytes = encodeNpy(array, options);
  writeViaRename(file, (tmp) => writeFileSync(tmp, bytes));
}
