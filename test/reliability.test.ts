// Training never lets NaN/Inf into the weights, checkpoints are written all or nothing (a full disk included), and a
// failed load leaves the model as it was.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readDatasetMeanStd, readMotion272 } from '../ts/data/motion-files.js';
import { readNpy, writeNpy } from '../ts/data/npy.js';
import { readNpz } from '../ts/data/npz.js';
import { readSmplClip } from '../ts/convert/from-smpl.js';
import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { DEFAULT_PFNN } from '../ts/pfnn/database-layout.js';
import { buildPfnnDatabase } from '../ts/pfnn/database-build.js';
import { native } from '../ts/native.js';
import type { TensorOut } from '../ts/tensor.js';
import { nativeOptions, t2mModel } from '../ts/t2m/config.js';
import { resolveModel } from '../ts/tokenizer/config.js';
import { encodeDataset } from '../ts/tokenizer/encode.js';
import { evaluateTokenizer } from '../ts/tokenizer/evaluate.js';
import { loadTokenizer, TokenizerModel } from '../ts/tokenizer/model.js';
import { trainTokenizer } from '../ts/tokenizer/train.js';
import { readCheckpointState } from '../ts/train/checkpoint.js';
import { MetricsLog } from '../ts/train/metrics.js';
import { device, errorOf, motionBatch, tempDir, t2mOfShape, tinyStepOptions, tinyTokenizerOptions } from './helpers.js';
import { zipRecords } from './pth-craft.js';

// Every tensor of two state dicts equal, element for element (NaN included).
const same = (a: Record<string, TensorOut>, b: Record<string, TensorOut>) =>
  Object.keys(a).every(
    (k) =>
      a[k].data.length === b[k].data.length && (a[k].data as Float32Array).every((x, i) => Object.is(x, b[k].data[i]))
  );

test('a non-finite batch, loss or gradient changes no weight, and the next step trains', async () => {
  const model = new (native().Tokenizer)(await tinyTokenizerOptions());
  const before = model.stateDict();
  const nan = motionBatch(2, 16);
  nan.data[100] = NaN;
  const r = await model.step(nan, tinyStepOptions);
  assert.is(r.nonFinite, 'input');
  assert.ok(same(before, model.stateDict()), 'weights unchanged after a NaN batch');
  const huge = motionBatch(2, 16);
  huge.data.fill(3e38);
  const h = await model.step(huge, tinyStepOptions);
  assert.ok(h.nonFinite === 'loss' || h.nonFinite === 'gradients', `overflow reported as ${h.nonFinite}`);
  assert.ok(same(before, model.stateDict()), 'weights unchanged after an overflowing batch');
  const ok = await model.step(motionBatch(2, 16), tinyStepOptions);
  assert.is(ok.nonFinite, undefined);
  assert.ok(Number.isFinite(ok.loss) && ok.gradNorm > 0);
  assert.not.ok(same(before, model.stateDict()), 'a finite step updates');
});

test('VQ: a batch that overflows the encoder leaves the codebook and its EMA as they were', async () => {
  const model = new (native().Tokenizer)({ ...(await tinyTokenizerOptions()), quantizer: 'vq', codes: 16 });
  await model.step(motionBatch(2, 16), tinyStepOptions); // initialises the codebook
  const before = model.stateDict();
  const huge = motionBatch(2, 16);
  huge.data.fill(3e38);
  const r = await model.step(huge, tinyStepOptions);
  assert.ok(r.nonFinite === 'loss' || r.nonFinite === 'gradients', `reported ${r.nonFinite}`);
  assert.ok(same(before, model.stateDict()), 'parameters and buffers (codebook, code sums and counts) unchanged');
});

