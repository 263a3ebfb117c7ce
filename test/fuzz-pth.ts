// Fuzz families for PyTorch checkpoints and safetensors files (imported by test/fuzz.test.ts, which runs them): damaged
// bytes, hostile pickles (huge shapes, stride 0, negative strides, None storages, odd dtypes, control characters in
// names, duplicated entries) and hostile safetensors headers (null, arrays, wrong dtypes, overlapping or out-of-range
// offsets, huge shapes, duplicate keys). Each case opens the file and reads every tensor — and every eighth imports a
// tiny tokenizer built from it: the outcome is finite values of the declared sizes, or an error naming the file.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { importCheckpoint } from '../ts/pytorch/import.js';
import { ITEM_SIZE } from '../ts/pytorch/unpickle.js';
import { openWeights } from '../ts/pytorch/weights.js';
import { type PickleValue, type TensorOut, writeSafetensors, writeTorchFile } from '../ts/pytorch/write.js';
import { CASES, classifyAsync, dir, randomStream } from './fuzz-harness.js';
import {
  f32,
  pickle,
  type Py,
  type PyTensor,
  rowMajor,
  safetensorsBytes,
  tinyReferenceTokenizer,
  torchZip,
  zipRecords,
} from './pth-craft.js';

const { rng, pick, mutateBytes } = randomStream('pth');

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// Opens the file and reads every floating-point tensor; the values must be finite and as many as the shape says.
async function readAll(file: string): Promise<Array<[number[], Float32Array]>> {
  const w = await openWeights(file);
  try {
    return [...w.tensors].filter(([, t]) => t.dtype !== 'i8').map(([name, t]) => [t.shape, w.read(name)]);
  } finally {
    w.close();
  }
}
const checkValues = (what: string) => (read: Array<[number[], Float32Array]>) => {
  for (const [shape, v] of read) {
    assert.is(v.length, numel(shape), `${what}: values as many as the shape says`);
    assert.ok(v.every(Number.isFinite), `${what}: finite values`);
  }
};

const HOSTILE_NAMES = ['a.weight', 'module.a.weight', '\x1b[2Jclear', 'b\u202eevil', '', 'c.bias', '__proto__'];
const STORAGE_CLASSES = [
  'FloatStorage',
  'FloatStorage',
  'HalfStorage',
  'BFloat16Storage',
  'DoubleStorage',
  'ComplexFloatStorage',
  'LongStorage',
  'evil\x1b[2J',
];

// One tensor as a hostile writer might pickle it: mostly sound, with one part bent out of shape.
function hostileTensor(key: string, shape: number[]): PyTensor {
  const t: PyTensor = { storage: ['FloatStorage', key, numel(shape)], shape, stride: rowMajor(shape), offset: 0 };
  switch (rng.int(15)) {
    case 0:
      t.shape = pick([[12000, 272, 3], [2 ** 40, 2 ** 40], [-1, 3], [2.5, 2], ['2', 3], [], [0, 3]]);
      break;
    case 1:
      t.stride = pick([[0, 0], [0, 1], [-3, 1], [1, 2], [3], null, [1e300, 1]] as Py[]);
      break;
    case 2:
      t.offset = pick([1, -1, 1e12, null, 'x', 2 ** 52] as Py[]);
      break;
    case 3:
      t.storage = pick([
        null,
        'storage',
        7,
        ['FloatStorage', '99', numel(shape)],
        ['FloatStorage', key, 2 ** 31],
        ['FloatStorage', key, -1],
        [pick(STORAGE_CLASSES), key, numel(shape)],
      ] as Py[]);
      break;
    case 4:
      t.storage = ['FloatStorage', key, 1];
      t.shape = pick([
        [1000, 1000],
        [3, 4],
      ]);
      t.stride = [0, 0];
      break;
    default:
      break;
  }
  return t;
}

function hostilePth(file: string): void {
  const sd = new Map<string, Py>();
  const storages: Record<string, Uint8Array> = {};
  for (let i = 0; i < 1 + rng.int(4); i++) {
    const shape = [1 + rng.int(4), 1 + rng.int(4)];
    storages[String(i)] = f32(Array.from({ length: numel(shape) }, (_, j) => Math.sin(i + j)));
    sd.set(pick(HOSTILE_NAMES) + i, { tensor: hostileTensor(String(i), shape) });
  }
  if (rng.int(6) === 0) sd.set('a.weight0', sd.values().next().value!); // a name given twice once module. is stripped
  const root = new Map<string, Py>([
    [pick(['net', 'trans', 'model', 'other']), sd],
    ['nb_iter', pick([5, null, 'x', 2 ** 52])],
  ]);
  if (rng.int(4) === 0) root.set(pick(HOSTILE_NAMES), { global: [pick(['os', 'evil\x1b[2J']), 'system'] });
  const zip = torchZip(pickle(rng.int(10) === 0 ? pick([null, [1, 2], 'x'] as Py[]) : root), storages);
  if (rng.int(5) === 0) {
    // Two members with one name: the last data entry renamed to the first's, in its local header and the directory.
    const data = zipRecords(zip).filter((r) => r.name.startsWith('archive/data/'));
    const [first, last] = [data[0], data[data.length - 1]];
    if (first.name.length === last.name.length && first !== last) {
      zip.write(first.name, last.local + 30);
      zip.write(first.name, last.central + 46);
    }
  }
  writeFileSync(file, zip);
}

