import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildIndex } from '../ts/data/dataset.js';
import { buildDemoDataset, demoCaptions } from '../ts/data/demo.js';
import { meanStdFiles } from '../ts/data/layout.js';
import { readNpy } from '../ts/data/npy.js';
import { datasetStats } from '../ts/data/stats.js';
import { Rng } from '../ts/rng.js';
import { tempDir } from './helpers.js';

const bundled = join(import.meta.dirname, '..', 'data', 'bandai-namco-1', 'data');

test('the demo dataset from a few bundled clips is accepted by index and stats', () => {
  const src = tempDir('tm-demo-src-');
  const picks = [
    'dataset-1_walk_normal_001.bvh',
    'dataset-1_walk_angry_001.bvh',
    'dataset-1_walk_happy_001.bvh',
    'dataset-1_kick_normal_001.bvh',
    'dataset-1_bow_old_001.bvh',
  ];
  for (const f of picks) copyFileSync(join(bundled, f), join(src, f));
  const root = join(tempDir('tm-demo-'), 'demo');
  const r = buildDemoDataset(root, { source: src });
  assert.equal([r.clips, r.failed.length], [10, 0]);
  assert.equal(r.splits, { train: 6, val: 2, test: 2 }); // walk has 3 clips: one each to train, val and test
  const { report } = buildIndex(root, { split: 'train', stage: 't2m', maxFrames: 1000 });
  assert.is(report.missing.count, 0);
  assert.is(report.corrupt.length, 0);
  assert.is(report.usable, 6);
  const stats = datasetStats(root);
  assert.is(stats.BandaiNamco.clips, 10);
  assert.is(stats.BandaiNamco.motion.mirroredShare, 0.5);
  const caps = readFileSync(join(root, 'texts', 'BandaiNamco', 'kick', 'normal_001.txt'), 'utf8');
  const mirrored = readFileSync(join(root, 'texts', 'BandaiNamco', 'kick', 'Mnormal_001.txt'), 'utf8');
  assert.match(caps, /kicks with the (left|right) leg/);
  assert.is(
    mirrored,
    caps.replace(/\b(left|right)\b/g, (w) => (w === 'left' ? 'right' : 'left')),
    'mirrored captions swap sides'
  );
  const { mean, std } = meanStdFiles(root);
  assert.equal([readNpy(mean).shape, readNpy(std).shape], [[272], [272]]);
});

test('captions use several phrasings of content and style', () => {
  const caps = demoCaptions('walk', 'angry', new Rng(0));
  assert.is(new Set(caps).size, 3);
  for (const c of caps)
    assert.match(
      c,
      new RegExp(
        String.raw`^(a person|someone|a man|the person) (walks forward|walks straight ahead|takes a few steps ` +
          String.raw`forward) (in an angry manner|angrily|in a furious way)$`
      )
    );
  assert.match(demoCaptions('bow', 'old', new Rng(1)).join('|'), /like an (old man|elderly person)/);
});

test.run();
