// Reading 272 motions and mean/std files with checks that name the file and what is wrong.
import { TorchmotionError } from '../errors.js';
import { meanStdFiles } from './layout.js';
import { denormalize, type MeanStd } from '../motion/normalize.js';
import { DIM } from '../motion/repr272.js';
import { readNpy } from './npy.js';

export function readMotion272(file: string): Float64Array {
  const a = readNpy(file);
  if (a.shape.length !== 2 || a.shape[1] !== DIM || (a.dtype !== 'f4' && a.dtype !== 'f8')) {
    throw new TorchmotionError(`${file}: expected a (T, ${DIM}) float array, found (${a.shape.join(', ')}) ${a.dtype}`);
  }
  const x = Float64Array.from(a.data as Float32Array | Float64Array);
  const bad = x.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new TorchmotionError(
      `${file}: frame ${Math.floor(bad / DIM)}, channel ${bad % DIM} is ${x[bad]}: ` +
        `a motion with NaN or Inf cannot be used`
    );
  }
  return x;
}

export function readMeanStd(meanFile: string, stdFile: string): MeanStd {
  const read = (f: string) => {
    const a = readNpy(f);
    if (a.data.length !== DIM || (a.dtype !== 'f4' && a.dtype !== 'f8')) {
      throw new TorchmotionError(`${f}: expected ${DIM} float values, found (${a.shape.join(', ')}) ${a.dtype}`);
    }
    const v = Float64Array.from(a.data as Float64Array);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new TorchmotionError(`${f}: channel ${bad} is ${v[bad]}: normalisation statistics must be finite`);
    return v;
  };
  const ms = { mean: read(meanFile), std: read(stdFile) };
  const zero = ms.std.findIndex((s) => !(s > 0));
  if (zero >= 0)
    throw new TorchmotionError(
      `${stdFile}: channel ${zero} is ${ms.std[zero]}: every std must be positive (it divides)`
    );
  return ms;
}

// The mean/std of a dataset root (wherever its layout keeps them, see meanStdFiles).
export function readDatasetMeanStd(root: string): MeanStd {
  if (root === '') {
    throw new TorchmotionError(
      'the tokenizer was imported without --data, so its normalisation is unknown: ' +
        're-import it with --data <dataset root> (the data it was trained on, for mean_std/), ' +
        'or pass --mean and --std where the command takes them'
    );
  }
  const f = meanStdFiles(root);
  return readMeanStd(f.mean, f.std);
}

// --mean/--std given together, or neither.
export function optionalMeanStd(o: { mean?: string; std?: string }): MeanStd | undefined {
  if (!!o.mean !== !!o.std) throw new TorchmotionError('--mean and --std go together: give both or neither');
  return o.mean && o.std ? readMeanStd(o.mean, o.std) : undefined;
}

// A 272 motion in raw units: de-normalised with --mean/--std when they are given, as read otherwise.
export function readRawMotion272(file: string, o: { mean?: string; std?: string }): Float64Array {
  const stats = optionalMeanStd(o);
  return stats ? denormalize(readMotion272(file), stats) : readMotion272(file);
}