const SMALL: TensorOut[] = [
  { name: 'a.weight', dtype: 'f4', shape: [3, 4], data: () => f32(Array.from({ length: 12 }, (_, i) => i / 3)) },
  {
    name: 'b.scale',
    dtype: 'bf16',
    shape: [5],
    data: () => new Uint8Array(Uint16Array.from([0x3f80, 0x4000, 0x4040, 0xbf80, 0]).buffer),
  },
  { name: 'steps', dtype: 'i8', shape: [2], data: () => new Uint8Array(BigInt64Array.from([1n, 2n]).buffer) },
  { name: 'empty', dtype: 'f4', shape: [0, 4], data: () => new Uint8Array() },
];
const tiny = tinyReferenceTokenizer();
const smallPth = join(dir, 'small.pth');
writeTorchFile(
  smallPth,
  new Map<string, PickleValue>([
    ['net', new Map(SMALL.map((t) => [t.name, t]))],
    ['nb_iter', 7],
  ])
);
const goodPth = readFileSync(smallPth);

// The tiny tokenizer in the reference's layout, half the time with one tensor bent (a hostile shape, stride, storage).
function hostileTokenizer(file: string): void {
  const bent = rng.int(2) === 0 ? rng.int(tiny.length) : -1;
  const sd = new Map<string, Py>(
    tiny.map((t, i) => [
      t.name,
      {
        tensor:
          i === bent
            ? hostileTensor(String(i), t.shape)
            : {
                storage: [t.dtype === 'i8' ? 'LongStorage' : 'FloatStorage', String(i), numel(t.shape)],
                shape: t.shape,
              },
      },
    ])
  );
  const levels = pick([
    [5, 5, 5],
    [5, 5, 5],
    [1e9, 1e9, 1e9],
    [5, 5],
    [2, 'x', 3],
  ] as Py[]);
  const root = new Map<string, Py>([
    ['net', sd],
    ['fsq_levels', levels],
  ]);
  writeFileSync(file, torchZip(pickle(root), Object.fromEntries(tiny.map((t, i) => [String(i), t.data()]))));
}

test('.pth: damaged bytes and hostile pickles read as declared or are refused naming the file', async () => {
  for (let k = 0; k < CASES; k++) {
    const file = join(dir, `case${k}.pth`);
    if (k % 8 === 0) {
      hostileTokenizer(file);
      const run = () => importCheckpoint(file, join(dir, `run${k}`));
      await classifyAsync(`pth case ${k}`, file, run, (r: { mapped: unknown[] }) => {
        assert.is(r.mapped.length, tiny.length - 4, `pth case ${k}: every tensor mapped`);
      });
      continue;
    }
    if (k % 3 === 0) writeFileSync(file, mutateBytes(goodPth));
    else hostilePth(file);
    await classifyAsync(`pth case ${k}`, file, () => readAll(file), checkValues(`pth case ${k}`));
  }
});

const SAFETENSORS: Record<string, string> = { f4: 'F32', bf16: 'BF16', i8: 'I64' };

// A header entry bent out of shape, or the header replaced, or a key given twice.
function hostileHeader(tensors: TensorOut[]): string {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let at = 0;
  for (const t of tensors) {
    const size = numel(t.shape) * ITEM_SIZE[t.dtype];
    header[t.name] = { dtype: SAFETENSORS[t.dtype], shape: t.shape, data_offsets: [at, at + size] };
    at += size;
  }
  const entry = header[pick(tensors).name] as Record<string, unknown>;
  switch (rng.int(9)) {
    case 0:
      return pick(['null', '[]', '"x"', '1', '{}', '[{"a": 1}]', '{"a": {"dtype": "F32"}']);
    case 1:
      entry.dtype = pick(['F8_E4M3', 'f32', 5, null, 'U64', '__proto__']);
      break;
    case 2:
      entry.shape = pick([[-1], [1e20], ['x'], [2 ** 40, 2 ** 40], null, [1.5], [12000, 272, 0]]);
      break;
    case 3:
      entry.data_offsets = (entry.data_offsets as number[]).map((o) => o + pick([-4, 4, 2, 1e15]));
      break;
    case 4:
      entry.data_offsets = pick([null, [0], [8, 0], [0, -4], ['0', '4'], [0, 2 ** 60]]);
      break;
    case 5:
      header.__metadata__ = pick([null, { levels: 5 }, 'x', { levels: '[1e9]' }, []]);
      break;
    case 6:
      header[pick(['\x1b[2Jx', 'y\u202e', '__metadata__x'])] = { ...entry };
      break;
    case 7: {
      const text = JSON.stringify(header);
      const name = JSON.stringify(pick(tensors).name);
      return text.replace(`${name}:`, `${name}: {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, ${name}:`);
    }
    default:
      break;
  }
  return JSON.stringify(header);
}

test('safetensors: hostile headers and damaged bytes read as declared or are refused naming the file', async () => {
  const good = join(dir, 'good.safetensors');
  writeSafetensors(good, SMALL, { format: 'pt' });
  const bytes = readFileSync(good);
  const data = bytes.subarray(8 + Number(bytes.readBigUInt64LE()));
  for (let k = 0; k < CASES; k++) {
    const file = join(dir, `case${k}.safetensors`);
    writeFileSync(file, k % 3 === 0 ? mutateBytes(bytes) : safetensorsBytes(hostileHeader(SMALL), data));
    await classifyAsync(`safetensors case ${k}`, file, () => readAll(file), checkValues(`safetensors case ${k}`));
  }
});
