// One view of a weights file, whichever format it is in: a torch.save checkpoint (its state dict under `net`, `trans`
// or at the root, `module.` stripped) or a safetensors file. Tensors are read one at a time when asked for; what each
// declares (dtype, shape, where its bytes are) is checked against the file when it is opened, before anything is sized
// from it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { describe, printable, TorchmotionError } from '../errors.js';
import { requireRegularFile } from '../files.js';
import { type RawTensor, stateDictOf, TorchFile, toFloat32 } from './read.js';
import { ITEM_SIZE, type TensorRef, type TorchDtype } from './unpickle.js';

export interface WeightInfo {
  dtype: TorchDtype;
  shape: number[];
}

export interface WeightsFile {
  file: string;
  format: 'pth' | 'safetensors';
  tensors: Map<string, WeightInfo>;
  read(name: string): Float32Array;
  // Top-level keys besides the state dict (optimizer, scheduler, nb_iter …) and the Python classes read as
  // placeholders (never executed), with control characters escaped: they are printed and reported.
  otherEntries: string[];
  skippedClasses: string[];
  metadata: Record<string, string>; // safetensors' __metadata__
  nbIter?: number;
  close(): void;
}

export const isWeightsFile = (path: string) => /\.(pth|pt|bin|ckpt|safetensors)$/i.test(path);

export async function openWeights(file: string, key?: string): Promise<WeightsFile> {
  requireRegularFile(file); // a FIFO would block the open until something writes to it
  return /\.safetensors$/i.test(file) ? openSafetensors(file) : openPth(file, key);
}

const FLOATING = new Set<TorchDtype>(['f4', 'f8', 'f2', 'bf16']);

// A tensor's values as float32. A model's weights are floating point and finite: anything else is named here, with the
// file, rather than refused later by the model without either.
function floatsOf(file: string, name: string, t: RawTensor): Float32Array {
  const what = `${file}: ${printable(name)} holds`;
  if (!FLOATING.has(t.dtype)) throw new TorchmotionError(`${what} ${t.dtype} values, not floating-point ones`);
  const v = toFloat32(t);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new TorchmotionError(`${what} ${v[i]} at element ${i}: a damaged file, or a run that diverged`);
    }
  }
  return v;
}

const levelOf = (l: unknown) => (typeof l === 'bigint' ? Number(l) : typeof l === 'number' ? l : describe(l));

async function openPth(file: string, key?: string): Promise<WeightsFile> {
  const pth = await TorchFile.open(file);
  try {
    const root = pth.root as Map<unknown, unknown>;
    const picked = key ?? ['net', 'trans'].find((k) => root instanceof Map && root.has(k));
    const sd: Map<string, TensorRef> = stateDictOf(pth, picked);
    // Every tensor is checked against its bytes now, before a model is sized from the shapes; a parameter is one
    // contiguous run of its storage (a strided view could repeat a few bytes into a large tensor).
    for (const [name, t] of sd) {
      if (!pth.layout(t, name).contiguous) {
        throw new TorchmotionError(
          `${file}: ${printable(name)} (${t.shape.join(', ')}; strides ` +
            `${t.stride.join(', ')}) is not contiguous: a parameter is read as stored; save it with .contiguous()`
        );
      }
    }
    const nbIter = Number(root.get('nb_iter'));
    const levels = root.get('fsq_levels');
    return {
      file,
      format: 'pth',
      tensors: new Map([...sd].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }])),
      read: (name) => floatsOf(file, name, pth.read(sd.get(name)!, name)),
      otherEntries: [...root.keys()].map((k) => printable(String(k))).filter((k) => k !== picked),
      skippedClasses: pth.skipped,
      // torchmotion's own exports add the FSQ levels beside `net` (the reference's loader reads only `net`); what is
      // not a number is described, not serialised (it may be anything a pickle builds, cycles included).
      metadata: Array.isArray(levels) ? { levels: JSON.stringify(levels.map(levelOf)) } : {},
      ...(Number.isFinite(nbIter) && { nbIter }),
      close: () => pth.close(),
    };
  } catch (err) {
    pth.close();
    throw err;
  }
}

const SAFETENSORS_DTYPES: Record<string, TorchDtype> = {
  F32: 'f4',
  F64: 'f8',
  F16: 'f2',
  BF16: 'bf16',
  I64: 'i8',
  I32: 'i4',
  I16: 'i2',
  I8: 'i1',
  U8: 'u1',
  BOOL: 'b1',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const brief = (v: unknown) =>
  v === undefined
    ? 'none'
    : Array.isArray(v) && v.every((x) => typeof x === 'number')
      ? `[${v.join(', ')}]`
      : describe(v);

// The first key that a JSON text gives twice in one object (JSON.parse keeps the last silently). `json` has parsed.
function duplicateKey(json: string): string | undefined {
  const open: Array<Set<string> | undefined> = []; // the keys of each open object; undefined for an array
  let key = false; // the next string is a key
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (key) {
        const name = JSON.parse(json.slice(i, j + 1)) as string;
        const keys = open[open.length - 1]!;
        if (keys.has(name)) return name;
        keys.add(name);
        key = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      open.push(c === '{' ? new Set() : undefined);
      key = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      key = open[open.length - 1] !== undefined;
    }
  }
  return undefined;
}

