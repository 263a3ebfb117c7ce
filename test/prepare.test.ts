import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import * as tar from 'tar';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildIndex } from '../ts/data/dataset.js';
import { meanStdFiles } from '../ts/data/layout.js';
import { writeNpy } from '../ts/data/npy.js';
import { prepareDataset } from '../ts/data/prepare.js';
import { tempDir } from './helpers.js';

test('a partial download with one damaged archive unpacks into the reference layout and indexes', async () => {
  const stage = tempDir('tm-stage-');
  const dl = tempDir('tm-download-');
  const out = join(tempDir('tm-root-'), 'root');
  // What the release ships: split.tar.gz, texts.tar.gz, mean_std/, motion_272rpr/<subset>.tar.gz
  mkdirSync(join(stage, 'split', 'version1', 'tokenizer_96'), { recursive: true });
  writeFileSync(
    join(stage, 'split', 'version1', 'tokenizer_96', 'train.txt'),
    'HumanML3D/000001\nHumanML3D/000002\nIdea400/x\n'
  );
  mkdirSync(join(stage, 'texts', 'HumanML3D'), { recursive: true });
  writeFileSync(join(stage, 'texts', 'HumanML3D', '000001.txt'), 'a person waves\n');
  mkdirSync(join(stage, 'motion_272rpr', 'HumanML3D'), { recursive: true });
  for (const n of ['000001', '000002']) {
    writeNpy(join(stage, 'motion_272rpr', 'HumanML3D', `${n}.npy`), {
      data: new Float64Array(120 * 272),
      shape: [120, 272],
    });
  }
  mkdirSync(join(stage, 'motion_272rpr', 'Idea400'), { recursive: true });
  writeNpy(join(stage, 'motion_272rpr', 'Idea400', 'x.npy'), { data: new Float64Array(200 * 272), shape: [200, 272] });
  await tar.c({ gzip: true, file: join(dl, 'split.tar.gz'), cwd: stage }, ['split']);
  await tar.c({ gzip: true, file: join(dl, 'texts.tar.gz'), cwd: stage }, ['texts']);
  mkdirSync(join(dl, 'motion_272rpr'));
  await tar.c({ gzip: true, file: join(dl, 'motion_272rpr', 'HumanML3D.tar.gz'), cwd: stage }, [
    'motion_272rpr/HumanML3D',
  ]);
  await tar.c({ gzip: true, file: join(stage, 'Idea400.tar.gz'), cwd: stage }, ['motion_272rpr/Idea400']);
  const whole = readFileSync(join(stage, 'Idea400.tar.gz'));
  writeFileSync(join(dl, 'motion_272rpr', 'Idea400.tar.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
  mkdirSync(join(dl, 'mean_std'));
  writeNpy(join(dl, 'mean_std', 'mean.npy'), { data: new Float64Array(272), shape: [272] });
  writeNpy(join(dl, 'mean_std', 'std.npy'), { data: new Float64Array(272).fill(1), shape: [272] });

  const report = await prepareDataset(dl, out);
  assert.equal(report.extracted.map((e) => e.archive.slice(dl.length + 1)).sort(), [
    'motion_272rpr/HumanML3D.tar.gz',
    'split.tar.gz',
    'texts.tar.gz',
  ]);
  assert.equal(
    report.failed.map((f) => f.archive.slice(dl.length + 1)),
    ['motion_272rpr/Idea400.tar.gz']
  );
  assert.match(report.failed[0].reason, /unexpected end|TAR_BAD_ARCHIVE|zlib|truncated/i);
  assert.ok(meanStdFiles(out).mean.endsWith(join('mean_std', 'vector_272', 'mean.npy')));
  const { index, report: idx } = buildIndex(out, { split: 'train' });
  assert.equal(index.names, ['HumanML3D/000001', 'HumanML3D/000002']);
  assert.is(
    idx.missing.count + idx.corrupt.length,
    1,
    'the clip of the damaged archive is missing or corrupt, never used'
  );
});

test.run();