test('text-to-motion: a NaN micro-batch spoils its whole accumulated update, and only that one', async () => {
  const shape = nativeOptions(t2mModel.parse({ preset: 'tiny', text: 'embeddings', textDim: 8 }), 10, 0, 8);
  const model = await t2mOfShape(shape);
  const batch = (poison: boolean) => {
    const text = new Float32Array(2 * 3 * 8).map((_, i) => Math.sin(i));
    if (poison) text[5] = NaN;
    return {
      text: { data: text, shape: [2, 3, 8] },
      textLengths: { data: Int32Array.from([3, 2]), shape: [2] },
      codes: { data: Int32Array.from([1, 2, 10, 3, 10, 11]), shape: [2, 3] },
    };
  };
  const o = { lr: 1e-3, clip: 1, lossScale: 0.5, autocast: 'none' as const, recompute: false, threads: 1 };
  const before = model.stateDict();
  assert.is((await model.step(batch(true), { ...o, update: false })).nonFinite, 'input');
  assert.is(
    (await model.step(batch(false), { ...o, update: true })).nonFinite,
    'input',
    'the update names the earlier micro-batch'
  );
  assert.ok(same(before, model.stateDict()));
  const good = await model.step(batch(false), { ...o, update: true });
  assert.is(good.nonFinite, undefined);
  assert.not.ok(same(before, model.stateDict()));
});

// A dataset with one clip that holds a NaN, for the trainer's policy.
function poisonedDataset(): { root: string; bad: string } {
  const root = join(tempDir('tm-nan-'), 'data');
  const names = writeSyntheticDataset(root, 6, 2);
  const bad = names[0];
  const file = join(root, 'motion_data', 'vector_272', `${bad}.npy`);
  const x = readNpy(file);
  // every 32-frame window meets one
  for (let t = 5; t < x.shape[0]; t += 20) (x.data as Float64Array)[t * 272 + 3] = NaN;
  writeNpy(file, x);
  return { root, bad };
}

test('training stops at a non-finite step naming it and its clips; with onNonFinite skip it goes on', async () => {
  const { root, bad } = poisonedDataset();
  const train = { steps: 6, batch: 4, window: 32, threads: 1, checkpointEvery: 2, device };
  const out = tempDir('tm-nan-run-');
  const msg = await errorOf(() =>
    trainTokenizer({ preset: 'tiny', data: { root }, train }, { out: join(out, 'stop'), log: () => {} })
  );
  assert.match(msg, /^step \d+: the batch holds NaN or Inf \(batch: .*Synthetic\/clip000.*\); no update was applied/);
  assert.match(msg, bad);
  assert.match(msg, 'train.onNonFinite=skip');
  const r = await trainTokenizer(
    { preset: 'tiny', data: { root }, train: { ...train, onNonFinite: 'skip' } },
    { out: join(out, 'skip'), log: () => {} }
  );
  assert.is(r.steps, 6);
  const rows = MetricsLog.read(r.metrics) as Array<Record<string, number | string>>;
  const skipped = rows.filter((m) => m.kind === 'skipped');
  assert.ok(
    skipped.length > 0 && skipped.every((m) => m.reason === 'input' && String(m.clips).includes(bad)),
    JSON.stringify(skipped)
  );
  assert.is(rows.length, 6, 'one line per step');
  const { model } = await loadTokenizer(r.checkpoint, device);
  for (const t of Object.values(model.stateDict())) assert.ok((t.data as Float32Array).every(Number.isFinite));
});

