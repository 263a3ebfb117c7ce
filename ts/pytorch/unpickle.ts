// The pickle inside a torch.save file, read without executing anything: pickleparser interprets the opcodes, and
// every Python name the file refers to resolves to a JavaScript stand-in — dicts for OrderedDict and Counter, a
// tensor reference for torch's rebuild functions, a dtype for each storage class — or, for any other name
// (os.system, an optimiser class, DeepSpeed's objects …), a harmless placeholder that is recorded as skipped.
import { NameRegistry, Parser } from 'pickleparser';

export type TorchDtype = 'f4' | 'f8' | 'f2' | 'bf16' | 'i8' | 'i4' | 'i2' | 'i1' | 'u1' | 'b1';

export const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'f4', DoubleStorage: 'f8', HalfStorage: 'f2', BFloat16Storage: 'bf16', LongStorage: 'i8',
  IntStorage: 'i4', ShortStorage: 'i2', CharStorage: 'i1', ByteStorage: 'u1', BoolStorage: 'b1',
};
export const ITEM_SIZE: Record<TorchDtype, number> = { f4: 4, f8: 8, f2: 2, bf16: 2, i8: 8, i4: 4, i2: 2, i1: 1, u1: 1, b1: 1 };

export interface StorageRef { key: string; dtype: TorchDtype; numel: number }

// A tensor as the pickle describes it: which storage, where in it, and how it is laid out. Its bytes stay on disk.
export class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
  get numel(): number { return this.shape.reduce((a, b) => a * b, 1); }
  get dtype(): TorchDtype { return this.storage.dtype; }
}

// A Python dict (also OrderedDict and Counter): a Map, with the object state pickle attaches (a state dict's
// `_metadata`) kept aside instead of mixed into the keys.
export class PyDict extends Map<unknown, unknown> {
  state?: unknown;
  __setstate__(state: unknown): void { this.state = state; }
}

export interface UnpickleResult { root: unknown; skipped: string[] }

const asNumber = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

export function unpickleTorch(data: Uint8Array): UnpickleResult {
  const skipped = new Set<string>();
  const registry = new (class extends NameRegistry {
    onMissingName(module: string, name: string) {
      skipped.add(`${module}.${name}`);
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
  registry.register('torch._utils', '_rebuild_tensor_v2', (storage: StorageRef, offset: unknown, size: unknown[], stride: unknown[]) =>
    new TensorRef(storage, asNumber(offset), size.map(asNumber), stride.map(asNumber)));
  registry.register('torch._utils', '_rebuild_tensor', (storage: StorageRef, offset: unknown, size: unknown[], stride: unknown[]) =>
    new TensorRef(storage, asNumber(offset), size.map(asNumber), stride.map(asNumber)));
  // A Parameter is its data; the flags do not matter to a state dict.
  registry.register('torch._utils', '_rebuild_parameter', (data: TensorRef) => data);
  registry.register('torch._utils', '_rebuild_parameter_with_state', (data: TensorRef) => data);
  // torch ≥ 2 wraps tensor subclasses (and sometimes Parameter) as (func, type, args, state).
  registry.register('torch._tensor', '_rebuild_from_type_v2', (func: (...a: unknown[]) => unknown, _type: unknown, args: unknown[]) =>
    typeof func === 'function' ? func(...args) : undefined);
  for (const [cls, dtype] of Object.entries(STORAGE_DTYPES)) {
    registry.register('torch', cls, Object.assign(() => dtype, { dtype }));
  }
  const parser = new Parser({
    nameResolver: registry,
    unpicklingTypeOfDictionary: 'Map',
    unpicklingTypeOfSet: 'Set',
    // ('storage', <storage class>, key, location, numel)
    persistentResolver: {
      resolve(pid: unknown): unknown {
        const t = pid as unknown[];
        const kind = Array.isArray(t) ? t[0] : undefined;
        const cls = t?.[1] as { dtype?: TorchDtype } | undefined;
        if (kind !== 'storage' || !cls?.dtype) throw new Error(`a persistent id the reader does not know: ${JSON.stringify(pid, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
        return { key: String(t[2]), dtype: cls.dtype, numel: asNumber(t[4]) } satisfies StorageRef;
      },
    },
  });
  return { root: parser.parse(data), skipped: [...skipped].sort() };
}
