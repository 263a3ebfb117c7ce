// Hostile PyTorch and safetensors files (issue 30), made here in TypeScript: a tiny file that declares a huge model is
// refused before anything is sized from it; the --ckpt import cache is private to the user; FSQ levels are bounded;
// damaged or forged archives (CRC, local headers, overlaps, duplicated names, safetensors offsets) are refused naming
// the file and the member; names from a file never reach the terminal raw; every message names the file and the value.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadConfig } from '../ts/config.js';
import { importCheckpoint } from '../ts/pytorch/import.js';
import { checkpointFor, importCache, importedRunFor } from '../ts/pytorch/on-the-fly.js';
import { stateDictOf, TorchFile } from '../ts/pytorch/read.js';
import { tokenizerParameters } from '../ts/pytorch/reference-tokenizer.js';
import { openWeights } from '../ts/pytorch/weights.js';
import { type PickleValue, type TensorOut, writeSafetensors, writeTorchFile } from '../ts/pytorch/write.js';
import { resolveModel, tokenizerConfig } from '../ts/tokenizer/config.js';
import { TokenizerModel } from '../ts/tokenizer/model.js';
import { GENERIC } from './fuzz-harness.js';
import { errorOf, tempDir } from './helpers.js';
import {
  f32,
  pickle,
  plainTensor,
  type Py,
  safetensorsBytes,
  tinyReferenceTokenizer,
  torchZip,
  zipRecords,
} from './pth-craft.js';

const dir = tempDir('tm-hostile-');
const tiny = tinyReferenceTokenizer();
const net = (tensors: TensorOut[]) => new Map<string, PickleValue>(tensors.map((t) => [t.name, t]));
const tinyWith = (levels?: number[]) =>
  new Map<string, PickleValue>(
    levels
      ? [
          ['net', net(tiny)],
          ['fsq_levels', levels],
        ]
      : [['net', net(tiny)]]
  );
const empty = (name: string, shape: number[]): TensorOut => ({
  name,
  dtype: 'f4',
  shape,
  data: () => new Uint8Array(),
});
const craft = (name: string, root: Py, storages: Record<string, Uint8Array>) => {
  const file = join(dir, name);
  writeFileSync(file, torchZip(pickle(root), storages));
  return file;
};
const stateDict = (key: string, entries: Array<[string, Py]>) => new Map<string, Py>([[key, new Map(entries)]]);

// The error a call must raise: it starts with the file, holds every part, is specific and prints no control character.
async function refused(file: string, run: () => unknown, ...parts: Array<string | RegExp>): Promise<string> {
  const message = await errorOf(run);
  assert.ok(message.startsWith(`${file}: `) || message.startsWith(`${file} is `), `names the file: ${message}`);
  for (const p of parts) {
    assert.ok(typeof p === 'string' ? message.includes(p) : p.test(message), `${p} in: ${message}`);
  }
  assert.not.match(message, GENERIC, `a specific message: ${message}`);
  assert.not.match(message, /[\u0000-\u001f\u007f-\u009f]/, 'no control characters');
  return message;
}
let runs = 0;
const importTo = (file: string) => () => importCheckpoint(file, join(dir, `run-${runs++}`));

