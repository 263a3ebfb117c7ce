// Synthetic datasets in the MotionMillion layout, for tests and the loader benchmark. A clip walks in a
// circle at a chosen speed, so its statistics (speed, height, turning rate) are known in closed form.
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { MotionStatistics } from '../motion/normalize.js';
import { DIM, FPS } from '../motion/repr272.js';
import { Rng } from '../rng.js';
import { encodeNpyHeader, writeNpy } from './npy.js';

export interface SyntheticClip {
  name: string;
  frames: number;
  speed?: number; // root speed in m/s
  turnDegPerSec?: number;
  pelvisHeight?: number;
  captions?: string[];
}

// One clip in the 272 layout: constant root displacement and heading increment; canonical pelvis at the given height.
export function syntheticMotion(c: SyntheticClip): Float64Array {
  const x = new Float64Array(c.frames * DIM);
  const step = (c.speed ?? 1) / FPS;
  const turn = (((c.turnDegPerSec ?? 0) / FPS) * Math.PI) / 180;
  for (let t = 0; t < c.frames; t++) {
    const o = t * DIM;
    if (t > 0) {
      x[o + 1] = step; // forward along +Z in the previous frame's heading
      x.set([Math.cos(turn), 0, Math.sin(turn), 0, 1, 0], o + 2);
    } else {
      x.set([1, 0, 0, 0, 1, 0], o + 2);
    }
    x[o + 9] = c.pelvisHeight ?? 0.9;
    for (let j = 0; j < 22; j++) x.set([1, 0, 0, 0, 1, 0], o + 140 + 6 * j);
  }
  return x;
}

export function writeClip(root: string, c: SyntheticClip): void {
  const file = join(root, 'motion_data', 'vector_272', `${c.name}.npy`);
  mkdirSync(dirname(file), { recursive: true });
  writeNpy(file, { data: syntheticMotion(c), shape: [c.frames, DIM] });
  if (c.captions) {
    const text = join(root, 'texts', `${c.name}.txt`);
    mkdirSync(dirname(text), { recursive: true });
    writeFileSync(text, c.captions.join('\n') + '\n');
  }
}

export function writeSplit(root: string, stageDir: string, split: string, names: readonly string[]): string {
  const file = join(root, 'split', 'version1', stageDir, `${split}.txt`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, names.join('\n') + '\n');
  return file;
}

// Many clips fast: a real .npy header followed by a sparse hole of zeros (valid float64 data that takes no disk).
// Used by the loader benchmark, where 200,000 dense clips would need ~80 GB.
export function writeSparseClips(root: string, count: number, seed: number, minFrames = 60, maxFrames = 300): string[] {
  const rng = new Rng(seed);
  const names: string[] = [];
  const perFolder = 1000;
  for (let i = 0; i < count; i++) {
    const name = `Synthetic/folder${Math.floor(i / perFolder)}/${String(i).padStart(6, '0')}`;
    const frames = minFrames + rng.int(maxFrames - minFrames + 1);
    const header = encodeNpyHeader('f8', [frames, DIM]);
    const file = join(root, 'motion_data', 'vector_272', `${name}.npy`);
    if (i % perFolder === 0) mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(file, 'w');
    writeSync(fd, header);
    ftruncateSync(fd, header.length + frames * DIM * 8);
    closeSync(fd);
    names.push(name);
  }
  return names;
}

// A small complete dataset for tests: n clips (varied lengths, a sine added to every channel so no channel is
// constant), train/val splits for both stages, mean/std from the training clips, one caption per clip.
export function writeSyntheticDataset(root: string, n: number, seed = 0): string[] {
  const rng = new Rng(seed);
  const names: string[] = [];
  const stats = new MotionStatistics();
  for (let i = 0; i < n; i++) {
    const frames = 100 + rng.int(60);
    const name = `Synthetic/clip${String(i).padStart(3, '0')}`;
    const x = syntheticMotion({ name, frames, speed: 0.5 + rng.next(), turnDegPerSec: rng.uniform(-20, 20) });
    const phase = rng.uniform(0, 6.28);
    for (let k = 0; k < x.length; k++) x[k] += 0.05 * Math.sin(phase + k * 0.013 + (k % DIM) * 0.7);
    const file = join(root, 'motion_data', 'vector_272', `${name}.npy`);
    mkdirSync(dirname(file), { recursive: true });
    writeNpy(file, { data: x, shape: [frames, DIM] });
    const text = join(root, 'texts', `${name}.txt`);
    mkdirSync(dirname(text), { recursive: true });
    writeFileSync(text, `a person ${i % 2 ? 'walks' : 'turns'} ${i % 3 ? 'slowly' : 'quickly'}\n`);
    if (i % 5 !== 4) stats.add(x);
    names.push(name);
  }
  const train = names.filter((_, i) => i % 5 !== 4);
  const val = names.filter((_, i) => i % 5 === 4);
  for (const dir of ['tokenizer_96', 't2m_60_300']) {
    writeSplit(root, dir, 'train', train);
    writeSplit(root, dir, 'val', val);
    writeSplit(root, dir, 'all', names);
  }
  const { mean, std } = stats.result();
  mkdirSync(join(root, 'mean_std', 'vector_272'), { recursive: true });
  writeNpy(join(root, 'mean_std', 'vector_272', 'mean.npy'), { data: mean, shape: [DIM] });
  writeNpy(join(root, 'mean_std', 'vector_272', 'std.npy'), { data: std, shape: [DIM] });
  return names;
}
