// (caption, motion) pairs of a dataset split for the retrieval evaluator: the clips of a t2m stage with their
// captions (a HumanML3D-style time range crops its clip). Training draws batches of distinct clips with a random
// caption and a random window of at most maxFrames; evaluation reads one clip at a time. Only the index (a few
// bytes a clip) stays in memory.
import { buildIndex, type DatasetIndex, type StageName } from '../data/dataset.js';
import { motionFile } from '../data/layout.js';
import { readMotion272 } from '../data/motion-files.js';
import type { Caption } from '../data/texts.js';
import { TorchmotionError } from '../errors.js';
import type { MeanStd } from '../motion/normalize.js';
import { DIM } from '../motion/repr272.js';
import type { Rng } from '../rng.js';
import { sampleWithoutReplacement } from './metrics.js';
import { normalizeFor } from './model.js';

export class PairSet {
  readonly index: DatasetIndex;

  constructor(root: string, split: string, stage: StageName = 't2m') {
    this.index = buildIndex(root, { split, stage }).index;
    if (this.index.names.length === 0) {
      throw new TorchmotionError(
        `split '${split}' of ${root} has no captioned clip within stage ${stage}'s lengths: ` +
          `see \`torchmotion data index ${root} --split ${split}\``
      );
    }
  }

  get clips(): number {
    return this.index.names.length;
  }
  captions(clip: number): Caption[] {
    return this.index.captions![clip];
  }
  allCaptions(): string[] {
    return this.index.captions!.flatMap((cs) => cs.map((c) => c.text));
  }

  // The clip's 272 values (denormalised, float64), cropped to a caption's time range when it has one.
  motion(clip: number, caption?: Caption): Float64Array {
    const m = readMotion272(motionFile(this.index.root, this.index.names[clip], this.index.motionDir));
    if (caption?.start === undefined) return m;
    const T = m.length / DIM;
    const start = Math.min(Math.max(0, caption.start), T - 1);
    const end = Math.max(start + 1, Math.min(T, caption.end ?? T));
    return m.subarray(start * DIM, end * DIM);
  }

  // A training batch: `size` distinct clips, one random caption each, a random window of at most maxFrames.
  batch(rng: Rng, size: number, maxFrames: number, stats: MeanStd) {
    if (size > this.clips)
      throw new TorchmotionError(`train.batch ${size} is larger than the ${this.clips} clips of the split: lower it`);
    const clips = sampleWithoutReplacement(rng, this.clips, size);
    const captions: string[] = [];
    const motions: Float32Array[] = [];
    for (const clip of clips) {
      const caps = this.captions(clip);
      const cap = caps[rng.int(caps.length)];
      const m = this.motion(clip, cap);
      const T = m.length / DIM;
      const start = T > maxFrames ? rng.int(T - maxFrames + 1) : 0;
      motions.push(normalizeFor(stats, m.subarray(start * DIM, (start + Math.min(T, maxFrames)) * DIM)));
      captions.push(cap.text);
    }
    return { clips, captions, motions, names: Array.from(clips, (c) => this.index.names[c]) };
  }
}
