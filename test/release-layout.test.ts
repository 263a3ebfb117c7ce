// A download in the released layout (test/release-fixture.ts) prepares into a working dataset: mirrors in Mirror_
// folders are counted as mirrors, repeated subset folders are collapsed, Mean/Std become mean/std, a mirror
// without a text file takes its source's captions with the sides swapped; stats, report and training run on it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildIndex } from '../ts/data/dataset.js';
import { isMirrored, mirrorName, mirrorSource, subsetOf } from '../ts/data/layout.js';
import { readDatasetMeanStd } from '../ts/data/motion-files.js';
import { prepareDataset } from '../ts/data/prepare.js';
import { buildDatasetReport, explainClip, reportHtml } from '../ts/data/report.js';
import { datasetStats } from '../ts/data/stats.js';
import { trainTokenizer } from '../ts/tokenizer/train.js';
import { device, tempDir } from './helpers.js';
import { UNCAPTIONED_MIRROR, UNRELEASED, writeReleaseDownload } from './release-fixture.js';

const download = await writeReleaseDownload();
const root = join(tempDir('tm-release-root-'), 'mm');
const prepared = await prepareDataset(download.dir, root);

test('both mirror conventions: names, sources and subsets', () => {
  assert.is(subsetOf('Mirror_MotionGV/folder8/494361'), 'MotionGV');
  assert.is(mirrorSource('Mirror_MotionGV/folder8/494361'), 'MotionGV/folder8/494361');
  assert.is(mirrorSource('BABEL/new_joint_vecs_prefix/M043161'), 'BABEL/new_joint_vecs_prefix/043161');
  // An M that starts a name is a mirror only when its twin is there.
  assert.is(isMirrored('Bandai/walk/Male_01', new Set(['Bandai/walk/Male_01'])), false);
  assert.is(isMirrored('Bandai/walk/Male_01', new Set(['Bandai/walk/ale_01'])), true);
  assert.is(mirrorName('MotionGV/folder1/000001', 'folder'), 'Mirror_MotionGV/folder1/000001');
  assert.is(mirrorName('BABEL/x/043161', 'file'), 'BABEL/x/M043161');
});

test('data prepare: every archive unpacks into the reference layout, repeated folders collapsed', () => {
  assert.equal(prepared.failed, []);
  assert.is(prepared.extracted.length, 8);
  const motion = join(root, 'motion_data', 'vector_272');
  for (const id of [...download.ids, ...download.mirrors])
    assert.ok(existsSync(join(motion, `${id}.npy`)), `${id}.npy in place`);
  assert.not.ok(existsSync(join(motion, 'MotionLLAMA', 'fit3d', 'fit3d')), 'fit3d/fit3d collapsed');
  assert.ok(existsSync(join(root, 'texts', 'MotionLLAMA', 'fit3d', 'train', 's03_punch.txt')), 'texts collapsed too');
  // The mirror archive of PhantomDance names the unmirrored folder inside: its clips must not replace the originals.
  const original = readFileSync(join(motion, 'PhantomDanceDatav1.1', '0001.npy'));
  const mirrored = readFileSync(join(motion, 'Mirror_PhantomDanceDatav1.1', '0001.npy'));
  assert.ok(!original.equals(mirrored), 'original and mirror differ');
  assert.ok(
    existsSync(join(root, 'mean_std', 'vector_272', 'mean.npy')) &&
      existsSync(join(root, 'mean_std', 'vector_272', 'std.npy'))
  );
  assert.is(readDatasetMeanStd(root).mean.length, 272);
});

test('data index: mirrors counted as mirrors, the unreleased clip missing', () => {
  const { report } = buildIndex(root, { split: 'train', stage: 'tokenizer' });
  assert.equal(report.perSubset.MotionGV, { listed: 8, usable: 8, mirrored: 4, missing: 0, rejected: 0 });
  assert.equal(report.perSubset.MotionLLAMA, { listed: 4, usable: 4, mirrored: 2, missing: 0, rejected: 0 });
  assert.equal(report.perSubset['PhantomDanceDatav1.1'], {
    listed: 2,
    usable: 2,
    mirrored: 1,
    missing: 0,
    rejected: 0,
  });
  assert.equal(report.missing.examples, [UNRELEASED]);
});