test('a tiny file declaring a huge model is refused before anything is allocated', async () => {
  const rss = process.memoryUsage().rss;
  const started = Date.now();
  // The first convolution 12,000 wide, every element the same 4 bytes (stride 0).
  const stride0 = craft(
    'stride0.pth',
    stateDict('net', [
      [
        'vqvae.encoder.model.1.weight',
        { tensor: { storage: ['FloatStorage', '0', 1], shape: [12000, 272, 3], stride: [0, 0, 0] } },
      ],
      ['vqvae.quantizer.project_in.weight', plainTensor('1', [6, 1])],
    ]),
    { 0: f32([0.5]), 1: f32([1, 2, 3, 4, 5, 6]) }
  );
  await refused(
    stride0,
    importTo(stride0),
    'vqvae.encoder.model.1.weight (12000, 272, 3; strides 0, 0, 0)',
    'declares 9792000 elements (39168000 bytes), its storage 0 holds 1 (4 bytes)'
  );
  // A storage that declares 9,792,000 elements with 4 bytes in the archive.
  const short = craft(
    'short.pth',
    stateDict('net', [
      ['vqvae.encoder.model.1.weight', { tensor: { storage: ['FloatStorage', '0', 9792000], shape: [12000, 272, 3] } }],
    ]),
    { 0: f32([0.5]) }
  );
  await refused(
    short,
    importTo(short),
    'vqvae.encoder.model.1.weight',
    'its storage 0 declares 9792000 f4 elements (39168000 bytes), the archive holds 4 bytes'
  );
  // safetensors whose kernels have size 0: every tensor is backed (by 0 bytes), the model they describe is not.
  const zero = join(dir, 'zero-kernel.safetensors');
  writeSafetensors(zero, [
    empty('vqvae.encoder.model.1.weight', [12000, 272, 0]),
    empty('vqvae.encoder.model.3.0.weight', [0, 0, 4]),
    empty('vqvae.encoder.model.3.1.model.0.conv1.weight', [0]),
    empty('vqvae.quantizer.project_in.weight', [6, 0]),
  ]);
  await refused(
    zero,
    importTo(zero),
    /describe a tokenizer of \d{9,} parameters \(\d+ bytes at 4 bytes each\), but the file holds \d{3} bytes$/
  );
  // A decoder declaring a 16M vocabulary through a stride-0 embedding, and the same in safetensors.
  const vocab = craft(
    'vocab.pth',
    stateDict('trans', [
      [
        'transformer.wte.weight',
        { tensor: { storage: ['FloatStorage', '0', 64], shape: [16_000_000, 64], stride: [0, 1] } },
      ],
    ]),
    { 0: f32(new Array(64).fill(0.1)) }
  );
  await refused(
    vocab,
    importTo(vocab),
    'transformer.wte.weight (16000000, 64; strides 0, 1)',
    'declares 1024000000 elements'
  );
  const vocabSt = join(dir, 'vocab.safetensors');
  const wte = { 'transformer.wte.weight': { dtype: 'BF16', shape: [16_000_000, 64], data_offsets: [0, 128] } };
  writeFileSync(vocabSt, safetensorsBytes(JSON.stringify(wte), new Uint8Array(128)));
  await refused(
    vocabSt,
    importTo(vocabSt),
    'tensor transformer.wte.weight declares (16000000, 64) of BF16, 2048000000 bytes, and its offsets hold 128'
  );
  // Shapes within the bytes but beyond torchmotion's bounds.
  const wide = join(dir, 'wide.safetensors');
  writeSafetensors(wide, [
    empty('vqvae.encoder.model.1.weight', [100_000, 1, 0]),
    empty('vqvae.quantizer.project_in.weight', [6, 0]),
  ]);
  await refused(
    wide,
    importTo(wide),
    "its shapes give the tokenizer's width as 100000; torchmotion imports 1 to " + '16384'
  );
  const growth = (process.memoryUsage().rss - rss) / 2 ** 20;
  assert.ok(growth < 200, `RSS grew ${growth.toFixed(0)} MB`);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test("the parameter count the bound uses is the model's own", () => {
  for (const model of [
    { preset: 'tiny' },
    { preset: 'small' },
    { preset: 'tiny', model: { norm: 'none', downT: 2, strideT: 3, levels: [8, 5, 5, 5] } },
    { preset: 'tiny', model: { downT: 0, depth: 2, inputDim: 10 } },
  ]) {
    const config = resolveModel(model);
    const sd = new TokenizerModel(config).stateDict();
    const count = Object.values(sd).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    assert.is(tokenizerParameters(config), count, JSON.stringify(model));
  }
});

test('a tiny tokenizer in the reference layout still imports, from .pth and safetensors, values exact', async () => {
  for (const format of ['pth', 'safetensors']) {
    const file = join(dir, `tiny.${format}`);
    if (format === 'pth') writeTorchFile(file, tinyWith([5, 5, 5]));
    else writeSafetensors(file, tiny, { levels: '[5,5,5]' });
    const r = await importCheckpoint(file, join(dir, `tiny-${format}`));
    assert.is(r.mapped.length, tiny.length - 4);
    const w = await openWeights(file);
    try {
      const t = tiny[5];
      assert.equal(Array.from(w.read(t.name)), Array.from(new Float32Array(t.data().slice().buffer)));
    } finally {
      w.close();
    }
  }
});

test(`the --ckpt import cache is private: made 0700; a symlink, a folder others can write, \
another user's are refused`, async () => {
  const home = tempDir('tm-cache-');
  const before = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = home;
  try {
    const cache = importCache();
    assert.is(cache, join(home, 'torchmotion', 'imports'));
    assert.is(lstatSync(cache).mode & 0o777, 0o700);
    assert.is(lstatSync(join(home, 'torchmotion')).mode & 0o777, 0o700);
    const file = join(dir, 'cached.pth');
    writeTorchFile(file, tinyWith([5, 5, 5]));
    const run = importedRunFor(file, 'tokenizer');
    assert.ok(run.startsWith(`${cache}/`));
    assert.is(importedRunFor(file, 'tokenizer', { dtype: 'fp32', codes: undefined }), run, 'the same import');
    for (const o of [{ dtype: 'bf16' as const }, { data: 'data/demo' }, { levels: [5, 5, 5] }]) {
      assert.is.not(importedRunFor(file, 'tokenizer', o), run, JSON.stringify(o));
    }
    assert.is.not(importedRunFor(file, 't2m'), run);
    assert.ok((await checkpointFor(file, 'tokenizer')).startsWith(run));

    rmSync(cache, { recursive: true });
    symlinkSync(tempDir('tm-elsewhere-'), cache);
    assert.is(
      await errorOf(() => checkpointFor(file, 'tokenizer')),
      `the import cache ${cache} is a symbolic ` +
        'link: remove it (torchmotion makes a private one in its place), or set XDG_CACHE_HOME to a folder of your ' +
        'own'
    );
    rmSync(cache);
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    assert.match(await errorOf(() => importCache()), `the import cache ${cache} can be written by others (mode 777)`);
    chmodSync(cache, 0o700);
    chmodSync(join(home, 'torchmotion'), 0o775);
    assert.match(await errorOf(() => importCache()), `${home}/torchmotion can be written by others (mode 775)`);
    chmodSync(join(home, 'torchmotion'), 0o700);
    if (process.getuid?.() === 0) {
      chownSync(cache, 12345, 12345);
      assert.match(await errorOf(() => importCache()), `${cache} belongs to uid 12345, not to you (uid 0)`);
    }
  } finally {
    if (before === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = before;
  }
});

test('FSQ levels are bounded in every config and every import: each ≤ 65536, their product ≤ 2^24', async () => {
  const cfg = join(dir, 'levels.yaml');
  writeFileSync(cfg, 'model: { levels: [1000000000, 1000000000, 1000000000] }\n');
  assert.match(
    await errorOf(() => loadConfig(tokenizerConfig, { file: cfg })),
    `${cfg}: model.levels.0: a level is 1000000000, above the largest FSQ level, 65536`
  );
  writeFileSync(cfg, 'model: { levels: [4096, 4096, 4] }\n');
  assert.is(
    await errorOf(() => loadConfig(tokenizerConfig, { file: cfg })),
    `${cfg}: model.levels: levels 4096×4096×4 make 67108864 codes, above the largest FSQ codebook, 2^24 = 16777216`
  );
  const pth = join(dir, 'levels.pth');
  writeTorchFile(pth, tinyWith([1e9, 1e9, 1e9]));
  await refused(
    pth,
    importTo(pth),
    'its FSQ levels, [1000000000,1000000000,1000000000]: a level is 1000000000, above the largest FSQ level, 65536'
  );
  const st = join(dir, 'levels.safetensors');
  writeSafetensors(st, tiny, { levels: '[64, 64, 64, 64, 64]' });
  await refused(st, importTo(st), 'levels 64×64×64×64×64 make 1073741824 codes, above the largest FSQ codebook');
  writeSafetensors(st, tiny, { levels: 'eight' });
  await refused(st, importTo(st), 'its FSQ levels, eight: Invalid input: expected array, received string');
  writeTorchFile(pth, tinyWith());
  await refused(
    pth,
    () => importCheckpoint(pth, join(dir, 'x'), { levels: [70000, 2, 2] }),
    'levels.0: a level is 70000, above the largest FSQ level'
  );
});

test(`damage is refused naming the file and the member: CRC, a forged local header, \
overlaps, a duplicated name`, async () => {
  const good = join(dir, 'good.pth');
  writeTorchFile(good, tinyWith([5, 5, 5]));
  const bytes = readFileSync(good);
  const records = zipRecords(bytes);
  const [data3, data4] = ['archive/data/3', 'archive/data/4'].map((n) => records.find((r) => r.name === n)!);
  const variant = (name: string, change: (b: Buffer) => void) => {
    const copy = Buffer.from(bytes);
    change(copy);
    writeFileSync(join(dir, name), copy);
    return join(dir, name);
  };
  // One flipped bit in a tensor: found when that tensor is read, whole or in part.
  const flipped = variant('flipped.pth', (b) => {
    b[data3.data + 5] ^= 0x10;
  });
  const crc = data3.crc.toString(16).padStart(8, '0');
  const w = await openWeights(flipped);
  try {
    await refused(
      flipped,
      () => w.read(tiny[3].name),
      'entry archive/data/3 is damaged (its CRC-32 is ',
      `the archive records ${crc}`
    );
  } finally {
    w.close();
  }
  await refused(flipped, importTo(flipped), 'entry archive/data/3 is damaged');
  const f = await TorchFile.open(flipped);
  try {
    await refused(flipped, () => f.read(stateDictOf(f).get(tiny[3].name)!), 'archive/data/3 is damaged');
  } finally {
    f.close();
  }
  // A local header that names another member than the directory does.
  const digit = 'archive/data/'.length;
  const forged = variant('forged.pth', (b) => b.write('4', data3.local + 30 + digit));
  await refused(forged, () => TorchFile.open(forged), 'entry archive/data/3: its local header names it archive/data/4');
  // Two names the same: data/4 renamed data/3 in its local header and in the directory.
  const twice = variant('twice.pth', (b) => {
    b.write('3', data4.local + 30 + digit);
    b.write('3', data4.central + 46 + digit);
  });
  await refused(twice, () => openWeights(twice), 'damaged zip archive (entry archive/data/3 appears twice)');
  // data/3 grown (sizes and CRC consistent) to swallow data/4's record: a valid entry that overlaps another.
  const overlap = variant('overlap.pth', (b) => {
    const grown = data4.data + data4.size - data3.data;
    const sum = crc32(bytes.subarray(data3.data, data3.data + grown));
    for (const at of [data3.central + 16, data3.local + 14]) b.writeUInt32LE(sum, at);
    const sizes = [data3.central + 20, data3.central + 24, data3.local + 18, data3.local + 22];
    for (const at of sizes) b.writeUInt32LE(grown, at);
    b.writeUInt16LE(b.readUInt16LE(data3.local + 6) & ~0x8, data3.local + 6);
  });
  await refused(
    overlap,
    () => openWeights(overlap),
    /entries archive\/data\/3 \(bytes \d+–\d+\) and archive\/data\/4 \(from byte \d+\) overlap/
  );
});

test('safetensors: offsets tile the data exactly, keys appear once, the header is an object of entries', async () => {
  const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
  const one = (entry: unknown) => JSON.stringify({ a: entry });
  const cases: Array<[string, string, number, string]> = [
    ['null', 'null', 0, 'its header is null, not an object of tensors'],
    ['array', '[1, 2]', 0, 'its header is an array of length 2, not an object of tensors'],
    [
      'overlap',
      JSON.stringify({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }),
      12,
      'tensors a and b overlap (bytes 4–8)',
    ],
    [
      'gap',
      JSON.stringify({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }),
      12,
      'bytes 4–8 of its data belong to no tensor',
    ],
    ['trailing', one(t('F32', [1], [0, 4])), 12, 'bytes 4–12 of its data belong to no tensor'],
    ['past', one(t('F32', [4], [0, 16])), 8, "tensor a's bytes 0–16 reach past the file's 8 bytes of data"],
    [
      'duplicate',
      '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {}}',
      4,
      "gives the key 'a' twice in one object",
    ],
    [
      'inner-duplicate',
      '{"a": {"dtype": "F32", "dtype": "F64", "shape": [1], "data_offsets": [0, 4]}}',
      4,
      "gives the key 'dtype' twice",
    ],
    ['dtype', one(t('F8_E4M3', [4], [0, 4])), 4, "tensor a has dtype 'F8_E4M3'; torchmotion reads F32, F64"],
    ['no-dtype', one({ shape: [1], data_offsets: [0, 4] }), 4, 'tensor a has dtype none'],
    ['size', one(t('F64', [1], [0, 4])), 4, 'tensor a declares (1) of F64, 8 bytes, and its offsets hold 4'],
    ['shape', one(t('F32', [-1], [0, 4])), 4, 'tensor a has shape [-1]'],
    ['offsets', one(t('F32', [1], [4, 0])), 4, 'tensor a has data_offsets [4, 0], not [begin, end]'],
    ['entry', one(null), 0, 'tensor a is null, not {dtype, shape, data_offsets}'],
    [
      'metadata',
      JSON.stringify({ __metadata__: { levels: [5, 5] } }),
      0,
      'its __metadata__ is an object, not an object of strings',
    ],
    ['null-metadata', JSON.stringify({ __metadata__: null }), 0, 'its __metadata__ is null'],
  ];
  for (const [what, header, n, expected] of cases) {
    const file = join(dir, `${what}.safetensors`);
    writeFileSync(file, safetensorsBytes(header, new Uint8Array(n).fill(0x3f)));
    await refused(file, () => openWeights(file), expected);
  }
});

test('names from a file are printed with their control characters escaped: keys, pickled classes', async () => {
  const clear = '\x1b[2J\x1b[HALL CHECKS PASSED\u202e';
  const sd = new Map<string, Py>(
    tiny.map((t, i) => [t.name, plainTensor(String(i), t.shape, t.dtype === 'i8' ? 'LongStorage' : 'FloatStorage')])
  );
  // GLOBAL names are read as bytes (latin-1): the terminal's CSI is one byte there, 0x9b.
  const root = new Map<string, Py>([
    ['net', sd],
    ['fsq_levels', [5, 5, 5]],
    [`opt${clear}`, { global: ['os\x1b[2J\x9b2J', 'system'] }],
  ]);
  const storages = Object.fromEntries(tiny.map((t, i) => [String(i), t.data()]));
  const file = craft('escapes.pth', root, storages);
  const r = await importCheckpoint(file, join(dir, 'escapes-run'));
  const report = readFileSync(join(dir, 'escapes-run', 'import-report.json'), 'utf8');
  for (const text of [report, JSON.stringify(r), r.skippedClasses.join(), r.otherEntries.join()]) {
    assert.not.match(text, /[\u001b\u009b\u202e]/, 'no raw escape in the report');
  }
  assert.equal(r.skippedClasses, ['os\\x1b[2J\\x9b2J.system']);
  assert.ok(r.otherEntries.includes('opt\\x1b[2J\\x1b[HALL CHECKS PASSED\\u202e'));
  sd.set(`vqvae.extra${clear}`, plainTensor('0', [2]));
  craft('escapes.pth', root, storages);
  const e = await errorOf(importTo(file));
  assert.ok(e.includes('vqvae.extra\\x1b[2J\\x1b[HALL CHECKS PASSED\\u202e'), e);
  assert.not.match(e, /[\u001b\u202e]/);
});

test(`vague messages are gone: None storages, negative strides, odd shapes and dtypes, \
a FIFO, a non-dict root`, async () => {
  const one = (t: Py) => stateDict('net', [['vqvae.encoder.model.1.weight', t]]);
  const storage = { 0: f32([1, 2, 3, 4]) };
  const none = craft('none.pth', one({ tensor: { storage: null, shape: [2, 2] } }), storage);
  await refused(none, importTo(none), "its pickle (archive/data.pkl) cannot be read: a tensor's storage is null");
  const negative = craft(
    'negative.pth',
    one({ tensor: { storage: ['FloatStorage', '0', 4], shape: [2, 2], stride: [-2, 1], offset: 2 } }),
    storage
  );
  await refused(
    negative,
    importTo(negative),
    'a tensor of shape (2, 2) has strides (-2, 1): PyTorch writes one ' + 'non-negative stride per dimension'
  );
  const text = craft(
    'shape-text.pth',
    one({ tensor: { storage: ['FloatStorage', '0', 4], shape: ['2', 2], stride: [2, 1] } }),
    storage
  );
  await refused(text, importTo(text), "a tensor's shape is ('2', 2)");
  const complex = craft(
    'complex.pth',
    one({ tensor: { storage: ['ComplexFloatStorage', '0', 4], shape: [4] } }),
    storage
  );
  await refused(
    complex,
    importTo(complex),
    'a storage of class torch.ComplexFloatStorage, which torchmotion does not read'
  );
  const rank = craft(
    'rank.pth',
    stateDict('net', [
      ['vqvae.encoder.model.1.weight', plainTensor('0', [2, 2])],
      ['vqvae.quantizer.project_in.weight', plainTensor('0', [2, 2])],
    ]),
    storage
  );
  await refused(rank, importTo(rank), 'vqvae.encoder.model.1.weight is (2, 2), not a 3-dimensional weight');
  const transposed = craft(
    'transposed.pth',
    one({ tensor: { storage: ['FloatStorage', '0', 4], shape: [2, 2], stride: [1, 2] } }),
    storage
  );
  await refused(
    transposed,
    importTo(transposed),
    'vqvae.encoder.model.1.weight (2, 2; strides 1, 2) is not contiguous'
  );
  const list = craft('list-root.pth', [1, 2], storage);
  await refused(list, importTo(list), "the pickle's root is an array of length 2, not a dict");
  const ints = join(dir, 'ints.safetensors');
  writeSafetensors(ints, [{ name: 'x', dtype: 'i8', shape: [1], data: () => new Uint8Array(8) }]);
  const nan = join(dir, 'nan.safetensors');
  writeSafetensors(nan, [{ name: 'x', dtype: 'f4', shape: [2], data: () => f32([1, NaN]) }]);
  const values = [
    [ints, 'x holds i8 values, not floating-point ones'],
    [nan, 'x holds NaN at element 1'],
  ];
  for (const [file, expected] of values) {
    const w = await openWeights(file);
    try {
      await refused(file, () => w.read('x'), expected);
    } finally {
      w.close();
    }
  }
  mkdirSync(join(dir, 'folder.pth'));
  await refused(join(dir, 'folder.pth'), () => openWeights(join(dir, 'folder.pth')), 'is a directory, not a file');
  spawnSync('mkfifo', [join(dir, 'fifo.pth')]);
  await refused(join(dir, 'fifo.pth'), () => openWeights(join(dir, 'fifo.pth')), 'is not a regular file (a pipe');
});

test.run();
