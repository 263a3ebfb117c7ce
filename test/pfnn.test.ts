import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readBvh } from '../ts/convert/bvh.js';
import { bvhTo272 } from '../ts/convert/from-bvh.js';
import { readNpz } from '../ts/data/npz.js';
import { writeNpy } from '../ts/data/npy.js';
import { writeSplit } from '../ts/data/synthetic.js';
import { footContacts, gaitPhase } from '../ts/pfnn/contacts.js';
import { clipRows, X_DIM, Y_DIM } from '../ts/pfnn/database-layout.js';
import { buildPfnnDatabase } from '../ts/pfnn/database-build.js';
import { mirror272 } from '../ts/motion/repr272.js';
import { tempDir } from './helpers.js';

// A synthetic walk: 30-frame cycle, right foot lands at frames 5, 35, 65, …, left at 20, 50, 80, …; a foot stays
// planted for 12 frames after landing, then swings forward 10 cm above the floor.
const T = 150;
const RIGHT = [5, 35, 65, 95, 125];
const LEFT = [20, 50, 80, 110, 140];
function syntheticWalk(): Float64Array {
  const j = new Float64Array(T * 66);
  // Stance of each landing, including the one a cycle before the first (so both feet start in a gait).
  const planted = (t: number, lands: readonly number[]) => [lands[0] - 30, ...lands].some((f) => t >= f && t < f + 12);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < 22; k++) j.set([k % 2 ? 0.1 : -0.1, 0.9, t * 0.04], t * 66 + 3 * k); // body moving at 1.2 m/s
    for (const [lands, ankle, toe, x] of [
      [RIGHT, 8, 11, -0.1],
      [LEFT, 7, 10, 0.1],
    ] as const) {
      const down = planted(t, lands);
      const last = [...lands].reverse().find((f) => f <= t) ?? lands[0] - 30;
      const z = down ? last * 0.04 + 0.3 : t * 0.04 + 0.3;
      j.set([x, down ? 0.08 : 0.25, z], t * 66 + 3 * ankle);
      j.set([x, down ? 0.03 : 0.2, z + 0.15], t * 66 + 3 * toe);
    }
  }
  return j;
}

test('phase is 0 at right touch-downs and 0.5 at left ones (±1 frame) on a walk with known footfalls', () => {
  const { phase, cyclic, touchdowns } = gaitPhase(footContacts(syntheticWalk()));
  assert.ok(cyclic);
  const near = (frame: number, target: number) => {
    let best = Infinity;
    for (let d = -1; d <= 1; d++) {
      const p = phase[frame + d];
      best = Math.min(best, Math.abs(p - target), Math.abs(p - target - 1), Math.abs(p - target + 1));
    }
    return best;
  };
  for (const f of RIGHT) assert.ok(near(f, 0) < 0.02, `right touch-down at ${f}: phase ${phase[f]}`);
  for (const f of LEFT) assert.ok(near(f, 0.5) < 0.02, `left touch-down at ${f}: phase ${phase[f]}`);
  assert.equal(touchdowns.map((t) => t.foot).join(''), 'RLRLRLRLRL'.slice(0, touchdowns.length));
  // Half a cycle per 15 frames in between.
  assert.ok(Math.abs(phase[12] - 7 / 30) < 0.02);
});

const floats = (file: string) => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const bandai = join(import.meta.dirname, '..', 'data', 'bandai-namco-1', 'data');

test('rows have the SMPL-22 layout; a mirrored clip gets its own phase', () => {
  const walk = bvhTo272(readBvh(join(bandai, 'dataset-1_walk_normal_001.bvh')), 'walk').motion;
  const rows = clipRows(walk);
  const frames = walk.length / 272;
  assert.is(rows.rows, frames - 61);
  assert.is(rows.X.length, rows.rows * X_DIM);
  assert.is(rows.Y.length, rows.rows * Y_DIM);
  assert.equal([X_DIM, Y_DIM], [240, 296]);
  assert.ok(rows.cyclic, 'a real walk has a gait cycle');
  const mirrored = clipRows(mirror272(walk));
  // Right and left swap, so the phase moves by half a cycle.
  let off = 0;
  for (let r = 0; r < rows.rows; r++) {
    const e = (((mirrored.P[r] - rows.P[r] - 0.5) % 1) + 1) % 1;
    off = Math.max(off, Math.min(e, 1 - e));
  }
  assert.ok(off < 0.1, `mirrored phase differs from original + 0.5 by up to ${off}`);
  // Contacts swap too: original L heel (Y col 4) equals mirrored R heel (col 6).
  let same = 0;
  for (let r = 0; r < rows.rows; r++) same += rows.Y[r * Y_DIM + 4] === mirrored.Y[r * Y_DIM + 6] ? 1 : 0;
  assert.is(same, rows.rows);
});

test('export: a short clip is skipped by name, mirrored copies are made, the README states the shapes', () => {
  const root = tempDir('tm-pfnn-');
  const walk = bvhTo272(readBvh(join(bandai, 'dataset-1_walk_normal_001.bvh')), 'walk').motion;
  const dir = join(root, 'motion_data', 'vector_272', 'B');
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'walk.npy'), { data: walk, shape: [walk.length / 272, 272] });
  writeNpy(join(dir, 'short.npy'), { data: walk.slice(0, 40 * 272), shape: [40, 272] });
  writeSplit(root, 'tokenizer_96', 'train', ['B/walk', 'B/short']);
  const logs: string[] = [];
  const out = join(root, 'pfnn');
  const r = buildPfnnDatabase(root, 'train', out, undefined, (l) => logs.push(l));
  assert.ok(logs.includes('skipped B/short: 40 frames, shorter than the 62 a PFNN window needs'));
  assert.ok(logs.includes('skipped B/Mshort: 40 frames, shorter than the 62 a PFNN window needs'));
  assert.equal([r.clips, r.mirroredAdded], [2, 2]);
  const db = readNpz(join(out, 'database.npz'));
  const n = 2 * (walk.length / 272 - 61);
  assert.equal([db.Xun.shape, db.Yun.shape, db.Pun.shape], [[n, 240], [n, 296], [n]]);
  const readme = readFileSync(join(out, 'README.md'), 'utf8');
  assert.ok(
    readme.includes(`\`Xun\` (${n}, 240) float32 inputs, \`Yun\` (${n}, 296) float32 outputs, \`Pun\` (${n},)`)
  );
  for (const f of ['Xmean.bin', 'Xstd.bin']) assert.is(readFileSync(join(out, f)).length, 240 * 4);
  const ystd = floats(join(out, 'Ystd.bin'));
  assert.is(ystd.length, 296);
  assert.ok(
    ystd.every((s) => s > 0),
    'zero-std guard'
  );
  const xstd = floats(join(out, 'Xstd.bin'));
  assert.is(xstd[0], xstd[11], 'std averaged within a group');
});

test.run();
