// `torchmotion pfnn export`: a trained PFNN in the original runtime's format — the phase function pre-evaluated at 50
// phases (W0_000.bin … b2_049.bin, raw little-endian float32, W row-major (out, in), as the original demo reads them),
// the 4 control points for its cubic mode (cubic/W0_000.bin … b2_003.bin), the normalisation (Xmean/Xstd/Ymean/
// Ystd.bin) and pfnn.json describing the layout, sizes and channel groups.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';
import { GAITS, NEXT_SAMPLES, SAMPLES, STEP, WINDOW, X_GROUPS, Y_GROUPS } from '../export/pfnn.js';
import { fileError } from '../files.js';
import { FPS } from '../motion/repr272.js';
import { JOINT_NAMES, PARENTS } from '../motion/skeleton.js';
import { requireCheckpoint } from '../train/checkpoint.js';
import { loadPfnn } from './model.js';
import { blendLayer, type PhaseWeights } from './runtime.js';

export const RUNTIME_PHASES = 50;
export const RUNTIME_FORMAT = 'torchmotion-pfnn-runtime-1';

// What pfnn.json holds (the page and the tests read it back).
export interface PfnnRuntimeInfo {
  format: string;
  input: number;
  output: number;
  hidden: number;
  phases: number;
  files: Record<string, string>;
  layers: Array<{ W: string; b: string; shape: [number, number]; activation: string }>;
  phaseFunction: string;
  normalisation: string;
  X: Array<{ name: string; start: number; end: number }>;
  Y: Array<{ name: string; start: number; end: number }>;
  trajectory: { window: number; step: number; samples: number; nextSamples: number; gaits: readonly string[] };
  skeleton: { joints: readonly string[]; parents: readonly number[]; up: string; facing: string; units: string; fps: number };
  trainedBy: { run: string; step: number; heldOutClips: number };
}

const LAYERS = ['0', '1', '2'] as const;

