// A seeded fuzz suite: malformed NPY, NPZ, BVH, split, config, state.json and checkpoint files, tar archives, .pth and
// safetensors files, pfnn.json, and invalid native calls. Each case must end in one of two classes: a correct result
// (finite values, the promised shape), or a torchmotion error that names the file (for files) — never a crash, a hang,
// a non-finite result or a generic message. FUZZ_CASES=N runs N cases per family (default 40), FUZZ_SEED picks another
// sequence.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { zipSync } from 'fflate';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadConfig } from '../ts/config.js';
import { buildIndex, clipNameProblem } from '../ts/data/dataset.js';
import { readMotion272 } from '../ts/data/motion-files.js';
import { encodeNpy, readNpy } from '../ts/data/npy.js';
import { readNpz } from '../ts/data/npz.js';
import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { parseBvh } from '../ts/convert/bvh.js';
import { native } from '../ts/native.js';
import { resolveModel, tokenizerConfig } from '../ts/tokenizer/config.js';
import { TokenizerModel } from '../ts/tokenizer/model.js';
import { readCheckpointState } from '../ts/train/checkpoint.js';
import { allFinite, CASES, classify, dir, randomStream, tally } from './fuzz-harness.js';
// The families that live beside this file register their tests on import, before the ones below.
import './fuzz-pfnn.js';
import './fuzz-pth.js';
import './fuzz-tar.js';
import { tempDir, tinyStepOptions, tinyTokenizerOptions } from './helpers.js';

const { rng, pick, mutateBytes } = randomStream('');

const motion = () => {
  const T = 4 + rng.int(12);
  return { data: Float64Array.from({ length: T * 272 }, (_, i) => Math.sin(i)), shape: [T, 272] };
};

// Header texts a hostile or broken writer might produce.
function npyWithHeader(): Uint8Array {
  const shape = pick([
    '(4, 272)',
    '(-4, 272)',
    '(4.5, 272)',
    '(1000000000000, 272)',
    '(4,)',
    '()',
    '(4, 272, 1)',
    '(0, 272)',
    'x',
    '(4, 271)',
  ]);
  const descr = pick(["'<f8'", "'<f4'", "'<i4'", "'|b1'", "'>f8'", "'<c16'", "'foo'", "'<f2'"]);
  const header = `{'descr': ${descr}, 'fortran_order': ${pick(['False', 'True', 'maybe'])}, 'shape': ${shape}, }`;
  const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + padded.length + 8 * 272 * 4);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 255, padded.length >> 8]);
  bytes.set(new TextEncoder().encode(padded), 10);
  return bytes;
}

test('NPY: malformed files are read correctly or refused naming the file', () => {
  for (let k = 0; k < CASES; k++) {
    const file = join(dir, `case${k}.npy`);
    writeFileSync(file, k % 2 ? mutateBytes(encodeNpy(motion())) : npyWithHeader());
    classify(
      `npy case ${k}`,
      file,
      () => readNpy(file),
      (a: { data: ArrayLike<number>; shape: number[] }) => {
        assert.is(
          a.shape.reduce((x, y) => x * y, 1),
          a.data.length,
          `npy case ${k}: shape and data agree`
        );
      }
    );
    classify(
      `272 case ${k}`,
      file,
      () => readMotion272(file),
      (x: Float64Array) => {
        assert.ok(x.length % 272 === 0 && allFinite(x), `272 case ${k}: a (T, 272) finite motion`);
      }
    );
  }
});

test('NPZ: malformed archives are read correctly or refused naming the file', () => {
  for (let k = 0; k < CASES; k++) {
    const file = join(dir, `case${k}.npz`);
    const members = {
      'a.npy': encodeNpy(motion()),
      'b.npy': k % 3 ? encodeNpy({ data: new Float32Array(3), shape: [3] }) : npyWithHeader(),
    };
    writeFileSync(
      file,
      k % 4 === 0 ? zipSync(members, { level: 6 }) : mutateBytes(zipSync(members, { level: k % 2 ? 0 : 6 }))
    );
    classify(
      `npz case ${k}`,
      file,
      () => readNpz(file),
      (r: Record<string, { data: ArrayLike<number>; shape: number[] }>) => {
        for (const a of Object.values(r))
          assert.is(
            a.shape.reduce((x, y) => x * y, 1),
            a.data.length,
            `npz case ${k}: shape and data agree`
          );
      }
    );
  }
});

