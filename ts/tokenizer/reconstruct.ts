// One motion through the tokenizer and back: the "reconstruction" a person puts next to the ground truth (and a
// generated motion) in `torchmotion render`. Works in the raw 272 space: normalise with the tokenizer's mean/std,
// encode, decode, de-normalise.
import { readDatasetMeanStd, readMotion272 } from '../data/motion-files.js';
import { writeNpy } from '../data/npy.js';
import { TorchmotionError } from '../errors.js';
import { denormalize, normalize, type MeanStd } from '../motion/normalize.js';
import { DIM } from '../motion/repr272.js';
import { loadTokenizer } from './model.js';

export interface Reconstruction {
  frames: number;
  codes: Int32Array;
  motion: Float64Array;
}

export async function reconstructMotion(
  ckpt: string,
  input: string,
  o: { out?: string; stats?: MeanStd; device?: string } = {}
): Promise<Reconstruction> {
  const { model, state } = await loadTokenizer(ckpt, o.device);
  const stats = o.stats ?? readDatasetMeanStd(state.dataRoot);
  const raw = readMotion272(input);
  // The tokenizer works on whole groups of `downsampling` frames: the tail that does not fill one is dropped.
  const frames = raw.length / DIM - ((raw.length / DIM) % model.downsampling);
  if (frames === 0)
    throw new TorchmotionError(
      `${input}: ${raw.length / DIM} frames, fewer than the tokenizer's ${model.downsampling}-frame step: ` +
        `give a motion of at least ${model.downsampling} frames`
    );
  const x = Float32Array.from(normalize(raw.slice(0, frames * DIM), stats));
  const { reconstruction, codes } = await model.reconstruct({ data: x, shape: [1, frames, DIM] });
  const motion = denormalize(Float64Array.from(reconstruction.data as Float32Array), stats);
  if (o.out) writeNpy(o.out, { data: Float32Array.from(motion), shape: [frames, DIM] });
  return { frames, codes: codes.data as Int32Array, motion };
}
