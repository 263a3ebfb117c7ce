import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { motionFile } from '../ts/data/layout.js';
import { readNpy, writeNpy } from '../ts/data/npy.js';
import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { resolveModel } from '../ts/tokenizer/config.js';
import { EncodedCodes, encodeDataset } from '../ts/tokenizer/encode.js';
import { CodeCounter, evaluateTokenizer, pelvisRelativeError } from '../ts/tokenizer/evaluate.js';
import { TokenizerModel } from '../ts/tokenizer/model.js';
import { reconstructMotion } from '../ts/tokenizer/reconstruct.js';
import { loadTokenizer } from '../ts/tokenizer/model.js';
import { trainTokenizer } from '../ts/tokenizer/train.js';
import { MetricsLog } from '../ts/train/metrics.js';
import { device, errorOf, relL2, tempDir } from './helpers.js';

const root = tempDir('tm-tok-data-');
writeSyntheticDataset(root, 15);
const runs = tempDir('tm-tok-runs-');

test('the MotionMillion configuration has exactly 11,349,782 parameters, all trainable', () => {
  const rows = new TokenizerModel(resolveModel({ preset: 'motionmillion' })).parameterTable();
  assert.is(
    rows.reduce((s, r) => s + r.count, 0),
    11349782
  );
  assert.is(
    rows.filter((r) => r.trainable).reduce((s, r) => s + r.count, 0),
    11349782
  );
  assert.equal(rows[0], { name: 'encoder.model.0.weight', shape: [512, 272, 3], count: 417792, trainable: true });
  assert.equal(rows.find((r) => r.name === 'quantizer.project_in.weight')!.shape, [6, 512]);
});

for (const quantizer of ['fsq', 'vq'] as const) {
  test(`${quantizer}: losses after a resume equal an uninterrupted run bit for bit (CPU, one thread)`, async () => {
    const config = {
      preset: 'tiny' as const,
      model: { quantizer, codes: 16 },
      // Held-out evals every 3 steps: they must leave training untouched and resume like the losses do. Always the
      // CPU: on CUDA the VQ's EMA scatter-adds are atomics, so its sums differ in the last bits from run to run.
      train: {
        steps: 12,
        batch: 4,
        window: 32,
        lr: 3e-3,
        warmup: 3,
        milestones: [8],
        checkpointEvery: 4,
        evalEvery: 3,
        evalClips: 2,
        threads: 1,
        device: 'cpu',
      },
      data: { root },
    };
    const full = await trainTokenizer(config, { out: join(runs, `${quantizer}-full`), log: () => {} });
    assert.is(full.steps, 12);
    const first = await trainTokenizer(config, { out: join(runs, `${quantizer}-cut`), log: () => {}, stopAfter: 5 });
    assert.ok(first.interrupted);
    assert.is(first.steps, 5);
    const second = await trainTokenizer(config, { out: join(runs, `${quantizer}-cut`), log: () => {}, resume: true });
    assert.is(second.steps, 12);
    const a = MetricsLog.read(full.metrics).map((m) => m.loss ?? m.mpjpeMm);
    const b = MetricsLog.read(second.metrics).map((m) => m.loss ?? m.mpjpeMm);
    const evals = MetricsLog.read(full.metrics).filter((m) => m.kind === ('eval' as never));
    assert.equal(
      evals.map((m) => m.step),
      [2, 5, 8, 11]
    );
    assert.ok(
      evals.every((m) => m.mpjpeMm > 0 && Number.isFinite(m.mpjpeMm) && m.clips === 2),
      JSON.stringify(evals[0])
    );
    assert.is(a.length, 16);
    assert.equal(b, a);
  });
}

test('a run folder with checkpoints is not overwritten without --resume', async () => {
  const config = {
    preset: 'tiny' as const,
    train: { steps: 2, batch: 2, window: 32, threads: 1, device },
    data: { root },
  };
  await trainTokenizer(config, { out: join(runs, 'once'), log: () => {} });
  try {
    await trainTokenizer(config, { out: join(runs, 'once'), log: () => {} });
    assert.unreachable('a second run into the same folder must fail');
  } catch (err) {
    assert.match((err as Error).message, /already holds checkpoints: pass --resume/);
  }
});

test('loading a checkpoint that is not there names the file', async () => {
  const model = new TokenizerModel(resolveModel({ preset: 'tiny' }), { device });
  try {
    await model.load(join(runs, 'nope', 'model.pt'));
    assert.unreachable('load must fail');
  } catch (err) {
    assert.is((err as Error).message, `checkpoint ${join(runs, 'nope', 'model.pt')} does not exist or cannot be read`);
  }
});

test("a step traced with `profile` writes LibTorch's trace of that step", async () => {
  const model = new TokenizerModel(resolveModel({ preset: 'tiny' }), { device });
  const trace = join(runs, 'step-trace.json');
  const motion = { data: new Float32Array(2 * 32 * 272).map((_, i) => Math.sin(i)), shape: [2, 32, 272] };
  await model.step(motion, { lr: 1e-3, threads: 1, profile: trace });
  const names = new Set((JSON.parse(readFileSync(trace, 'utf8')) as { name: string }[]).map((e) => e.name));
  // Convolutions are torchmotion's own kernels on AVX-512 CPUs (native/kernels/conv1d_cpu.cc), LibTorch's elsewhere.
  assert.ok(
    names.has('aten::convolution_backward') || names.has('torchmotion::conv1d_backward'),
    'the trace covers the backward pass'
  );
  assert.ok(names.has('aten::convolution') || names.has('torchmotion::conv1d'), 'and the forward convolutions');
});