const BVH = `HIERARCHY
ROOT hip
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT knee
  {
    OFFSET 0 -40 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -40 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 90 0 0 0 0 10 0 0
1 90 0 5 0 0 20 0 0
`;

test('BVH: mutated files parse to consistent finite motions or are refused naming the file', () => {
  const tokens = BVH.split(/(\s+)/);
  const hostile = [
    '-6',
    '5.5',
    'NaN',
    '1e12',
    '-5',
    '2.5',
    '0',
    '{',
    '}',
    'JOINT',
    'End',
    'CHANNELS',
    'Infinity',
    '',
    'Xrotation',
    '1e400',
  ];
  for (let k = 0; k < CASES * 2; k++) {
    const t = [...tokens];
    for (let m = 0; m < 1 + rng.int(3); m++) {
      const at = 2 * rng.int(Math.floor(t.length / 2));
      if (rng.next() < 0.6) t[at] = pick(hostile);
      else if (rng.next() < 0.5) t.splice(at, 2);
      else t.splice(at, 0, pick(hostile), ' ');
    }
    const file = `case${k}.bvh`;
    classify(
      `bvh case ${k}`,
      file,
      () => parseBvh(t.join(''), file),
      (b: ReturnType<typeof parseBvh>) => {
        assert.is(b.values.length, b.frames * b.channelCount, `bvh case ${k}: values = frames × channels`);
        assert.ok(
          allFinite(b.values) && b.frameTime > 0 && Number.isInteger(b.frames),
          `bvh case ${k}: finite values, positive frame time`
        );
        assert.is(
          b.joints.reduce((s, j) => s + j.channels.length, 0),
          b.channelCount
        );
      }
    );
  }
});

test('split files: hostile entries never index a file outside the dataset root', () => {
  const root = join(tempDir('tm-fuzz-root-'), 'data');
  writeSyntheticDataset(root, 3, 9);
  const entries = [
    'Synthetic/clip000',
    '../../etc/passwd',
    '/etc/passwd',
    '..',
    '.',
    '',
    '  ',
    'a/../../b',
    'Synthetic/clip001/..',
    'C:\\\\x',
    'x\0y',
    'Synthetic\\\\..\\\\..\\\\clip',
    '\u202e',
    'é'.repeat(300),
    '#comment',
  ];
  const file = join(root, 'split', 'version1', 'tokenizer_96', 'fuzz.txt');
  for (let k = 0; k < CASES; k++) {
    const listed = Array.from({ length: 1 + rng.int(6) }, () => pick(entries));
    writeFileSync(file, listed.join(pick(['\n', '\r\n'])));
    classify(
      `split case ${k}`,
      undefined,
      () => buildIndex(root, { split: 'fuzz', stage: 'tokenizer', minFrames: 1 }),
      (r: ReturnType<typeof buildIndex>) => {
        for (const n of r.index.names) assert.is(clipNameProblem(n), undefined, `split case ${k}: ${n} was indexed`);
        for (const n of listed.map((e) => e.trim()).filter((e) => clipNameProblem(e))) {
          assert.ok(
            r.report.corrupt.some((c) => c.name === n),
            `split case ${k}: ${JSON.stringify(n)} is not reported`
          );
        }
      }
    );
  }
});

