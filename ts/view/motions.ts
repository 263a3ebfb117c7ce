// What `render` and `view` show: global joints of one or more motions, each with a caption. Input files are 272
// motions (de-normalised when mean/std are given) or joint files (T, 22, 3), told apart by their shape.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { readNpy } from '../data/npy.js';
import { TorchmotionError } from '../errors.js';
import { denormalize, type MeanStd } from '../motion/normalize.js';
import { DIM, recoverJoints } from '../motion/repr272.js';
import { JOINTS } from '../motion/skeleton.js';

export interface ViewMotion {
  caption: string;
  joints: Float64Array; // (frames, 22, 3), metres, Y up
  frames: number;
}

export interface LoadOptions {
  stats?: MeanStd; // de-normalise 272 inputs
  captions?: string[]; // one per file, in order; missing ones come from prompts.json or the file name
}

// generate writes prompts.json next to its outputs: use its prompt as the caption of a generated file.
function captionFromPrompts(file: string): string | undefined {
  const prompts = join(dirname(file), 'prompts.json');
  if (!existsSync(prompts)) return undefined;
  try {
    const list = JSON.parse(readFileSync(prompts, 'utf8')) as Array<{ text: string; files?: string[] }>;
    return list.find((p) => p.files?.some((f) => basename(f) === basename(file)))?.text;
  } catch {
    return undefined;
  }
}

export function loadViewMotion(file: string, o: LoadOptions = {}, caption?: string): ViewMotion {
  if (!existsSync(file))
    throw new TorchmotionError(`${file}: no such file (expected a 272 motion or a (T, 22, 3) joints .npy)`);
  const a = readNpy(file);
  if (a.dtype !== 'f4' && a.dtype !== 'f8')
    throw new TorchmotionError(`${file}: expected float data, found ${a.dtype}`);
  const data = Float64Array.from(a.data as Float32Array | Float64Array);
  let joints: Float64Array;
  if (a.shape.length === 2 && a.shape[1] === DIM) {
    joints = recoverJoints(o.stats ? denormalize(data, o.stats) : data);
  } else if (a.shape.length === 3 && a.shape[1] === JOINTS && a.shape[2] === 3) {
    if (o.stats)
      throw new TorchmotionError(
        `${file}: --mean/--std apply to 272 motions, but this is a joints file (${a.shape.join(', ')}); drop them`
      );
    joints = data;
  } else {
    throw new TorchmotionError(
      `${file}: expected a (T, ${DIM}) motion or (T, ${JOINTS}, 3) joints, found (${a.shape.join(', ')})`
    );
  }
  const frames = joints.length / (JOINTS * 3);
  if (frames < 1) throw new TorchmotionError(`${file}: the motion has no frames`);
  if (!joints.every(Number.isFinite)) throw new TorchmotionError(`${file}: contains NaN or Inf values`);
  return { caption: caption ?? captionFromPrompts(file) ?? basename(file, '.npy'), joints, frames };
}

export function loadViewMotions(files: string[], o: LoadOptions = {}): ViewMotion[] {
  if (files.length === 0) throw new TorchmotionError('give at least one motion file');
  if (o.captions && o.captions.length > files.length) {
    throw new TorchmotionError(
      `${o.captions.length} captions for ${files.length} file(s): give at most one --caption per file`
    );
  }
  return files.map((f, i) => loadViewMotion(f, o, o.captions?.[i]));
}
