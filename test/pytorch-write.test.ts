// Files torchmotion writes for the PyTorch world: a .pth that Debian's torch.load reads back with every tensor, dtype
// and plain value as written (bf16 and int64 included), that torchmotion's own reader reads back, and a safetensors
// file that a reader written from the spec (scripts/reference/torch_load.py) reads back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { stateDictOf, TorchFile, toFloat32 } from '../ts/pytorch/read.js';
import { type PickleValue, type TensorOut, writeSafetensors, writeTorchFile } from '../ts/pytorch/write.js';
import { tempDir } from './helpers.js';
import { runPython } from './python.js';

const dir = tempDir('tm-pth-write-');
const load = (file: string, key?: string) =>
  JSON.parse(
    runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'torch_load.py'), file, ...(key ? [key] : [])])
  );

const f32 = (name: string, shape: number[], f: (i: number) => number): TensorOut => {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, (_, i) => f(i));
  return { name, dtype: 'f4', shape, data: () => new Uint8Array(v.buffer) };
};
// bf16 of the float32 values 1 + i/8 (exact in bf16): their top 16 bits.
const bf16 = (name: string, n: number): TensorOut => {
  const v = new Float32Array(Array.from({ length: n }, (_, i) => 1 + i / 8));
  const bits = new Uint32Array(v.buffer);
  const out = new Uint16Array(n).map((_, i) => bits[i] >>> 16);
  return { name, dtype: 'bf16', shape: [n], data: () => new Uint8Array(out.buffer) };
};
const i64 = (name: string, values: bigint[]): TensorOut => ({
  name,
  dtype: 'i8',
  shape: [values.length],
  data: () => new Uint8Array(BigInt64Array.from(values).buffer),
});

const tensors = [
  f32('encoder.weight', [4, 3, 2], (i) => Math.sin(i) * 3),
  f32('scalar', [], () => 2.5),
  f32('empty', [0, 4], () => 0),
  bf16('rms.scale', 10),
  i64('steps', [1n, -2n, 3_000_000_000n]),
];
const expected: Record<string, number[]> = {
  'encoder.weight': Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(i) * 3)),
  scalar: [2.5],
  empty: [],
  'rms.scale': Array.from({ length: 10 }, (_, i) => 1 + i / 8),
  steps: [1, -2, 3_000_000_000],
};

test('torch.load reads a written .pth: the dict layout, dtypes, shapes, values and plain entries', () => {
  const file = join(dir, 'model.pth');
  const root: PickleValue = new Map<string, PickleValue>([
    ['net', new Map(tensors.map((t) => [t.name, t]))],
    ['nb_iter', 6000000],
    ['note', 'from torchmotion'],
    ['big', 5_000_000_000],
    ['lr', 2e-4],
  ]);
  writeTorchFile(file, root);
  const r = load(file, 'net');
  assert.equal(r.rootKeys, ['net', 'nb_iter', 'note', 'big', 'lr']);
  assert.equal(r.plain, { nb_iter: 6000000, note: 'from torchmotion', big: 5000000000, lr: 2e-4 });
  assert.equal(
    Object.keys(r.tensors),
    tensors.map((t) => t.name)
  );
  const dtypes = { f4: 'torch.float32', bf16: 'torch.bfloat16', i8: 'torch.int64' } as Record<string, string>;
  for (const t of tensors) {
    assert.is(r.tensors[t.name].dtype, dtypes[t.dtype], t.name);
    assert.equal(r.tensors[t.name].shape, t.shape, t.name);
    assert.equal(r.tensors[t.name].values, expected[t.name], t.name);
  }
});

test('torchmotion reads its own .pth back, and every tensor starts on a 64-byte boundary', async () => {
  const file = join(dir, 'again.pth');
  writeTorchFile(file, new Map([['trans', new Map(tensors.map((t) => [t.name, t]))]]));
  const f = await TorchFile.open(file);
  try {
    const sd = stateDictOf(f, 'trans');
    assert.equal(
      [...sd.keys()],
      tensors.map((t) => t.name)
    );
    assert.equal(Array.from(toFloat32(f.read(sd.get('rms.scale')!))), expected['rms.scale']);
    assert.equal(Array.from(toFloat32(f.read(sd.get('encoder.weight')!))), expected['encoder.weight']);
  } finally {
    f.close();
  }
  // Local headers: each data/<key> entry's data offset is a multiple of 64.
  const bytes = readFileSync(file);
  for (let at = bytes.indexOf('PK\x03\x04'); at >= 0; at = bytes.indexOf('PK\x03\x04', at + 4)) {
    const nameLength = bytes.readUInt16LE(at + 26);
    const name = bytes.subarray(at + 30, at + 30 + nameLength).toString();
    if (name.includes('/data/')) assert.is((at + 30 + nameLength + bytes.readUInt16LE(at + 28)) % 64, 0, name);
  }
});

test('safetensors: header, dtypes, shapes and values as the spec says', () => {
  const file = join(dir, 'model.safetensors');
  writeSafetensors(file, tensors, { format: 'pt', source: 'torchmotion' });
  const r = load(file);
  assert.equal(r.metadata, { format: 'pt', source: 'torchmotion' });
  for (const t of tensors) {
    assert.equal(r.tensors[t.name].shape, t.shape, t.name);
    assert.equal(r.tensors[t.name].values, expected[t.name], t.name);
  }
  const headerLength = Number(readFileSync(file).readBigUInt64LE(0));
  assert.is(headerLength % 8, 0, 'the header is padded to 8 bytes');
});

test.run();