test('configs and state.json: mutated text is a config or an error naming the file', () => {
  const yaml = 'preset: tiny\ntrain: { steps: 4, batch: 2, window: 32, lr: 1e-3 }\ndata: { root: data/demo }\n';
  const state = JSON.stringify({ kind: 'tokenizer', step: 4, model: resolveModel({ preset: 'tiny' }) });
  for (let k = 0; k < CASES; k++) {
    const cfg = join(dir, `case${k}.yaml`);
    writeFileSync(cfg, mutateBytes(new TextEncoder().encode(yaml)));
    classify(
      `config case ${k}`,
      cfg,
      () => loadConfig(tokenizerConfig, { file: cfg }),
      () => {}
    );
    const ck = tempDir('tm-fuzz-state-');
    writeFileSync(join(ck, 'state.json'), mutateBytes(new TextEncoder().encode(state)));
    classify(
      `state case ${k}`,
      join(ck, 'state.json'),
      () => readCheckpointState(ck),
      (s: { step: number }) => {
        assert.ok(Number.isInteger(s.step) && s.step >= 0);
      }
    );
  }
});

test('checkpoints: a damaged model.pt loads completely or not at all, with an error naming it', async () => {
  const model = new TokenizerModel(resolveModel({ preset: 'tiny' }), { seed: 1 });
  const good = join(dir, 'good.pt');
  await model.save(good);
  const bytes = readFileSync(good);
  const before = model.stateDict();
  for (let k = 0; k < Math.max(4, CASES / 4); k++) {
    const file = join(dir, `case${k}.pt`);
    writeFileSync(file, mutateBytes(bytes));
    try {
      await model.load(file);
      for (const t of Object.values(model.stateDict()))
        assert.ok(allFinite(t.data as Float32Array), `checkpoint case ${k}: finite weights after a load`);
      copyFileSync(good, file);
      await model.load(file); // back to the reference weights for the next case
    } catch (err) {
      assert.instance(err, Error);
      assert.ok((err as Error).message.includes(file), `checkpoint case ${k}: ${(err as Error).message}`);
      const now = model.stateDict();
      for (const [name, t] of Object.entries(before)) {
        assert.ok(
          (t.data as Float32Array).every((x, i) => Object.is(x, now[name].data[i])),
          `checkpoint case ${k}: ${name} unchanged by the failed load`
        );
      }
    }
  }
});

test('native calls with hostile options throw a JS Error with a message, and the addon keeps working', async () => {
  const values: unknown[] = [
    undefined,
    null,
    NaN,
    -1,
    0,
    1.5,
    1e300,
    -1e300,
    'x',
    '',
    true,
    [],
    {},
    [1, 2],
    2 ** 31,
    () => 1,
  ];
  const base = await tinyTokenizerOptions();
  const keys = Object.keys(base);
  const x = { data: new Float32Array(2 * 16 * 272).fill(0.1), shape: [2, 16, 272] };
  for (let k = 0; k < CASES; k++) {
    const options: Record<string, unknown> = { ...base, [pick(keys)]: pick(values) };
    const stepOptions: Record<string, unknown> = { ...tinyStepOptions };
    stepOptions[pick(Object.keys(stepOptions))] = pick(values);
    try {
      const m = new (native().Tokenizer)(options as never);
      const r = await m.step(x, stepOptions as never);
      assert.ok(
        r.nonFinite !== undefined || Number.isFinite(r.loss),
        `native case ${k}: a finite step or a named non-finite one`
      );
    } catch (err) {
      assert.instance(err, Error, `native case ${k}`);
      assert.ok(
        (err as Error).message.length > 0 && !/Exception raised from|frame #\d/.test((err as Error).message),
        `native case ${k}: ${(err as Error).message}`
      );
    }
  }
  const m = new (native().Tokenizer)(base);
  assert.ok(Number.isFinite((await m.step(x, tinyStepOptions)).loss));
});

test('every family produced both correct results and refusals', () => {
  console.log(
    `  fuzz (${CASES} cases a family): ` +
      `${[...tally].map(([f, c]) => `${f} ${c.ok} ok / ${c.refused} refused`).join(', ')}`
  );
  for (const [family, c] of tally) {
    // a split is reported, not refused
    if (family !== 'split') assert.ok(c.refused > 0, `${family}: no case was refused`);
    assert.ok(c.ok > 0, `${family}: no case was accepted`);
  }
});

test.run();