function writeFloats(file: string, data: Float32Array): void {
  try {
    writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (err) {
    throw fileError(err, 'writing', file);
  }
}

export async function exportPfnnRuntime(run: string, out: string): Promise<PfnnRuntimeInfo> {
  const { model, state } = await loadPfnn(requireCheckpoint(run));
  const sd = model.stateDict();
  const { input, output, hidden } = state.shape;
  const dims: Array<[number, number]> = [[hidden, input], [hidden, hidden], [output, hidden]];
  mkdirSync(join(out, 'cubic'), { recursive: true });
  const num = (i: number) => String(i).padStart(3, '0');
  for (let i = 0; i < RUNTIME_PHASES; i++) {
    LAYERS.forEach((l, k) => {
      const w = blendLayer(sd[`W${l}`].data as Float32Array, sd[`b${l}`].data as Float32Array, dims[k][0], dims[k][1], i / RUNTIME_PHASES);
      writeFloats(join(out, `W${l}_${num(i)}.bin`), w.W);
      writeFloats(join(out, `b${l}_${num(i)}.bin`), w.b);
    });
  }
  LAYERS.forEach((l, k) => {
    const [o, n] = dims[k];
    for (let c = 0; c < 4; c++) {
      writeFloats(join(out, 'cubic', `W${l}_${num(c)}.bin`), (sd[`W${l}`].data as Float32Array).slice(c * o * n, (c + 1) * o * n));
      writeFloats(join(out, 'cubic', `b${l}_${num(c)}.bin`), (sd[`b${l}`].data as Float32Array).slice(c * o, (c + 1) * o));
    }
  });
  for (const k of ['Xmean', 'Xstd', 'Ymean', 'Ystd'] as const) writeFloats(join(out, `${k}.bin`), Float32Array.from(state.stats[k]));
  const info: PfnnRuntimeInfo = {
    format: RUNTIME_FORMAT, input, output, hidden, phases: RUNTIME_PHASES,
    files: {
      constant: 'W{layer}_{index:03d}.bin and b{layer}_{index:03d}.bin: the weights at phase index / 50',
      cubic: 'cubic/W{layer}_{k:03d}.bin and cubic/b{layer}_{k:03d}.bin: control point k = 0 … 3',
      normalisation: 'Xmean.bin, Xstd.bin (input floats each), Ymean.bin, Ystd.bin (output floats each)',
    },
    layers: LAYERS.map((l, k) => ({ W: `W${l}`, b: `b${l}`, shape: dims[k], activation: k < 2 ? 'elu' : 'none' })),
    phaseFunction: 'cyclic Catmull-Rom: p = 4φ, k1 = floor(p) mod 4, w = p − floor(p); weights = cubic(cp[k1−1], cp[k1], cp[k1+1], cp[k1+2], w) (indices mod 4)',
    normalisation: 'x = (X − Xmean) / Xstd; the phase is a separate input, not a column of X; Y = y · Ystd + Ymean. Little-endian float32 throughout; W row-major (out, in).',
    X: X_GROUPS.map(([name, start, end]) => ({ name, start, end })),
    Y: Y_GROUPS.map(([name, start, end]) => ({ name, start, end })),
    trajectory: { window: WINDOW, step: STEP, samples: SAMPLES, nextSamples: NEXT_SAMPLES, gaits: GAITS },
    skeleton: { joints: JOINT_NAMES, parents: PARENTS, up: '+Y', facing: '+Z in root space', units: 'metres, per-frame velocities', fps: FPS },
    trainedBy: { run, step: state.step, heldOutClips: state.heldOutClips.length },
  };
  writeFileSync(join(out, 'pfnn.json'), JSON.stringify(info, null, 2));
  return info;
}

// A runtime export read back: its description, normalisation and the 4 control points of each layer.
export interface PfnnRuntime {
  info: PfnnRuntimeInfo;
  stats: { Xmean: Float32Array; Xstd: Float32Array; Ymean: Float32Array; Ystd: Float32Array };
  controlPoints: Array<{ W: Float32Array; b: Float32Array }>;   // per layer: (4, out, in) and (4, out)
}

function readFloats(file: string, length: number): Float32Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw fileError(err, 'reading', file);
  }
  if (bytes.length !== 4 * length) throw new TorchmotionError(`${file}: ${bytes.length} bytes, expected ${4 * length} (${length} float32): export it again`);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function readPfnnRuntime(dir: string): PfnnRuntime {
  let info: PfnnRuntimeInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, 'pfnn.json'), 'utf8')) as PfnnRuntimeInfo;
  } catch (err) {
    throw new TorchmotionError(`${dir} is not a PFNN runtime export (pfnn.json: ${(err as Error).message}): make one with \`torchmotion pfnn export <run> -o ${dir}\``);
  }
  if (info.format !== RUNTIME_FORMAT) throw new TorchmotionError(`${join(dir, 'pfnn.json')}: format '${info.format}', expected '${RUNTIME_FORMAT}'`);
  const num = (i: number) => String(i).padStart(3, '0');
  const controlPoints = info.layers.map(({ W, b, shape: [o, n] }) => {
    const w = new Float32Array(4 * o * n);
    const bias = new Float32Array(4 * o);
    for (let c = 0; c < 4; c++) {
      w.set(readFloats(join(dir, 'cubic', `${W}_${num(c)}.bin`), o * n), c * o * n);
      bias.set(readFloats(join(dir, 'cubic', `${b}_${num(c)}.bin`), o), c * o);
    }
    return { W: w, b: bias };
  });
  const stats = { Xmean: readFloats(join(dir, 'Xmean.bin'), info.input), Xstd: readFloats(join(dir, 'Xstd.bin'), info.input),
    Ymean: readFloats(join(dir, 'Ymean.bin'), info.output), Ystd: readFloats(join(dir, 'Ystd.bin'), info.output) };
  return { info, stats, controlPoints };
}

// One of the 50 pre-evaluated phases, read as the original runtime reads it.
export function readPhaseWeights(dir: string, info: PfnnRuntimeInfo, index: number): PhaseWeights {
  const num = String(index).padStart(3, '0');
  return info.layers.map(({ W, b, shape: [o, n] }) => ({
    W: readFloats(join(dir, `${W}_${num}.bin`), o * n), b: readFloats(join(dir, `${b}_${num}.bin`), o), out: o, in: n,
  })) as PhaseWeights;
}
