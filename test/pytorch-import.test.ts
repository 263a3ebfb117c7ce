// Import and export against checkpoints in exactly the reference's structure
// (scripts/reference/reference_checkpoint.py, Debian's python3-torch): a `module.` prefix, the patchers' buffers, an
// optimizer and a scheduler with a Counter, an unknown class, a bf16 decoder. torchmotion's reconstruction, codes,
// logits and greedy tokens equal the PyTorch modules' on the same weights; what torchmotion exports loads into the
// reference-named modules with load_state_dict(strict=True) and gives torchmotion's outputs; a name that maps to
// nothing is an error listing it.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz } from '../ts/data/npz.js';
import { exportRun } from '../ts/pytorch/export.js';
import { importCheckpoint } from '../ts/pytorch/import.js';
import { checkpointFor } from '../ts/pytorch/on-the-fly.js';
import { openWeights } from '../ts/pytorch/weights.js';
import { loadT2M } from '../ts/t2m/model.js';
import { loadTokenizer } from '../ts/tokenizer/model.js';
import { referenceTokenizerConfig } from '../scripts/reference/tokenizer-config.js';
import { errorOf, maxRelErr, tempDir } from './helpers.js';
import { runPython } from './python.js';

const script = join(import.meta.dirname, '..', 'scripts', 'reference', 'reference_checkpoint.py');
const dir = tempDir('tm-import-');
// On-the-fly imports (--ckpt file.pth) go to the user's cache folder: this test's stay in its own.
process.env.XDG_CACHE_HOME = join(dir, 'cache');
const tokConfig = referenceTokenizerConfig({ width: 64, depth: 2, levels: [8, 5, 5, 5] });
const decConfig = { vocab: 1026, dim: 64, layers: 2, heads: 4, hidden: 256, textDim: 32 };
runPython([script, 'write-tokenizer', dir, JSON.stringify(tokConfig)]);
const decDir = join(dir, 'decoder');
runPython(['-c', 'import os, sys; os.makedirs(sys.argv[1])', decDir]);
runPython([script, 'write-t2m', decDir, JSON.stringify(decConfig)]);

const ints = (t: { data: ArrayLike<number | bigint> }) => Array.from(t.data as ArrayLike<number>, Number);
// Greedy tokens up to and including the first END (torchmotion pads after it; the reference script does not stop).
const untilEnd = (tokens: number[], end: number) =>
  tokens.includes(end) ? tokens.slice(0, tokens.indexOf(end) + 1) : tokens;

const tokRun = join(dir, 'tokenizer-run');
const ref = readNpz(join(dir, 'reference-run.npz'));
const motion = { data: ref.motion.data as Float32Array, shape: ref.motion.shape };

test(`tokenizer: an ambiguous FSQ width asks for --codes; a name that maps to nothing is listed \
and nothing is written`, async () => {
  const e = await errorOf(() => importCheckpoint(join(dir, 'fsq_net.pth'), join(dir, 'ambiguous')));
  assert.is(
    e,
    "the file's FSQ has 4 dimensions, which the reference's table gives to 1024 codes (8×5×5×5) " +
      'and 2048 codes (8×8×6×5): say which with --codes (or give the levels with --levels)'
  );
  const extra = join(dir, 'extra.pth');
  runPython([
    '-c',
    [
      'import sys, torch',
      'class TrainerState: pass',
      "c = torch.load(sys.argv[1]); c['net']['module.vqvae.encoder.model.9.bias'] = torch.zeros(3); " +
        'torch.save(c, sys.argv[2])',
    ].join('\n'),
    join(dir, 'fsq_net.pth'),
    extra,
  ]);
  const e2 = await errorOf(() => importCheckpoint(extra, join(dir, 'extra-run'), { codes: 1024 }));
  assert.is(
    e2,
    "1 tensor(s) in the file map to nothing in torchmotion's tokenizer: " +
      'vqvae.encoder.model.9.bias (nothing was written)'
  );
  assert.is(existsSync(join(dir, 'extra-run')), false);
});

test(`tokenizer: import equals PyTorch on the same weights (reconstruction within 1e-5, codes equal) \
and reports what it read`, async () => {
  const r = await importCheckpoint(join(dir, 'fsq_net.pth'), tokRun, { codes: 1024 });
  assert.is(r.kind, 'tokenizer');
  assert.equal(r.ignored, [
    'vqvae.encoder.model.0.wavelets',
    'vqvae.encoder.model.0._arange',
    'vqvae.decoder.model.7.wavelets',
    'vqvae.decoder.model.7._arange',
  ]);
  assert.equal(r.otherEntries, ['optimizer', 'scheduler', 'nb_iter', 'trainer']);
  assert.equal(r.skippedClasses, ['__main__.TrainerState']);
  assert.is(r.nbIter, 6000000);
  assert.is(r.mapped.length, 54);
  const { model } = await loadTokenizer(await checkpointFor(tokRun, 'tokenizer'));
  const out = await model.reconstruct(motion);
  const err = maxRelErr(out.reconstruction.data as Float32Array, ref.reconstruction.data as Float32Array);
  assert.ok(err < 1e-5, `reconstruction ${err}`);
  assert.equal(ints(out.codes), ints(ref.codes));
});