function readFully(fd: number, out: Buffer, at: number, file: string, what: string): Buffer {
  for (let done = 0; done < out.length;) {
    const got = readSync(fd, out, done, out.length - done, at + done);
    if (got === 0) throw new TorchmotionError(`${file}: ends inside ${what} (truncated): download or export it again`);
    done += got;
  }
  return out;
}

// safetensors: an 8-byte header length, a JSON object of {dtype, shape, data_offsets} per tensor (and string
// __metadata__), then the data, which the tensors' offsets must tile exactly — no gap, no overlap, nothing after.
function openSafetensors(file: string): WeightsFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new TorchmotionError(
      `${file}: cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
    );
  }
  try {
    const size = fstatSync(fd).size;
    const damaged = (why: string) =>
      new TorchmotionError(`${file}: not a readable safetensors file (${why}); download or export it again`);
    if (size < 8) throw damaged('shorter than its 8-byte header length');
    const n = Number(readFully(fd, Buffer.alloc(8), 0, file, 'the header length').readBigUInt64LE());
    if (n > Math.min(size - 8, 100 * 2 ** 20)) throw damaged(`a header of ${n} bytes in a file of ${size}`);
    const text = readFully(fd, Buffer.alloc(n), 8, file, 'the header').toString('utf8');
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch {
      throw damaged('its header is not JSON');
    }
    if (!isObject(header)) throw damaged(`its header is ${describe(header)}, not an object of tensors`);
    const twice = duplicateKey(text);
    if (twice !== undefined) throw damaged(`its header gives the key '${printable(twice)}' twice in one object`);
    const metadata = Object.hasOwn(header, '__metadata__') ? header.__metadata__ : {};
    if (!isObject(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) {
      throw damaged(`its __metadata__ is ${describe(metadata)}, not an object of strings`);
    }
    const data = size - 8 - n;
    const tensors = new Map<string, WeightInfo & { begin: number; end: number }>();
    for (const [name, h] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const tensor = `tensor ${printable(name)}`;
      if (!isObject(h)) throw damaged(`${tensor} is ${describe(h)}, not {dtype, shape, data_offsets}`);
      const known = typeof h.dtype === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, h.dtype);
      const dtype = known ? SAFETENSORS_DTYPES[h.dtype as string] : undefined;
      if (!dtype) {
        throw damaged(
          `${tensor} has dtype ${brief(h.dtype)}; torchmotion reads ` + `${Object.keys(SAFETENSORS_DTYPES).join(', ')}`
        );
      }
      const shape = h.shape;
      if (!Array.isArray(shape) || !shape.every(isCount)) throw damaged(`${tensor} has shape ${brief(shape)}`);
      const numel = shape.reduce((a: number, b: number) => a * b, 1);
      const offsets = h.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
        throw damaged(`${tensor} has data_offsets ${brief(offsets)}, not [begin, end]`);
      }
      const [begin, end] = offsets as [number, number];
      if (end > data) throw damaged(`${tensor}'s bytes ${begin}–${end} reach past the file's ${data} bytes of data`);
      if (end - begin !== numel * ITEM_SIZE[dtype]) {
        throw damaged(
          `${tensor} declares (${shape.join(', ')}) of ${h.dtype}, ${numel * ITEM_SIZE[dtype]} bytes, ` +
            `and its offsets hold ${end - begin}`
        );
      }
      tensors.set(name, { dtype, shape, begin, end });
    }
    let at = 0;
    let previous = '';
    for (const [name, t] of [...tensors].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end)) {
      if (t.begin < at) {
        throw damaged(`tensors ${printable(previous)} and ${printable(name)} overlap (bytes ${t.begin}–${at})`);
      }
      if (t.begin > at) throw damaged(`bytes ${at}–${t.begin} of its data belong to no tensor`);
      at = t.end;
      previous = name;
    }
    if (at !== data) throw damaged(`bytes ${at}–${data} of its data belong to no tensor`);
    return {
      file,
      format: 'safetensors',
      tensors,
      read: (name) => {
        const t = tensors.get(name)!;
        const at = 8 + n + t.begin;
        const data = readFully(fd, Buffer.allocUnsafe(t.end - t.begin), at, file, `tensor ${printable(name)}`);
        return floatsOf(file, name, { dtype: t.dtype, shape: t.shape, data });
      },
      otherEntries: [],
      skippedClasses: [],
      metadata: metadata as Record<string, string>,
      close: () => closeSync(fd),
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
