// `torchmotion pfnn database`: a split of a 272 dataset → database.npz (Xun, Yun, Pun), Xmean/Xstd/Ymean/Ystd.bin
// (raw float32) and a README documenting every channel and the rules used.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { buildIndex } from '../data/dataset.js';
import { mirrorConvention, mirrorName, mirrorSource, motionFile } from '../data/layout.js';
import { readMotion272 } from '../data/motion-files.js';
import { writeNpz } from '../data/npz.js';
import { mirror272 } from '../motion/repr272.js';
import {
  clipRows,
  DEFAULT_PFNN,
  MIN_FRAMES,
  normalisation,
  X_DIM,
  X_GROUPS,
  Y_DIM,
  Y_GROUPS,
  type PfnnOptions,
} from './database-layout.js';
import { pfnnReadme } from './database-readme.js';

export interface PfnnReport {
  out: string;
  rows: number;
  clips: number;
  mirroredAdded: number;
  nonCyclic: string[];
  skipped: Array<{ name: string; reason: string }>;
}

// clips.json beside the database: each clip's rows in order (Cun holds the clip's number per row) and the clip whose
// mirror it is or that it mirrors (`source`), so a held-out split can take whole clips with their mirrored twins.
export interface PfnnClip {
  name: string;
  source: string;
  rows: number;
}

export function buildPfnnDatabase(
  root: string,
  split: string,
  out: string,
  options: PfnnOptions = DEFAULT_PFNN,
  log: (line: string) => void = () => {}
): PfnnReport {
  const { index } = buildIndex(root, { split, stage: 'tokenizer', minFrames: 0 });
  const names = new Set(index.names);
  const convention = mirrorConvention(names);
  const twinOf = (n: string) => mirrorSource(n, names) ?? mirrorName(n, convention);
  const parts: Array<{ X: Float32Array; Y: Float32Array; P: Float32Array }> = [];
  const clips: PfnnClip[] = [];
  const report: PfnnReport = { out, rows: 0, clips: 0, mirroredAdded: 0, nonCyclic: [], skipped: [] };
  const add = (name: string, source: string, motion: Float64Array) => {
    const T = motion.length / 272;
    if (T < MIN_FRAMES) {
      const reason = `${T} frames, shorter than the ${MIN_FRAMES} a PFNN window needs`;
      report.skipped.push({ name, reason });
      log(`skipped ${name}: ${reason}`);
      return;
    }
    const rows = clipRows(motion, options);
    if (!rows.cyclic) report.nonCyclic.push(name);
    parts.push(rows);
    clips.push({ name, source, rows: rows.rows });
    report.rows += rows.rows;
    report.clips++;
  };
  for (const name of index.names) {
    let motion: Float64Array;
    try {
      motion = readMotion272(motionFile(root, name, index.motionDir));
    } catch (err) {
      // A clip with NaN/Inf would poison every normalisation channel of the database: left out, and reported.
      const reason = (err as Error).message.replace(/^.*?\.npy: /, '');
      report.skipped.push({ name, reason });
      log(`skipped ${name}: ${reason}`);
      continue;
    }
    const source = mirrorSource(name, names) ?? name;
    add(name, source, motion);
    // Mirrored copies are part of the database; make one (phase recomputed from its own contacts) when the split lacks
    // it.
    if (!names.has(twinOf(name))) {
      add(twinOf(name), source, mirror272(motion));
      report.mirroredAdded++;
    }
  }
  const X = new Float32Array(report.rows * X_DIM);
  const Y = new Float32Array(report.rows * Y_DIM);
  const P = new Float32Array(report.rows);
  const C = new Int32Array(report.rows);
  let at = 0;
  parts.forEach((p, c) => {
    X.set(p.X, at * X_DIM);
    Y.set(p.Y, at * Y_DIM);
    P.set(p.P, at);
    C.fill(c, at, at + p.P.length);
    at += p.P.length;
  });
  mkdirSync(out, { recursive: true });
  writeNpz(join(out, 'database.npz'), {
    Xun: { data: X, shape: [report.rows, X_DIM] },
    Yun: { data: Y, shape: [report.rows, Y_DIM] },
    Pun: { data: P, shape: [report.rows] },
    Cun: { data: C, shape: [report.rows] },
  });
  writeFileSync(join(out, 'clips.json'), JSON.stringify(clips, null, 1));
  const xs = normalisation(X, X_DIM, X_GROUPS, [5, 6]);
  const ys = normalisation(Y, Y_DIM, Y_GROUPS);
  for (const [file, data] of [
    ['Xmean.bin', xs.mean],
    ['Xstd.bin', xs.std],
    ['Ymean.bin', ys.mean],
    ['Ystd.bin', ys.std],
  ] as const) {
    writeFileSync(join(out, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  writeFileSync(join(out, 'README.md'), pfnnReadme({ root, split, report, options }));
  return report;
}
