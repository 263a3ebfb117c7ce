// Reading torch.save files (PyTorch ≥ 1.6's zip format) without Python and without executing the pickle: the object
// tree comes back with TensorRefs in place of tensors, and a tensor's bytes are read only when asked for, so a file
// larger than memory can be imported one tensor at a time.
import { TorchmotionError } from '../errors.js';
import { ITEM_SIZE, PyDict, TensorRef, type TorchDtype, unpickleTorch } from './unpickle.js';
import { ZipArchive } from './zip.js';

export interface RawTensor { dtype: TorchDtype; shape: number[]; data: Buffer }

export class TorchFile {
  private constructor(readonly file: string, private readonly zip: ZipArchive, private readonly prefix: string,
    readonly root: unknown, readonly skipped: string[]) {}

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
        if (err instanceof TorchmotionError) throw err;
        throw new TorchmotionError(`${file}: its pickle (${pkl}) cannot be read: ${(err as Error).message}`);
      }
      return new TorchFile(file, zip, prefix, parsed.root, parsed.skipped);
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  // Every tensor reachable from the root, with its dotted path (dict keys and list indices).
  tensors(from: unknown = this.root, path = ''): Array<[string, TensorRef]> {
    const out: Array<[string, TensorRef]> = [];
    const walk = (v: unknown, p: string, depth: number) => {
      if (depth > 64) return;
      if (v instanceof TensorRef) out.push([p, v]);
      else if (v instanceof Map) for (const [k, x] of v) walk(x, p ? `${p}.${String(k)}` : String(k), depth + 1);
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, p ? `${p}.${i}` : String(i), depth + 1));
    };
    walk(from, path, 0);
    return out;
  }

  // One tensor's elements in row-major order, as raw little-endian bytes of its dtype.
  read(t: TensorRef): RawTensor {
    const item = ITEM_SIZE[t.dtype];
    const entry = `${this.prefix}/data/${t.storage.key}`;
    const n = t.numel;
    let contiguous = true;
    for (let d = t.shape.length - 1, expect = 1; d >= 0; d--) {
      if (t.shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
      expect *= t.shape[d];
    }
    let last = t.offset;
    for (let d = 0; d < t.shape.length; d++) if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
    if (n > 0 && (t.offset < 0 || last >= t.storage.numel)) {
      throw new TorchmotionError(`${this.file}: a tensor of shape (${t.shape.join(', ')}) reaches past its storage ${t.storage.key} (${t.storage.numel} elements)`);
    }
    if (contiguous) return { dtype: t.dtype, shape: t.shape, data: this.zip.read(entry, t.offset * item, n * item) };
    // A view (a slice, a transpose, tied weights): gather its elements from the span of storage it covers.
    const span = this.zip.read(entry, t.offset * item, (last - t.offset + 1) * item);
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

  close(): void { this.zip.close(); }
}

// Elements as float32, whatever floating dtype they were stored in.
export function toFloat32(t: RawTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const b = t.data;
  // A view of the bytes read when they are aligned (large reads are), a copy otherwise: no second copy of a big tensor.
  if (t.dtype === 'f4') return b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, n) : new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + 4 * n));
  if (t.dtype === 'f8') {
    return Float32Array.from(b.byteOffset % 8 === 0 ? new Float64Array(b.buffer, b.byteOffset, n) : new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + 8 * n)));
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
  if (!(root instanceof Map)) throw new TorchmotionError(`${file.file}: the pickle's root is not a dict`);
  const pick = key ? root.get(key) : (['net', 'trans', 'state_dict', 'model'].map((k) => root.get(k)).find((v) => v instanceof Map) ?? root);
  if (!(pick instanceof Map)) {
    throw new TorchmotionError(`${file.file}: no state dict under '${key}' (the root holds ${[...root.keys()].map(String).join(', ')})`);
  }
  const out = new Map<string, TensorRef>();
  for (const [k, v] of pick) if (v instanceof TensorRef) out.set(String(k).replace(/^(module\.)+/, ''), v);
  return out;
}

export { PyDict, TensorRef };
