import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildIndex } from '../ts/data/dataset.js';
import { encodeNpy, writeNpy } from '../ts/data/npy.js';
import { writeClip, writeSplit } from '../ts/data/synthetic.js';
import { parseCaptions } from '../ts/data/texts.js';
import { errorOf, tempDir } from './helpers.js';

// 1,000 listed, 300 on disk, 2 of those corrupt: the partial-download case from the issue.
const root = tempDir('tm-partial-');
const names = Array.from(
  { length: 1000 },
  (_, i) => `${i % 2 ? 'HumanML3D' : 'MotionGV/folder0'}/${String(i).padStart(6, '0')}`
);
for (let i = 0; i < 300; i++)
  writeClip(root, { name: names[i], frames: 100 + (i % 50), captions: ['a person walks forward'] });
const truncatedFile = join(root, 'motion_data', 'vector_272', `${names[7]}.npy`);
writeFileSync(truncatedFile, readFileSync(truncatedFile).subarray(0, 500));
writeNpy(join(root, 'motion_data', 'vector_272', `${names[8]}.npy`), {
  data: new Float32Array(10 * 263),
  shape: [10, 263],
});
writeSplit(root, 'tokenizer_96', 'train', names);

test('a partial dataset indexes to the usable clips and reports every missing and corrupt one', () => {
  const { index, report } = buildIndex(root, { split: 'train', stage: 'tokenizer' });
  assert.is(report.listed, 1000);
  assert.is(index.names.length, 298);
  assert.is(report.usable, 298);
  assert.is(report.missing.count, 700);
  assert.equal(report.missing.examples.slice(0, 2), [names[300], names[301]]);
  const listed = readFileSync(report.missing.listFile!, 'utf8').trim().split('\n');
  assert.equal(listed, names.slice(300));
  assert.equal(
    report.corrupt.map((c) => c.name),
    [names[7], names[8]]
  );
  assert.match(report.corrupt[0].reason, /^truncated: shape \(\d+, 272\) of f8 needs \d+ bytes, the file has 500$/);
  assert.is(report.corrupt[1].reason, 'shape (10, 263) is not (T, 272)');
  assert.equal(report.perSubset['MotionGV'], { listed: 500, usable: 149, mirrored: 0, missing: 350, rejected: 1 });
  assert.equal(report.perSubset['HumanML3D'], { listed: 500, usable: 149, mirrored: 0, missing: 350, rejected: 1 });
});

test('--strict turns missing clips into an error that says how to proceed', async () => {
  assert.match(
    await errorOf(() => buildIndex(root, { split: 'train', strict: true })),
    new RegExp(
      String.raw`^700 of 1000 clips listed in .*train\.txt are missing under .*vector_272 \(first: ` +
        String.raw`MotionGV\/folder0\/000300, HumanML3D\/000301, MotionGV\/folder0\/000302\); drop --strict to ` +
        String.raw`skip them$`
    )
  );
});

test('stage length filters apply and are configurable; NaN is caught when values are scanned', () => {
  const r2 = tempDir('tm-filter-');
  writeClip(r2, { name: 'A/short', frames: 50 });
  writeClip(r2, { name: 'A/ok', frames: 150 });
  writeClip(r2, { name: 'A/long', frames: 700 });
  const nan = new Float64Array(130 * 272);
  nan[5] = NaN;
  writeNpy(join(r2, 'motion_data', 'vector_272', 'A', 'nan.npy'), { data: nan, shape: [130, 272] });
  writeSplit(r2, 'tokenizer_96', 'val', ['A/short', 'A/ok', 'A/long', 'A/nan']);
  const evalIdx = buildIndex(r2, { split: 'val', stage: 'tokenizer-eval', scanValues: true });
  assert.equal(evalIdx.index.names, ['A/ok']);
  assert.equal(evalIdx.report.corrupt, [{ name: 'A/nan', reason: 'contains NaN or Inf' }]);
  assert.equal(
    evalIdx.report.filtered.examples.map((f) => f.reason),
    ['50 frames, outside 120..600 for stage tokenizer-eval', '700 frames, outside 120..600 for stage tokenizer-eval']
  );
  const custom = buildIndex(r2, { split: 'val', stage: 'tokenizer-eval', minFrames: 40, maxFrames: 1000 });
  assert.equal(
    custom.index.names,
    ['A/short', 'A/ok', 'A/long', 'A/nan'],
    'without scanning, NaN is only found by reading values'
  );
});

test('t2m stage needs captions; HumanML3D text lines crop at 30 fps', () => {
  const r3 = tempDir('tm-t2m-');
  writeClip(r3, {
    name: 'H/with',
    frames: 120,
    captions: ['a man kicks#a/DET man/NOUN kick/VERB#0.0#0.0', 'he kicks high#he/PRON kick/VERB high/ADV#1.5#3.0'],
  });
  writeClip(r3, { name: 'H/without', frames: 120 });
  writeSplit(r3, 't2m_60_300', 'train', ['H/with', 'H/without']);
  const { index, report } = buildIndex(r3, { split: 'train', stage: 't2m' });
  assert.equal(index.names, ['H/with']);
  assert.equal(index.captions![0], [{ text: 'a man kicks' }, { text: 'he kicks high', start: 45, end: 90 }]);
  assert.equal(report.filtered.examples, [{ name: 'H/without', reason: 'no captions in texts/' }]);
  assert.equal(parseCaptions('plain caption one\n\nsecond # with hash\nx#y#nan#nan\n'), [
    { text: 'plain caption one' },
    { text: 'second # with hash' },
    { text: 'x' },
  ]);
});

test('the released folder name motion_272rpr is found as well', () => {
  const r4 = tempDir('tm-released-');
  const file = join(r4, 'motion_272rpr', 'S', 'a.npy');
  mkdirSync(join(r4, 'motion_272rpr', 'S'), { recursive: true });
  writeFileSync(file, encodeNpy({ data: new Float64Array(100 * 272), shape: [100, 272] }));
  writeSplit(r4, 'tokenizer_96', 'train', ['S/a']);
  assert.equal(buildIndex(r4, { split: 'train' }).index.names, ['S/a']);
});

test('split entries that leave the dataset root are reported and never read', () => {
  const r = tempDir('tm-escape-');
  const data = join(r, 'data');
  writeClip(data, { name: 'Inside/ok', frames: 120, captions: ['a person walks'] });
  // A real clip outside the root that '../../../outside/x' would reach from motion_data/vector_272.
  writeClip(join(r, 'elsewhere'), { name: 'x', frames: 120, captions: ['secret'] });
  const outside = join('..', '..', '..', 'elsewhere', 'motion_data', 'vector_272', 'x');
  writeSplit(data, 'tokenizer_96', 'train', ['Inside/ok', outside, '/etc/passwd', 'a\\..\\..\\b']);
  const { index, report } = buildIndex(data, { split: 'train', stage: 'tokenizer' });
  assert.equal(index.names, ['Inside/ok']);
  assert.equal(
    report.corrupt.map((c) => [c.name, c.reason]),
    [
      [outside, "the name climbs out of the dataset root with '..': not read"],
      ['/etc/passwd', 'the name is an absolute path, outside the dataset root: not read'],
      ['a\\..\\..\\b', "the name climbs out of the dataset root with '..': not read"],
    ]
  );
});

test.run();