test(`readers that compute from values refuse or skip-and-name a clip with NaN: recover, encode, \
eval, PFNN export, mean/std`, async () => {
  const { root, bad } = poisonedDataset();
  const file = join(root, 'motion_data', 'vector_272', `${bad}.npy`);
  assert.match(
    await errorOf(() => readMotion272(file)),
    new RegExp(`^${file}: frame 5, channel 3 is NaN: a motion with NaN or Inf cannot be used$`)
  );
  const model = new TokenizerModel(resolveModel({ preset: 'tiny' }));
  const msg = await errorOf(() =>
    encodeDataset(model, root, join(tempDir('tm-nan-codes-'), 'codes'), {
      split: 'train',
      checkpoint: 'x',
      log: () => {},
    })
  );
  assert.match(msg, `${bad} (split train of ${root}) holds NaN or Inf`);
  const ev = await evaluateTokenizer(model, root, { split: 'train', minFrames: 0 });
  assert.equal(ev.nonFinite, [bad]);
  assert.ok(Number.isFinite(ev.mpjpeMm));
  const pfnn = buildPfnnDatabase(root, 'train', join(tempDir('tm-nan-pfnn-'), 'pfnn'), DEFAULT_PFNN, () => {});
  assert.ok(
    pfnn.skipped.some((sk) => sk.name === bad && /NaN or Inf/.test(sk.reason)),
    JSON.stringify(pfnn.skipped)
  );
  const db = readNpz(join(pfnn.out, 'database.npz'));
  for (const k of ['Xun', 'Yun'])
    assert.ok(
      (db[k].data as Float32Array).length > 0 && (db[k].data as Float32Array).every(Number.isFinite),
      `${k} holds no NaN`
    );
  assert.ok(
    new Float32Array(Uint8Array.from(readFileSync(join(pfnn.out, 'Xmean.bin'))).buffer).every(Number.isFinite),
    'Xmean holds no NaN'
  );
  // The SMPL converter refuses NaN poses naming the file and the array; the missing-statistics hint names the command.
  const smpl = readNpy(join(import.meta.dirname, 'fixtures', 'repr272-sample', 'smpl85_facez.npy'));
  (smpl.data as Float32Array)[85 * 3 + 4] = NaN;
  const smplFile = join(tempDir('tm-nan-smpl-'), 'clip.npy');
  writeNpy(smplFile, smpl);
  assert.is(
    await errorOf(() => readSmplClip(smplFile)),
    `${smplFile}: SMPL-85 value 259 is NaN: a clip with NaN or Inf cannot be converted`
  );
  assert.match(
    await errorOf(() => readDatasetMeanStd(tempDir('tm-nostats-'))),
    'compute them from the training clips with `torchmotion data mean-std <root>`'
  );
  const std = join(root, 'mean_std', 'vector_272', 'std.npy');
  const s0 = readNpy(std);
  (s0.data as Float64Array)[7] = 0;
  writeNpy(std, s0);
  assert.is(
    await errorOf(() => readDatasetMeanStd(root)),
    `${std}: channel 7 is 0: every std must be positive (it divides)`
  );
});

test('a failed load leaves the model exactly as it was, and names the file', async () => {
  const dir = tempDir('tm-load-');
  const small = new TokenizerModel(resolveModel({ preset: 'small' }));
  await small.save(join(dir, 'small.pt'));
  const tiny = new TokenizerModel(resolveModel({ preset: 'tiny' }), { seed: 4 });
  const x = { data: motionBatch(1, 16).data, shape: [1, 16, 272] };
  const before = await tiny.reconstruct(x);
  const weights = tiny.stateDict();
  const msg = await errorOf(() => tiny.load(join(dir, 'small.pt')));
  assert.match(msg, join(dir, 'small.pt'));
  assert.ok(same(weights, tiny.stateDict()), 'every tensor as before the load');
  assert.equal(
    Array.from((await tiny.reconstruct(x)).reconstruction.data as Float32Array),
    Array.from(before.reconstruction.data as Float32Array)
  );
  // A truncated file and a state.json that is not JSON are errors naming the file.
  await tiny.save(join(dir, 'tiny.pt'));
  copyFileSync(join(dir, 'tiny.pt'), join(dir, 'tiny.pt.ok'));
  truncateSync(join(dir, 'tiny.pt'), 1000);
  assert.match(
    await errorOf(() => tiny.load(join(dir, 'tiny.pt'))),
    `${join(dir, 'tiny.pt')} is not a complete checkpoint (truncated, or not written by torchmotion)`
  );
  assert.ok(same(weights, tiny.stateDict()));
  // A checkpoint whose weights hold a NaN (patched into the stored tensor) is refused, and changes nothing.
  await tiny.save(join(dir, 'nan.pt'));
  const first = Object.values(weights)[0].data as Float32Array;
  const bytes = readFileSync(join(dir, 'nan.pt'));
  const at = bytes.indexOf(Buffer.from(first.buffer, first.byteOffset, 16));
  assert.ok(at > 0, 'the first tensor is stored as it is');
  bytes.writeUInt32LE(0x7fc00000, at);
  // A writer that stored a NaN wrote its CRC too: the archive is intact, and the NaN is what must be refused.
  const entry = zipRecords(bytes).find((r) => at >= r.data && at < r.data + r.size)!;
  const crc = crc32(bytes.subarray(entry.data, entry.data + entry.size));
  bytes.writeUInt32LE(crc, entry.central + 16);
  bytes.writeUInt32LE(crc, entry.local + 14);
  writeFileSync(join(dir, 'nan.pt'), bytes);
  assert.is(
    await errorOf(() => tiny.load(join(dir, 'nan.pt'))),
    `${join(dir, 'nan.pt')} cannot be loaded: parameter encoder.model.0.weight holds NaN or Inf`
  );
  assert.ok(same(weights, tiny.stateDict()));
  // A flipped byte, anywhere: an error naming the file and the entry, before LibTorch's reader sees the file (a
  // damaged type string sent it into a recursion that ended the process: fuzz case 463 of FUZZ_SEED 1234).
  const flipped = readFileSync(join(dir, 'tiny.pt.ok'));
  const data = zipRecords(flipped).find((r) => r.name.endsWith('data.pkl'))!;
  flipped[data.data + 20] ^= 0x40;
  writeFileSync(join(dir, 'flipped.pt'), flipped);
  assert.match(
    await errorOf(() => tiny.load(join(dir, 'flipped.pt'))),
    new RegExp(
      `^${join(dir, 'flipped.pt')}: entry [\\w/]*data\\.pkl is damaged \\(its CRC-32 is ` +
        `[0-9a-f]{8}, the archive records`
    )
  );
  assert.ok(same(weights, tiny.stateDict()));
  writeFileSync(join(dir, 'state.json'), '{"step": 3,');
  assert.match(
    await errorOf(() => readCheckpointState(dir)),
    `${join(dir, 'state.json')} is not a readable checkpoint state`
  );
});

