// The normalisation statistics of a dataset from its training clips, as MotionMillion computes them: the mean per
// channel and the std per channel averaged within each group of the 272 layout, written where the layout expects them.
import { join } from 'node:path';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { makeDirs } from '../files.js';
import { MotionStatistics } from '../motion/normalize.js';
import { DIM } from '../motion/repr272.js';
import { buildIndex } from './dataset.js';
import { motionFile } from './layout.js';
import { readNpy, writeNpy } from './npy.js';

export interface MeanStdReport {
  clips: number;
  frames: number;
  skipped: string[];
  mean: string;
  std: string;
}

export const meanStdSettings = z
  .object({
    split: z.string().default('train'), // the split whose clips the statistics come from
  })
  .strict();

export function computeMeanStd(root: string, o: { split?: string; out?: string } = {}): MeanStdReport {
  const { split } = meanStdSettings.parse({ split: o.split });
  const { index } = buildIndex(root, { split, stage: 'tokenizer', minFrames: 1 });
  const stats = new MotionStatistics();
  const skipped: string[] = [];
  for (const name of index.names) {
    const a = readNpy(motionFile(root, name, index.motionDir));
    // NaN/Inf: left out, as the reference does
    if (!stats.add(a.data as Float32Array | Float64Array)) skipped.push(name);
  }
  if (stats.frames === 0)
    throw new TorchmotionError(`${root}: split '${split}' has no clip with finite values to compute mean/std from`);
  const { mean, std } = stats.result();
  const out = o.out ?? join(root, 'mean_std', 'vector_272');
  makeDirs(out);
  writeNpy(join(out, 'mean.npy'), { data: mean, shape: [DIM] });
  writeNpy(join(out, 'std.npy'), { data: std, shape: [DIM] });
  return {
    clips: index.names.length - skipped.length,
    frames: stats.frames,
    skipped,
    mean: join(out, 'mean.npy'),
    std: join(out, 'std.npy'),
  };
}