test(`tokenizer: export (.pth and safetensors) loads strictly into the reference-named modules and gives torchmotion's \
outputs; --ckpt takes the file`, async () => {
  const { model } = await loadTokenizer(await checkpointFor(tokRun, 'tokenizer'));
  const ours = await model.reconstruct(motion);
  for (const format of ['pth', 'safetensors'] as const) {
    const file = join(dir, `exported.${format}`);
    const e = await exportRun(tokRun, file, format);
    assert.is(e.tensors, 54 + 4);
    const out = join(dir, `check-${format}.npz`);
    runPython([script, 'check-tokenizer', file, JSON.stringify(tokConfig), join(dir, 'reference-run.npz'), out]);
    const back = readNpz(out);
    const err = maxRelErr(back.reconstruction.data as Float32Array, ours.reconstruction.data as Float32Array);
    assert.ok(err < 1e-5, `${format}: reconstruction ${err}`);
    assert.equal(ints(back.codes), ints(ours.codes), format);
  }
  // Both files name their levels (safetensors' metadata, `fsq_levels` beside `net`), so they import without --codes.
  for (const format of ['pth', 'safetensors']) {
    const { model: fly } = await loadTokenizer(await checkpointFor(join(dir, `exported.${format}`), 'tokenizer'));
    const again = await fly.reconstruct(motion);
    assert.equal(
      Array.from(again.reconstruction.data as Float32Array),
      Array.from(ours.reconstruction.data as Float32Array),
      format
    );
  }
});

test(`decoder: a bf16 \`trans\` checkpoint imports (preset and heads from the shapes); logits within 1e-5 and \
greedy tokens equal PyTorch's`, async () => {
  const dref = readNpz(join(decDir, 'reference-run.npz'));
  const run = join(dir, 'decoder-run');
  const r = await importCheckpoint(join(decDir, 'net_t2m.pth'), run, { tokenizer: tokRun });
  assert.is(r.kind, 't2m');
  assert.equal(r.config, {
    preset: 'tiny',
    text: 'embeddings',
    textDim: 32,
    textLayers: 2,
    textHeads: 4,
    textMaxLen: 40,
    maxMotionTokens: 300,
    ropeBase: 10000,
    heads: 4,
    vocab: 1026,
    dtype: 'float32',
  });
  assert.equal(r.otherEntries, ['optimizer', 'scheduler', 'nb_iter', 'trainer', 'actual_nb_iter']);
  assert.is(r.mapped.length, 2 * 7 + 5);
  assert.ok(r.mapped.every((m) => m.dtype === 'bf16'));
  const { model } = await loadT2M(join(run, 'checkpoints', 'step-00000000'));
  const text = { data: dref.text.data as Float32Array, shape: dref.text.shape };
  const textLengths = { data: Int32Array.from(ints(dref.lengths)), shape: dref.lengths.shape };
  const logits = await model.logits({
    text,
    textLengths,
    codes: { data: Int32Array.from(ints(dref.codes)), shape: dref.codes.shape },
  });
  const err = maxRelErr(logits.data as Float32Array, dref.logits.data as Float32Array);
  assert.ok(err < 1e-5, `logits ${err}`);
  const greedy = await model.generate({ text, textLengths }, { maxTokens: 12, cache: true });
  const T = dref.tokens.shape[1];
  const mine = ints(greedy.tokens);
  const theirs = ints(dref.tokens);
  for (let b = 0; b < 2; b++) {
    assert.equal(
      untilEnd(mine.slice(b * T, b * T + T), 1024),
      untilEnd(theirs.slice(b * T, b * T + T), 1024),
      `prompt ${b}`
    );
  }
  // export → strict load in PyTorch → the same logits and tokens.
  const file = join(dir, 'exported-decoder.pth');
  const e = await exportRun(run, file, 'pth');
  assert.is(e.tensors, 19);
  const out = join(dir, 'check-decoder.npz');
  runPython([script, 'check-t2m', file, JSON.stringify(decConfig), join(decDir, 'reference-run.npz'), out]);
  const back = readNpz(out);
  assert.ok(maxRelErr(back.logits.data as Float32Array, logits.data as Float32Array) < 1e-5, 'exported logits');
  assert.equal(ints(back.tokens), theirs);
});