test('text-to-motion index: a mirror without a text file takes its source captions, sides swapped', () => {
  const { index } = buildIndex(root, { split: 'train', stage: 't2m' });
  const at = index.names.indexOf(UNCAPTIONED_MIRROR);
  assert.ok(at >= 0, `${UNCAPTIONED_MIRROR} is usable: ${index.names.join(', ')}`);
  const source = index.captions![index.names.indexOf('MotionGV/folder1/000003')].map((c) => c.text);
  assert.ok(
    source.every((c) => /\bleft\b/.test(c)),
    `the source walks left: ${source}`
  );
  assert.equal(
    index.captions![at].map((c) => c.text),
    source.map((c) => c.replace(/\bleft\b/g, 'right'))
  );
});

test('data stats: types from captions, and from motion for PhantomDance, which has no texts', () => {
  const s = datasetStats(root);
  assert.equal(Object.keys(s), ['MotionGV', 'MotionLLAMA', 'PhantomDanceDatav1.1']);
  assert.equal([s.MotionGV.clips, s.MotionGV.motion.mirrored, s.MotionGV.motion.mirroredShare], [8, 4, 0.5]);
  assert.equal(s.MotionGV.motionTypes.counts.locomotion, 6);
  assert.equal(s.MotionGV.motionTypes.counts.gestures, 2);
  assert.equal(s.MotionLLAMA.motionTypes.counts['martial arts'], 4);
  assert.equal(s['PhantomDanceDatav1.1'].motionTypes, {
    counts: { ...zeroTypes(), dance: 2 },
    fromCaptions: 0,
    fromMotion: 2,
  });
  assert.match(
    explainClip(root, 'PhantomDanceDatav1.1/0001'),
    new RegExp(
      String.raw`^PhantomDanceDatav1\.1\/0001: dance \(from its motion: no captions\)\n[\s\S]*\n {2}rule: ` +
        String.raw`hands ≥ 0\.5 m\/s and feet ≥ 0\.4 m\/s`
    )
  );
});

test('data report: a section per subset, renders for each, the numbers embedded', async () => {
  const r = await buildDatasetReport(root, { renders: 2 });
  const html = reportHtml(r);
  for (const s of ['MotionGV', 'MotionLLAMA', 'PhantomDanceDatav1.1']) {
    assert.ok(html.includes(`data-subset="${s}"`), `section ${s}`);
    assert.is(r.renders[s].length, 2);
  }
  const embedded = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*)<\/script>/)![1]);
  assert.is(embedded.subsets.MotionGV.clips, 8);
  assert.is((html.match(/src="data:image\/png;base64,/g) ?? []).length, 3);
});

test('training runs on the prepared release', async () => {
  const r = await trainTokenizer(
    {
      preset: 'tiny',
      data: { root, split: 'train' },
      train: { steps: 3, batch: 4, window: 64, lr: 1e-3, warmup: 1, threads: 1, device },
    },
    { out: join(tempDir('tm-release-run-'), 'tok'), log: () => {} }
  );
  assert.is(r.steps, 3);
  assert.ok(Number.isFinite(r.last!.loss) && r.last!.loss > 0, `loss ${r.last!.loss}`);
});

// The eleven types, pinned here rather than read from ts/data/motion-types.ts, so that a change to the list fails.
function zeroTypes(): Record<string, number> {
  const types =
    'locomotion,dance,sports,martial arts,fitness,performance,gestures,' +
    'daily activities,non-human,transitions,other';
  return Object.fromEntries(types.split(',').map((t) => [t, 0]));
}

test.run();