test('evaluation helpers: pelvis-relative error and bincount statistics', () => {
  const a = new Float64Array(66 * 2).map((_, i) => i * 0.01);
  const b = a.map((v, i) => v + 7 + (i % 66 === 3 ? 0.003 : 0)); // a global shift, and joint 1's x off by 3 mm
  const e = pelvisRelativeError(a, b);
  assert.is(e.count, 44);
  assert.ok(Math.abs(e.sum / e.count - 0.003 / 22) < 1e-12);
  const c = new CodeCounter(8);
  c.add([0, 1, 2, 3, 0, 1, 2, 3]);
  const s = c.summary();
  assert.equal([s.usedCodes, s.deadCodes, s.usagePercent], [4, 4, 50]);
  assert.ok(Math.abs(s.perplexity - 4) < 1e-12);
});

test(`eval and encode on a trained checkpoint; encode resumes after an interruption \
with identical output`, async () => {
  const { model } = await loadTokenizer(join(runs, 'fsq-full', 'checkpoints', 'step-00000012'));
  const ev = await evaluateTokenizer(model, root, { split: 'val', minFrames: 0 });
  assert.is(ev.clips, 3);
  assert.ok(ev.mpjpeMm > 0 && Number.isFinite(ev.mpjpeMm));
  assert.is(ev.codebookSize, 125);
  const out = join(runs, 'codes');
  const r = await encodeDataset(model, root, out, { split: 'all', checkpoint: 'x' });
  assert.is(r.clips, 15);
  const codes = new EncodedCodes(out);
  const whole = readFileSync(join(out, 'codes.i32'));
  const names = readFileSync(join(out, 'names.txt'), 'utf8').split('\n').filter(Boolean);
  assert.is(codes.codes(0).length, Number(codes.offsets[1]));
  // Simulate a crash after 9 clips with half of the 10th written, then resume.
  const offsets = readFileSync(join(out, 'offsets.i64'));
  writeFileSync(join(out, 'names.txt'), names.slice(0, 9).join('\n') + '\n');
  writeFileSync(join(out, 'offsets.i64'), offsets.subarray(0, 10 * 8));
  writeFileSync(join(out, 'codes.i32'), whole.subarray(0, Number(codes.offsets[9]) * 4 + 6));
  codes.close();
  const again = await encodeDataset(model, root, out, { split: 'all', checkpoint: 'x' });
  assert.equal([again.clips, again.tokens], [15, r.tokens]);
  assert.ok(readFileSync(join(out, 'codes.i32')).equals(whole));
  assert.ok(readFileSync(join(out, 'offsets.i64')).equals(offsets));
});

test(`reconstruct: a raw clip through the tokenizer gives the codes \`encode\` stored for it, \
cropped to whole steps`, async () => {
  const ck = join(runs, 'fsq-full', 'checkpoints', 'step-00000012');
  const codes = new EncodedCodes(join(runs, 'codes'));
  const name = codes.names[0];
  const out = join(runs, 'rec.npy');
  const r = await reconstructMotion(ck, motionFile(root, name), { out });
  const raw = readNpy(motionFile(root, name));
  const step = (await loadTokenizer(ck)).model.downsampling;
  assert.is(r.frames, raw.shape[0] - (raw.shape[0] % step));
  assert.ok(raw.shape[0] % step !== 0, 'the clip has a tail to crop');
  assert.equal(Array.from(r.codes), Array.from(codes.codes(0)));
  const written = readNpy(out);
  assert.equal(written.shape, [r.frames, 272]);
  assert.equal(Array.from(written.data as Float32Array), Array.from(Float32Array.from(r.motion)));
  // Raw values, not normalised ones: a normalised output (≈ 0 for a barely trained model) would be ‖raw‖ away.
  const rawCropped = (raw.data as Float32Array).subarray(0, r.frames * 272);
  const err = relL2(r.motion, rawCropped);
  assert.ok(err < 0.5, `reconstruction is ${err} (relative L2) from the raw clip`);
  codes.close();
  const short = join(runs, 'short.npy');
  writeNpy(short, { data: new Float32Array((step - 1) * 272), shape: [step - 1, 272] });
  assert.is(
    await errorOf(() => reconstructMotion(ck, short)),
    `${short}: ${step - 1} frames, fewer than the tokenizer's ${step}-frame step: ` +
      `give a motion of at least ${step} frames`
  );
});

test('Ctrl-C during `tokenizer train` saves a checkpoint and exits cleanly', async () => {
  const out = join(runs, 'sigint');
  const cfg = join(runs, 'sigint.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      preset: 'tiny',
      train: { steps: 100000, batch: 2, window: 32, threads: 1, logEvery: 1, checkpointEvery: 100000 },
      data: { root },
    })
  );
  const child = spawn(process.execPath, [
    join(import.meta.dirname, '..', 'bin', 'torchmotion.js'),
    'tokenizer',
    'train',
    '--config',
    cfg,
    '--out',
    out,
  ]);
  let stdout = '';
  let sent = 0;
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/step 3\//.test(stdout) && sent < 2) {
      child.kill('SIGINT'); // twice: a second Ctrl-C while saving must not kill the process either
      sent++;
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.is(code, 0, stdout);
  assert.match(stdout, /interrupted at step \d+: checkpoint .*step-\d+; continue with --resume/);
  assert.ok(existsSync(join(out, 'checkpoints', 'latest')));
});

test.run();
