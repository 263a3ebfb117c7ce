// One view of a weights file, whichever format it is in: a torch.save checkpoint (its state dict under `net`, `trans`
// or at the root, `module.` stripped) or a safetensors file. Tensors are read one at a time when asked for.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { TorchmotionError } from '../errors.js';
import { stateDictOf, TorchFile, toFloat32 } from './read.js';
import { ITEM_SIZE, type TensorRef, type TorchDtype } from './unpickle.js';

export interface WeightInfo { dtype: TorchDtype; shape: number[] }

export interface WeightsFile {
  file: string;
  format: 'pth' | 'safetensors';
  tensors: Map<string, WeightInfo>;
  read(name: string): Float32Array;
  otherEntries: string[];             // top-level keys besides the state dict (optimizer, scheduler, nb_iter …)
  skippedClasses: string[];           // Python classes read as placeholders, never executed
  metadata: Record<string, string>;   // safetensors' __metadata__
  nbIter?: number;
  close(): void;
}

export const isWeightsFile = (path: string) => /\.(pth|pt|bin|ckpt|safetensors)$/i.test(path);

export async function openWeights(file: string, key?: string): Promise<WeightsFile> {
  return /\.safetensors$/i.test(file) ? openSafetensors(file) : openPth(file, key);
}

async function openPth(file: string, key?: string): Promise<WeightsFile> {
  const pth = await TorchFile.open(file);
  try {
    const root = pth.root as Map<unknown, unknown>;
    const picked = key ?? ['net', 'trans'].find((k) => root instanceof Map && root.has(k));
    const sd: Map<string, TensorRef> = stateDictOf(pth, picked);
    const nbIter = Number(root.get('nb_iter'));
    return {
      file, format: 'pth',
      tensors: new Map([...sd].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }])),
      read: (name) => toFloat32(pth.read(sd.get(name)!)),
      otherEntries: [...root.keys()].map(String).filter((k) => k !== picked),
      skippedClasses: pth.skipped,
      // torchmotion's own exports add the FSQ levels beside `net` (the reference's loader reads only `net`).
      metadata: Array.isArray(root.get('fsq_levels')) ? { levels: JSON.stringify((root.get('fsq_levels') as unknown[]).map(Number)) } : {},
      ...(Number.isFinite(nbIter) && { nbIter }),
      close: () => pth.close(),
    };
  } catch (err) {
    pth.close();
    throw err;
  }
}

const SAFETENSORS_DTYPES: Record<string, TorchDtype> = { F32: 'f4', F64: 'f8', F16: 'f2', BF16: 'bf16', I64: 'i8', I32: 'i4', I16: 'i2', I8: 'i1', U8: 'u1', BOOL: 'b1' };

function openSafetensors(file: string): WeightsFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new TorchmotionError(`${file}: cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const damaged = (why: string) => new TorchmotionError(`${file}: not a readable safetensors file (${why}); download or export it again`);
    const head = Buffer.alloc(8);
    if (size < 8 || readSync(fd, head, 0, 8, 0) !== 8) throw damaged('shorter than its 8-byte header length');
    const n = Number(head.readBigUInt64LE());
    if (n > Math.min(size - 8, 100 * 2 ** 20)) throw damaged(`a header of ${n} bytes in a file of ${size}`);
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
    try {
      header = JSON.parse(json.toString('utf8'));
    } catch {
      throw damaged('its header is not JSON');
    }
    const tensors = new Map<string, WeightInfo & { begin: number; end: number }>();
    for (const [name, h] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const t = h as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const dtype = SAFETENSORS_DTYPES[t.dtype];
      const [begin, end] = t.data_offsets ?? [];
      if (!dtype || !Array.isArray(t.shape) || !(begin >= 0) || !(end >= begin) || 8 + n + end > size ||
        end - begin !== t.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype]) throw damaged(`tensor ${name}'s entry does not fit the file`);
      tensors.set(name, { dtype, shape: t.shape, begin: 8 + n + begin, end: 8 + n + end });
    }
    return {
      file, format: 'safetensors', tensors,
      read: (name) => {
        const t = tensors.get(name)!;
        const data = Buffer.alloc(t.end - t.begin);
        for (let done = 0; done < data.length;) done += readSync(fd, data, done, data.length - done, t.begin + done);
        return toFloat32({ dtype: t.dtype, shape: t.shape, data });
      },
      otherEntries: [], skippedClasses: [], metadata: (header.__metadata__ as Record<string, string>) ?? {},
      close: () => closeSync(fd),
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
