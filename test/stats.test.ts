// Dataset statistics on a small dataset whose answers are known in closed form.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { writeNpy } from '../ts/data/npy.js';
import { datasetStats } from '../ts/data/stats.js';
import { writeClip } from '../ts/data/synthetic.js';
import { tempDir } from './helpers.js';

const root = tempDir('tm-stats-');
// Walkers: 2 clips of 90 frames (3 s) at 1.2 m/s, no turning, pelvis 0.9 m; one mirrored copy.
writeClip(root, {
  name: 'Walk/a',
  frames: 90,
  speed: 1.2,
  captions: ['a person walks forward', 'someone is walking slowly'],
});
writeClip(root, { name: 'Walk/Ma', frames: 90, speed: 1.2, captions: ['a person walks forward'] });
// Turners: 1 clip of 330 frames (11 s) at 0.5 m/s turning 30 °/s with the pelvis at 0.6 m, captions in HumanML3D
// format.
writeClip(root, {
  name: 'Turn/x',
  frames: 330,
  speed: 0.5,
  turnDegPerSec: 30,
  pelvisHeight: 0.6,
  captions: ['the man circles around#the/DET man/NOUN circle/VERB around/ADV#0.0#0.0'],
});
writeClip(root, { name: 'Turn/y', frames: 60, speed: 0.5, turnDegPerSec: 30, pelvisHeight: 0.6 });

const stats = datasetStats(root);

test('clip counts, hours and the length histogram per subset', () => {
  assert.equal(Object.keys(stats), ['Turn', 'Walk']);
  assert.is(stats.Walk.clips, 2);
  assert.ok(Math.abs(stats.Walk.hours - 180 / 30 / 3600) < 1e-12);
  assert.is(stats.Walk.lengthHistogram['2-4s'], 2);
  assert.is(stats.Turn.lengthHistogram['10-15s'], 1);
  assert.is(stats.Turn.lengthHistogram['2-4s'], 1);
});

test('captions per clip, vocabulary and motion types', () => {
  assert.equal(stats.Walk.captionsPerClip, { mean: 1.5, min: 1, max: 2, withoutCaptions: 0 });
  assert.is(stats.Walk.vocabulary, 8); // a person walks forward / someone is walking slowly: 8 distinct words
  assert.is(stats.Walk.motionTypes.counts.locomotion, 2);
  assert.equal([stats.Walk.motionTypes.fromCaptions, stats.Walk.motionTypes.fromMotion], [2, 0]);
  // Turn/x by its caption (circles → locomotion); Turn/y has none and travels at 0.5 m/s: locomotion by motion.
  assert.equal([stats.Turn.motionTypes.counts.locomotion, stats.Turn.motionTypes.fromMotion], [2, 1]);
  assert.is(stats.Turn.captionsPerClip.withoutCaptions, 1);
});

test('motion summary: root speed, pelvis height, turning rate, mirrored share', () => {
  assert.ok(Math.abs(stats.Walk.motion.rootSpeed - 1.2) < 1e-9);
  assert.ok(Math.abs(stats.Walk.motion.pelvisHeight - 0.9) < 1e-12);
  assert.ok(Math.abs(stats.Walk.motion.turningDegPerSec) < 1e-9);
  assert.is(stats.Walk.motion.mirroredShare, 0.5);
  assert.ok(Math.abs(stats.Turn.motion.turningDegPerSec - 30) < 1e-9);
  assert.ok(Math.abs(stats.Turn.motion.pelvisHeight - 0.6) < 1e-12);
  assert.is(stats.Turn.motion.mirroredShare, 0);
});

// The one bin holding all of a subset's clips, whose range contains their common value.
function onlyBin(h: { edges: number[]; counts: number[] }, clips: number, value: number): void {
  const full = h.counts.findIndex((c) => c > 0);
  assert.is(h.counts[full], clips, `all ${clips} clips in one bin: ${h.counts}`);
  const lo = full === 0 ? -Infinity : h.edges[full];
  const hi = full + 1 < h.edges.length ? h.edges[full + 1] : Infinity;
  assert.ok(value >= lo - 1e-9 && value <= hi + 1e-9, `${value} in [${lo}, ${hi})`);
}

test('distributions over clips: each clip in the bin of its own mean', () => {
  onlyBin(stats.Walk.distributions.rootSpeed, 2, 1.2);
  onlyBin(stats.Turn.distributions.rootSpeed, 2, 0.5);
  onlyBin(stats.Walk.distributions.pelvisHeight, 2, 0.9);
  onlyBin(stats.Turn.distributions.pelvisHeight, 2, 0.6);
  onlyBin(stats.Walk.distributions.turningDegPerSec, 2, 0);
  onlyBin(stats.Turn.distributions.turningDegPerSec, 2, 30);
  assert.equal(stats.Walk.motion.mirrored, 1);
  assert.is(stats.Turn.exampleCaptions.length, 1);
});

test('stats count only what the index accepts and go on past bad files, naming each', () => {
  const r = tempDir('tm-stats-bad-');
  writeClip(r, { name: 'Walk/good', frames: 90, speed: 1.2, captions: ['a person walks'] });
  const dir = join(r, 'motion_data', 'vector_272', 'Walk');
  writeNpy(join(dir, 'int32.npy'), { data: new Int32Array(60 * 272).fill(44), shape: [60, 272] });
  const nan = new Float64Array(60 * 272).fill(0.1);
  nan[30 * 272 + 9] = NaN;
  writeNpy(join(dir, 'nan.npy'), { data: nan, shape: [60, 272] });
  writeNpy(join(dir, 'narrow.npy'), { data: new Float64Array(60 * 271), shape: [60, 271] });
  writeNpy(join(dir, 'cut.npy'), { data: new Float64Array(60 * 272), shape: [60, 272] });
  writeFileSync(join(dir, 'cut.npy'), Buffer.alloc(200, 1).fill(0x93, 0, 1));
  const s = datasetStats(r).Walk;
  assert.is(s.clips, 1);
  assert.ok(
    Math.abs(s.motion.pelvisHeight - 0.9) < 1e-9,
    `pelvis ${s.motion.pelvisHeight} m: only the good clip counts`
  );
  assert.equal(s.rejected.examples.map((e) => e.name).sort(), ['Walk/cut', 'Walk/int32', 'Walk/nan', 'Walk/narrow']);
  const why = Object.fromEntries(s.rejected.examples.map((e) => [e.name, e.reason]));
  assert.is(why['Walk/int32'], 'dtype i4 is not float32 or float64');
  assert.is(why['Walk/narrow'], 'shape (60, 271) is not (T, 272)');
  assert.is(why['Walk/nan'], 'frame 30, channel 9 is NaN');
  assert.ok(why['Walk/cut'].length > 0);
});

test.run();
