// A tiny PFNN database for the hostile-input tests and the pfnn.json fuzz family: 4 clips (two with their mirrored
// twins) of 12 random rows in the layout `export pfnn` writes, normalised by mean 0 and std 1 — enough to train a few
// steps and export a runtime, in milliseconds instead of the demo data's export.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeNpz } from '../ts/data/npz.js';
import { X_DIM, Y_DIM } from '../ts/pfnn/database-layout.js';
import { Rng } from '../ts/rng.js';

export function tinyPfnnDatabase(out: string, o: { input?: number } = {}): void {
  const input = o.input ?? X_DIM;
  const clips = [
    ['A/walk', 'A/walk'],
    ['A/Mwalk', 'A/walk'],
    ['B/run', 'B/run'],
    ['B/Mrun', 'B/run'],
  ].map(([name, source]) => ({ name, source, rows: 12 }));
  const rows = 12 * clips.length;
  const rng = new Rng(5);
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  mkdirSync(out, { recursive: true });
  writeNpz(join(out, 'database.npz'), {
    Xun: { data: random(rows * input), shape: [rows, input] },
    Yun: { data: random(rows * Y_DIM), shape: [rows, Y_DIM] },
    Pun: { data: Float32Array.from({ length: rows }, (_, r) => (r % 12) / 12), shape: [rows] },
    Cun: { data: Int32Array.from({ length: rows }, (_, r) => Math.floor(r / 12)), shape: [rows] },
  });
  writeFileSync(join(out, 'clips.json'), JSON.stringify(clips));
  const stats = [
    ['Xmean', input, 0],
    ['Xstd', input, 1],
    ['Ymean', Y_DIM, 0],
    ['Ystd', Y_DIM, 1],
  ] as const;
  for (const [file, n, value] of stats) {
    writeFileSync(join(out, `${file}.bin`), new Uint8Array(new Float32Array(n).fill(value).buffer));
  }
}
