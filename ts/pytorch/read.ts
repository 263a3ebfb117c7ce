// Reading torch.save files (PyTorch ≥ 1.6's zip format) without Python and without executing the pickle: the object
// tree comes back with TensorRefs in place of tensors, and a tensor's bytes are read only when asked for, so a file
// larger than memory can be imported one tensor at a time. What a tensor declares is checked against the bytes that
// back it before anything is allocated: its storage's entry must hold exactly the storage, the view must lie inside
// it, and a view may not have more elements than its storage (stride 0 would let a few bytes declare gigabytes).
import { describe, printable, TorchmotionError } from '../errors.js';
import { ITEM_SIZE, PyDict, TensorRef, type TorchDtype, unpickleTorch } from './unpickle.js';
import { ZipArchive } from './zip.js';

export interface RawTensor {
  dtype: TorchDtype;
  shape: number[];
  data: Buffer;
}
// first and last: the storage elements a view starts and ends at; contiguous: its elements in row-major order.
export interface TensorLayout {
  entry: string;
  contiguous: boolean;
  first: number;
  last: number;
}

export class TorchFile {
  private constructor(
    readonly file: string,
    private readonly zip: ZipArchive,
    private readonly prefix: string,
    readonly root: unknown,
    readonly skipped: string[]
  ) {}

  static async open(file: string): Promise<TorchFile> {
    const zip = await ZipArchive.open(file);
    try {
      const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
      if (!pkl) throw new TorchmotionError(`${file}: a zip, but not a torch.save file (no <name>/data.pkl entry)`);
      const prefix = pkl.slice(0, -'/data.pkl'.length);
      const order = zip.entries.get(`${prefix}/byteorder`);
      if (order && zip.read(order.name).toString().trim() !== 'little') {
        throw new TorchmotionError(`${file}: tensors are stored big-endian; re-save it on a little-endian machine`);
      }
      let parsed;
      try {
        parsed = unpickleTorch(zip.read(pkl));
      } catch (err) {
        if (err instanceof TorchmotionError) throw err; // the entry itself (damaged, truncated)
        // The parser's own errors name the opcode or value; an engine error (a TypeError from a stack the opcodes
        // emptied) would only describe the parser.
        const engine = err instanceof TypeError || err instanceof RangeError;
        const why = engine ? 'its opcodes do not build a value' : (err as Error).message;
        throw new TorchmotionError(`${file}: its pickle (${printable(pkl)}) cannot be read: ${why}`);
      }
      return new TorchFile(file, zip, prefix, parsed.root, parsed.skipped);
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  // Every tensor reachable from the root, with its dotted path (dict keys and list indices). A value the pickle
  // shares (memoised) is walked once: walking its object graph as a tree could take exponential time.
  tensors(from: unknown = this.root, path = ''): Array<[string, TensorRef]> {
    const out: Array<[string, TensorRef]> = [];
    const seen = new Set<unknown>();
    const walk = (v: unknown, p: string, depth: number) => {
      if (depth > 64 || seen.has(v)) return;
      if (v instanceof TensorRef) out.push([p, v]);
      else if (v instanceof Map) for (const [k, x] of v) walk(x, p ? `${p}.${String(k)}` : String(k), depth + 1);
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, p ? `${p}.${i}` : String(i), depth + 1));
      if (v instanceof Map || Array.isArray(v)) seen.add(v);
    };
    walk(from, path, 0);
    return out;
  }

