// The pickle inside a torch.save file, read without executing anything: pickleparser interprets the opcodes, and
// every Python name the file refers to resolves to a JavaScript stand-in — dicts for OrderedDict and Counter, a
// tensor reference for torch's rebuild functions, a dtype for each storage class — or, for any other name
// (os.system, an optimiser class, DeepSpeed's objects …), a harmless placeholder that is recorded as skipped.
// A tensor's arguments are checked as it is rebuilt (a storage, counts, one non-negative stride per dimension): the
// messages name the value, and read.ts adds the file.
import { NameRegistry, Parser } from 'pickleparser';

import { describe, printable } from '../errors.js';

export type TorchDtype = 'f4' | 'f8' | 'f2' | 'bf16' | 'i8' | 'i4' | 'i2' | 'i1' | 'u1' | 'b1';

export const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'f4',
  DoubleStorage: 'f8',
  HalfStorage: 'f2',
  BFloat16Storage: 'bf16',
  LongStorage: 'i8',
  IntStorage: 'i4',
  ShortStorage: 'i2',
  CharStorage: 'i1',
  ByteStorage: 'u1',
  BoolStorage: 'b1',
};
export const ITEM_SIZE: Record<TorchDtype, number> = {
  f4: 4,
  f8: 8,
  f2: 2,
  bf16: 2,
  i8: 8,
  i4: 4,
  i2: 2,
  i1: 1,
  u1: 1,
  b1: 1,
};

// Made only by the persistent-id resolver below, so a pickle cannot forge one out of a dict or an object.
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number
  ) {}
}

// A tensor as the pickle describes it: which storage, where in it, and how it is laid out. Its bytes stay on disk.
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[]
  ) {}
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): TorchDtype {
    return this.storage.dtype;
  }
}

// A Python dict (also OrderedDict and Counter): a Map, with the object state pickle attaches (a state dict's
// `_metadata`) kept aside instead of mixed into the keys.
export class PyDict extends Map<unknown, unknown> {
  state?: unknown;
  __setstate__(state: unknown): void {
    this.state = state;
  }
}

export interface UnpickleResult {
  root: unknown;
  skipped: string[];
}

// A count as the pickle gives it (an int, or a long for large ones); undefined for anything else.
const count = (v: unknown): number | undefined => {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
};
const show = (v: unknown): string =>
  Array.isArray(v)
    ? `(${v.map((x) => (typeof x === 'number' || typeof x === 'bigint' ? String(x) : describe(x))).join(', ')})`
    : describe(v);
// The Python name of a placeholder class (pickleparser keeps it on the prototype), for messages.
const pythonName = (v: unknown): string | undefined => {
  const p = (v as { prototype?: { __module__?: unknown; __name__?: unknown } } | undefined)?.prototype;
  return typeof p?.__name__ === 'string' ? printable(`${String(p.__module__)}.${p.__name__}`) : undefined;
};

function tensorRef(storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorRef {
  if (!(storage instanceof StorageRef)) {
    throw new Error(`a tensor's storage is ${pythonName(storage) ?? describe(storage)}, not a storage`);
  }
  const shape = Array.isArray(size) ? size.map(count) : [];
  if (!Array.isArray(size) || shape.some((d) => d === undefined)) throw new Error(`a tensor's shape is ${show(size)}`);
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(numel)) {
    throw new Error(`a tensor's shape ${show(size)} has more elements than can be counted`);
  }
  const steps = Array.isArray(stride) ? stride.map(count) : [];
  if (!Array.isArray(stride) || stride.length !== shape.length || steps.some((d) => d === undefined)) {
    throw new Error(
      `a tensor of shape ${show(size)} has strides ${show(stride)}: PyTorch writes one non-negative ` +
        'stride per dimension'
    );
  }
  const at = count(offset);
  if (at === undefined) throw new Error(`a tensor of shape ${show(size)} starts at ${show(offset)} in its storage`);
  return new TensorRef(storage, at, shape as number[], steps as number[]);
}

export function unpickleTorch(data: Uint8Array): UnpickleResult {
  const skipped = new Set<string>();
  const registry = new (class extends NameRegistry {
    onMissingName(module: string, name: string) {
      skipped.add(printable(`${module}.${name}`));
      return super.onMissingName(module, name);
    }
  })();
  const dict = (items?: unknown) => {
    const d = new PyDict();
    if (items instanceof Map) for (const [k, v] of items) d.set(k, v);
    return d;
  };
  registry.register('collections', 'OrderedDict', dict);
  registry.register('collections', 'Counter', dict);
  registry.register('builtins', 'dict', dict);
  registry.register('builtins', 'set', (items?: unknown[]) => new Set(items ?? []));
  // torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  registry.register('torch._utils', '_rebuild_tensor_v2', tensorRef);
  registry.register('torch._utils', '_rebuild_tensor', tensorRef);
  // A Parameter is its data; the flags do not matter to a state dict.
  registry.register('torch._utils', '_rebuild_parameter', (data: TensorRef) => data);
  registry.register('torch._utils', '_rebuild_parameter_with_state', (data: TensorRef) => data);
  // torch ≥ 2 wraps tensor subclasses (and sometimes Parameter) as (func, type, args, state).
  registry.register(
    'torch._tensor',
    '_rebuild_from_type_v2',
    (func: (...a: unknown[]) => unknown, _type: unknown, args: unknown) =>
      typeof func === 'function' && Array.isArray(args) ? func(...args) : undefined
  );
  for (const [cls, dtype] of Object.entries(STORAGE_DTYPES)) {
    registry.register(
      'torch',
      cls,
      Object.assign(() => dtype, { dtype })
    );
  }
  const parser = new Parser({
    nameResolver: registry,
    unpicklingTypeOfDictionary: 'Map',
    unpicklingTypeOfSet: 'Set',
    // ('storage', <storage class>, key, location, numel)
    persistentResolver: {
      resolve(pid: unknown): unknown {
        const t = Array.isArray(pid) ? pid : [];
        if (t[0] !== 'storage' || t.length < 5) {
          throw new Error(`a persistent id the reader does not know: ${show(pid)}`);
        }
        const dtype = (t[1] as { dtype?: TorchDtype } | undefined)?.dtype;
        if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype)) {
          throw new Error(
            `a storage of class ${pythonName(t[1]) ?? describe(t[1])}, which torchmotion does not read ` +
              `(it reads ${Object.keys(STORAGE_DTYPES).join(', ')})`
          );
        }
        const numel = count(t[4]);
        if ((typeof t[2] !== 'string' && count(t[2]) === undefined) || numel === undefined) {
          throw new Error(`a storage with key ${show(t[2])} and ${show(t[4])} elements`);
        }
        return new StorageRef(String(t[2]), dtype, numel);
      },
    },
  });
  return { root: parser.parse(data), skipped: [...skipped].sort() };
}