test(`decoder: --dtype bf16 keeps the weights in bf16 — logits near PyTorch's fp32 ones, a checkpoint of half the size \
that reloads exactly, exported as bf16, no training`, async () => {
  const dref = readNpz(join(decDir, 'reference-run.npz'));
  const run = join(dir, 'decoder-bf16');
  const r = await importCheckpoint(join(decDir, 'net_t2m.pth'), run, { tokenizer: tokRun, dtype: 'bf16' });
  assert.is((r.config as { dtype: string }).dtype, 'bfloat16');
  const ckpt = join(run, 'checkpoints', 'step-00000000');
  const { model } = await loadT2M(ckpt);
  const batch = {
    text: { data: dref.text.data as Float32Array, shape: dref.text.shape },
    textLengths: { data: Int32Array.from(ints(dref.lengths)), shape: dref.lengths.shape },
    codes: { data: Int32Array.from(ints(dref.codes)), shape: dref.codes.shape },
  };
  const logits = await model.logits(batch);
  const err = maxRelErr(logits.data as Float32Array, dref.logits.data as Float32Array);
  assert.ok(err < 5e-2 && err > 0, `bf16 arithmetic against fp32: relative error ${err}`);
  const fp32Size = statSync(join(dir, 'decoder-run', 'checkpoints', 'step-00000000', 'model.pt')).size;
  const bf16Size = statSync(join(ckpt, 'model.pt')).size;
  assert.ok(bf16Size < 0.55 * fp32Size, `model.pt ${bf16Size} B against ${fp32Size} B in fp32`);
  const { model: again } = await loadT2M(ckpt);
  assert.equal(Array.from((await again.logits(batch)).data as Float32Array), Array.from(logits.data as Float32Array));
  assert.is(
    await errorOf(() => model.step(batch, { lr: 1e-4 })),
    'T2M.step: a bfloat16 model only generates (no optimiser): make it with dtype float32 to train'
  );
  const file = join(dir, 'exported-bf16.safetensors');
  await exportRun(run, file, 'safetensors');
  const back = await openWeights(file);
  try {
    assert.ok([...back.tensors.values()].every((t) => t.dtype === 'bf16'));
    // The file's bf16 values are the reference file's: nothing was rounded twice.
    const src = await openWeights(join(decDir, 'net_t2m.pth'));
    try {
      for (const name of ['transformer.wte.weight', 'transformer.h.1.mlp.c_proj.weight'])
        assert.equal(Array.from(back.read(name)), Array.from(src.read(name)), name);
    } finally {
      src.close();
    }
  } finally {
    back.close();
  }
});

test(`loadStateDict is all or nothing: a missing name, a wrong shape or a NaN is named \
and nothing changes`, async () => {
  const { model } = await loadTokenizer(await checkpointFor(tokRun, 'tokenizer'));
  const sd = model.stateDict();
  const values = Object.fromEntries(
    Object.entries(sd).map(([k, t]) => [k, { data: new Float32Array(t.data as Float32Array), shape: t.shape }])
  );
  const first = Object.keys(values)[0];
  const { [first]: dropped, ...missing } = values;
  assert.ok(dropped);
  assert.is(await errorOf(() => model.loadStateDict(missing)), `Tokenizer.loadStateDict: no value for ${first}`);
  const last = Object.keys(values).at(-1)!;
  const poisoned = {
    ...values,
    [last]: { data: new Float32Array(values[last].data).fill(NaN, 0, 1), shape: values[last].shape },
  };
  assert.is(await errorOf(() => model.loadStateDict(poisoned)), `Tokenizer.loadStateDict: ${last} holds NaN or Inf`);
  assert.equal(Array.from(model.stateDict()[first].data as Float32Array), Array.from(sd[first].data as Float32Array));
  // partial (an importer streaming a file): a subset is set, other weights untouched; an unknown name is still refused.
  const doubled = { data: (values[first].data as Float32Array).map((v) => 2 * v), shape: values[first].shape };
  model.loadStateDict({ [first]: doubled }, { partial: true });
  assert.equal(Array.from(model.stateDict()[first].data as Float32Array), Array.from(doubled.data));
  assert.equal(Array.from(model.stateDict()[last].data as Float32Array), Array.from(sd[last].data as Float32Array));
  assert.is(
    await errorOf(() => model.loadStateDict({ 'encoder.nowhere': doubled }, { partial: true })),
    'Tokenizer.loadStateDict: the model has no encoder.nowhere'
  );
});

test('CLI: `import` then `export <run> --format safetensors -o`, beside `export pfnn`', () => {
  const bin = join(import.meta.dirname, '..', 'bin', 'torchmotion.js');
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const run = join(dir, 'cli-run');
  const imp = cli('import', join(dir, 'fsq_net.pth'), '--codes', '1024', '-o', run, '--json');
  assert.is(imp.status, 0, imp.stderr);
  assert.is(JSON.parse(imp.stdout).mapped.length, 54);
  const file = join(dir, 'cli.safetensors');
  const exp = cli('export', run, '--format', 'safetensors', '-o', file);
  assert.is(exp.status, 0, exp.stderr);
  assert.is(exp.stdout.trim(), `${file}: 58 tensors in the reference's layout (safetensors)`);
  const bad = cli('export', run, '--format', 'onnx', '-o', file);
  assert.is(bad.stderr.trim(), `torchmotion: export ${run}: --format must be pth or safetensors`);
});

test.run();