  // Where a tensor's elements lie in its storage, once the bytes behind them are checked: the storage's entry holds
  // exactly numel × itemsize bytes, the view lies inside the storage and has no more elements than it.
  layout(t: TensorRef, name = 'a tensor'): TensorLayout {
    const item = ITEM_SIZE[t.dtype];
    const entry = this.zip.entry(`${this.prefix}/data/${t.storage.key}`);
    const what = `${this.file}: ${printable(name)} (${t.shape.join(', ')}; strides ${t.stride.join(', ')})`;
    const storage = `its storage ${printable(t.storage.key)}`;
    if (entry.size !== t.storage.numel * item) {
      throw new TorchmotionError(
        `${what}: ${storage} declares ${t.storage.numel} ${t.dtype} elements ` +
          `(${t.storage.numel * item} bytes), the archive holds ${entry.size} bytes for it`
      );
    }
    const n = t.numel;
    let contiguous = true;
    for (let d = t.shape.length - 1, expect = 1; d >= 0; d--) {
      if (t.shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
      expect *= t.shape[d];
    }
    let last = t.offset;
    for (let d = 0; d < t.shape.length; d++) if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
    if (n > 0 && last >= t.storage.numel) {
      throw new TorchmotionError(
        `${what}: declares elements ${t.offset}–${last}, ${storage} holds ` + `${t.storage.numel}`
      );
    }
    if (n > t.storage.numel) {
      throw new TorchmotionError(
        `${what}: declares ${n} elements (${n * item} bytes), ${storage} holds ` +
          `${t.storage.numel} (${t.storage.numel * item} bytes): a view whose elements overlap is not read`
      );
    }
    return { entry: entry.name, contiguous: contiguous || n === 0, first: t.offset, last };
  }

  // One tensor's elements in row-major order, as raw little-endian bytes of its dtype.
  read(t: TensorRef, name?: string): RawTensor {
    const item = ITEM_SIZE[t.dtype];
    const { entry, contiguous, first, last } = this.layout(t, name);
    const n = t.numel;
    if (contiguous) return { dtype: t.dtype, shape: t.shape, data: this.zip.read(entry, first * item, n * item) };
    // A view (a slice, a transpose, tied weights): gather its elements from the span of storage it covers.
    const span = this.zip.read(entry, first * item, (last - first + 1) * item);
    const out = Buffer.allocUnsafe(n * item);
    const index = new Array(t.shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let at = 0;
      for (let d = 0; d < t.shape.length; d++) at += index[d] * t.stride[d];
      span.copy(out, i * item, at * item, at * item + item);
      for (let d = t.shape.length - 1; d >= 0; d--) {
        if (++index[d] < t.shape[d]) break;
        index[d] = 0;
      }
    }
    return { dtype: t.dtype, shape: t.shape, data: out };
  }

  close(): void {
    this.zip.close();
  }
}

// Elements as float32, whatever floating dtype they were stored in.
export function toFloat32(t: RawTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const b = t.data;
  // A view of the bytes read when they are aligned (large reads are), a copy otherwise: no second copy of a big tensor.
  if (t.dtype === 'f4')
    return b.byteOffset % 4 === 0
      ? new Float32Array(b.buffer, b.byteOffset, n)
      : new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + 4 * n));
  if (t.dtype === 'f8') {
    return Float32Array.from(
      b.byteOffset % 8 === 0
        ? new Float64Array(b.buffer, b.byteOffset, n)
        : new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + 8 * n))
    );
  }
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  if (t.dtype === 'bf16') {
    for (let i = 0; i < n; i++) bits[i] = b.readUInt16LE(2 * i) << 16;
    return out;
  }
  if (t.dtype === 'f2') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(b.readUInt16LE(2 * i));
    return out;
  }
  throw new TorchmotionError(`a ${t.dtype} tensor of shape (${t.shape.join(', ')}) is not floating point`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// The state dict inside a reference checkpoint: `net` (tokenizer) or `trans` (decoder), or the root itself when it
// is already one; `module.` prefixes (DataParallel, DDP) stripped.
export function stateDictOf(file: TorchFile, key?: string): Map<string, TensorRef> {
  const root = file.root;
  if (!(root instanceof Map)) {
    throw new TorchmotionError(`${file.file}: the pickle's root is ${describe(root)}, not a dict`);
  }
  const pick = key
    ? root.get(key)
    : (['net', 'trans', 'state_dict', 'model'].map((k) => root.get(k)).find((v) => v instanceof Map) ?? root);
  if (!(pick instanceof Map)) {
    throw new TorchmotionError(
      `${file.file}: no state dict under '${printable(String(key))}' (the root holds ` +
        `${[...root.keys()].map((k) => printable(String(k))).join(', ')})`
    );
  }
  const out = new Map<string, TensorRef>();
  for (const [k, v] of pick) {
    if (!(v instanceof TensorRef)) continue;
    const name = String(k).replace(/^(module\.)+/, '');
    if (out.has(name)) {
      throw new TorchmotionError(
        `${file.file}: the state dict names ${printable(name)} twice (as ` +
          `${printable(String(k))} and once more, with or without a module. prefix): ` +
          `which one is meant is not for the ` +
          'reader to choose'
      );
    }
    out.set(name, v);
  }
  return out;
}

export { PyDict, TensorRef };