test(`a full disk while checkpointing: a path-naming error, the last checkpoint intact, \
no temporary files, resume after`, async () => {
  const mnt = tempDir('tm-full-');
  const mounted =
    process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status === 0;
  if (!mounted) return void console.log('  (skipped: mounting a tmpfs needs root)');
  try {
    const root = join(tempDir('tm-full-data-'), 'data');
    writeSyntheticDataset(root, 6, 3);
    const run = join(mnt, 'run');
    const config = (steps: number) => ({
      preset: 'tiny' as const,
      data: { root },
      train: { steps, batch: 2, window: 32, threads: 1, checkpointEvery: 2, device },
    });
    await trainTokenizer(config(2), { out: run, log: () => {} });
    // Leave 64 KB: enough for metrics lines, not for a ~1 MB checkpoint.
    const s = statfsSync(mnt);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, s.bavail * s.bsize - 64 * 1024)));
    const msg = await errorOf(() => trainTokenizer(config(4), { out: run, resume: true, log: () => {} }));
    console.log(`  full disk: ${msg}`);
    assert.match(msg, /^no space left on device while writing .*checkpoints\/step-00000004\.tmp/);
    assert.is(readFileSync(join(run, 'checkpoints', 'latest'), 'utf8'), 'step-00000002\n');
    assert.equal(readdirSync(join(run, 'checkpoints')).sort(), ['latest', 'step-00000002']);
    assert.is(readCheckpointState(join(run, 'checkpoints', 'step-00000002')).step, 2);
    rmSync(join(mnt, 'filler'));
    const resumed = await trainTokenizer(config(4), { out: run, resume: true, log: () => {} });
    assert.is(resumed.steps, 4);
    assert.ok(existsSync(join(run, 'checkpoints', 'step-00000004', 'model.pt')));
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('a directory, a FIFO or an impossible folder is a sentence, never a hang', () => {
  const dir = tempDir('tm-fs-');
  const fifo = join(dir, 'pipe.npy');
  spawnSync('mkfifo', [fifo]);
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'torchmotion.js'), ...args], {
      encoding: 'utf8',
      timeout: 20000,
    });
  const asDir = cli('data', 'recover', dir, '--out', join(dir, 'j.npy'));
  assert.match(asDir.stderr, `torchmotion: ${dir} is a directory, not a file: give a file`);
  if (existsSync(fifo)) {
    const asFifo = cli('render', fifo, '-o', join(dir, 'x.png'));
    assert.is(asFifo.signal, null, 'it did not hang');
    assert.match(asFifo.stderr, `torchmotion: ${fifo} is not a regular file (a pipe, socket or device): give a file`);
  }
  const root = join(tempDir('tm-fs-data-'), 'data');
  writeSyntheticDataset(root, 3, 1);
  writeFileSync(join(root, 'split', 'version1', 'tokenizer_96', 'train.txt'), 'Synthetic/clip000\nSynthetic/absent\n');
  const report = cli('data', 'index', root, '--split', 'train', '--report-dir', '/proc/nope');
  assert.is(report.signal, null, 'it did not hang');
  assert.match(
    report.stderr,
    'torchmotion: a folder on the way does not exist while making the folder /proc/nope: choose another folder'
  );
});

test.run();
