// `torchmotion pfnn runtime`: a trained PFNN in the original runtime's format — the phase function pre-evaluated at 50
// phases (W0_000.bin … b2_049.bin, raw little-endian float32, W row-major (out, in), as the original demo reads them),
// the 4 control points for its cubic mode (cubic/W0_000.bin … b2_003.bin), the normalisation (Xmean/Xstd/Ymean/
// Ystd.bin) and pfnn.json describing the layout, sizes and channel groups.
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

import { z } from 'zod';

import { describe, TorchmotionError } from '../errors.js';
import { GAITS, NEXT_SAMPLES, SAMPLES, STEP, WINDOW, X_DIM, X_GROUPS, Y_DIM, Y_GROUPS } from './database-layout.js';
import { fileError } from '../files.js';
import { FPS } from '../motion/repr272.js';
import { JOINT_NAMES, PARENTS } from '../motion/skeleton.js';
import { requireCheckpoint } from '../train/checkpoint.js';
import { readFloats, readPfnnStats, type PfnnStats } from './database.js';
import { parseJson, readJson } from './json.js';
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
  skeleton: {
    joints: readonly string[];
    parents: readonly number[];
    up: string;
    facing: string;
    units: string;
    fps: number;
  };
  trainedBy: { run: string; step: number; heldOutClips: number };
}

const LAYERS = ['0', '1', '2'] as const;
const num = (i: number) => String(i).padStart(3, '0');

function writeFloats(file: string, data: Float32Array): void {
  try {
    writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (err) {
    throw fileError(err, 'writing', file);
  }
}

export async function writePfnnRuntime(run: string, out: string): Promise<PfnnRuntimeInfo> {
  const { model, state } = await loadPfnn(requireCheckpoint(run));
  const sd = model.stateDict();
  const { input, output, hidden } = state.shape;
  const dims: Array<[number, number]> = [
    [hidden, input],
    [hidden, hidden],
    [output, hidden],
  ];
  mkdirSync(join(out, 'cubic'), { recursive: true });
  for (let i = 0; i < RUNTIME_PHASES; i++) {
    LAYERS.forEach((l, k) => {
      const w = blendLayer(
        sd[`W${l}`].data as Float32Array,
        sd[`b${l}`].data as Float32Array,
        dims[k][0],
        dims[k][1],
        i / RUNTIME_PHASES
      );
      writeFloats(join(out, `W${l}_${num(i)}.bin`), w.W);
      writeFloats(join(out, `b${l}_${num(i)}.bin`), w.b);
    });
  }
  LAYERS.forEach((l, k) => {
    const [o, n] = dims[k];
    for (let c = 0; c < 4; c++) {
      writeFloats(
        join(out, 'cubic', `W${l}_${num(c)}.bin`),
        (sd[`W${l}`].data as Float32Array).slice(c * o * n, (c + 1) * o * n)
      );
      writeFloats(
        join(out, 'cubic', `b${l}_${num(c)}.bin`),
        (sd[`b${l}`].data as Float32Array).slice(c * o, (c + 1) * o)
      );
    }
  });
  for (const k of ['Xmean', 'Xstd', 'Ymean', 'Ystd'] as const)
    writeFloats(join(out, `${k}.bin`), Float32Array.from(state.stats[k]));
  const info: PfnnRuntimeInfo = {
    format: RUNTIME_FORMAT,
    input,
    output,
    hidden,
    phases: RUNTIME_PHASES,
    files: {
      constant: 'W{layer}_{index:03d}.bin and b{layer}_{index:03d}.bin: the weights at phase index / 50',
      cubic: 'cubic/W{layer}_{k:03d}.bin and cubic/b{layer}_{k:03d}.bin: control point k = 0 … 3',
      normalisation: 'Xmean.bin, Xstd.bin (input floats each), Ymean.bin, Ystd.bin (output floats each)',
    },
    layers: LAYERS.map((l, k) => ({ W: `W${l}`, b: `b${l}`, shape: dims[k], activation: k < 2 ? 'elu' : 'none' })),
    phaseFunction:
      'cyclic Catmull-Rom: p = 4φ, k1 = floor(p) mod 4, w = p − floor(p); weights = cubic(cp[k1−1], cp[k1], ' +
      'cp[k1+1], cp[k1+2], w) (indices mod 4)',
    normalisation:
      'x = (X − Xmean) / Xstd; the phase is a separate input, not a column of X; Y = y · Ystd + Ymean. ' +
      'Little-endian float32 throughout; W row-major (out, in).',
    X: X_GROUPS.map(([name, start, end]) => ({ name, start, end })),
    Y: Y_GROUPS.map(([name, start, end]) => ({ name, start, end })),
    trajectory: { window: WINDOW, step: STEP, samples: SAMPLES, nextSamples: NEXT_SAMPLES, gaits: GAITS },
    skeleton: {
      joints: JOINT_NAMES,
      parents: PARENTS,
      up: '+Y',
      facing: '+Z in root space',
      units: 'metres, per-frame velocities',
      fps: FPS,
    },
    trainedBy: { run, step: state.step, heldOutClips: state.heldOutClips.length },
  };
  writeFileSync(join(out, 'pfnn.json'), JSON.stringify(info, null, 2));
  return info;
}

// A runtime export read back: its description, normalisation and the 4 control points of each layer.
export interface PfnnRuntime {
  info: PfnnRuntimeInfo;
  stats: PfnnStats;
  controlPoints: Array<{ W: Float32Array; b: Float32Array }>; // per layer: (4, out, in) and (4, out)
}

// Names in pfnn.json become file names: plain names only, so none can lead out of the export folder.
const plainName = z.string().regex(/^[A-Za-z0-9_]+$/, { error: 'a plain name (letters, digits and _)' });
const width = z.number().int().min(1).max(65536);
const count = z.number().int().min(0);
const groups = z.array(z.object({ name: z.string(), start: count, end: count }));
const runtimeInfo = z.object({
  format: z.literal(RUNTIME_FORMAT),
  input: z.literal(X_DIM),
  output: z.literal(Y_DIM),
  hidden: width,
  phases: z.literal(RUNTIME_PHASES),
  files: z.record(z.string(), z.string()),
  layers: z
    .array(
      z.object({
        W: plainName,
        b: plainName,
        shape: z.tuple([width, width]),
        activation: z.enum(['elu', 'none']),
      })
    )
    .length(3),
  phaseFunction: z.string(),
  normalisation: z.string(),
  X: groups,
  Y: groups,
  trajectory: z.object({ window: count, step: count, samples: count, nextSamples: count, gaits: z.array(z.string()) }),
  skeleton: z.object({
    joints: z.array(z.string()),
    parents: z.array(z.number().int()),
    up: z.string(),
    facing: z.string(),
    units: z.string(),
    fps: z.number().positive(),
  }),
  trainedBy: z.object({ run: z.string(), step: count, heldOutClips: count }),
});

// What the schema cannot say: the layers chain input → hidden → hidden → output with the runtime's activations,
// each reads its own files, and the channel groups lie inside X and Y. Returns the field, its value and what was due.
function layoutProblem(info: z.output<typeof runtimeInfo>): [string, string, string] | undefined {
  const { input, output, hidden } = info;
  const dims = [
    [hidden, input],
    [hidden, hidden],
    [output, hidden],
  ];
  for (const [k, l] of info.layers.entries()) {
    const activation = k < 2 ? 'elu' : 'none';
    if (l.shape[0] !== dims[k][0] || l.shape[1] !== dims[k][1]) {
      return [
        `layers[${k}].shape`,
        `[${l.shape.join(', ')}]`,
        `[${dims[k].join(', ')}] (hidden ${hidden}, ` + `input ${input}, output ${output})`,
      ];
    }
    if (l.activation !== activation) return [`layers[${k}].activation`, describe(l.activation), `'${activation}'`];
  }
  const names = info.layers.flatMap((l) => [l.W, l.b]);
  const again = names.findIndex((n, i) => names.indexOf(n) !== i);
  if (again >= 0) {
    return [`layers[${again >> 1}].${again & 1 ? 'b' : 'W'}`, describe(names[again]), 'a name no other layer uses'];
  }
  for (const [key, size] of [
    ['X', input],
    ['Y', output],
  ] as const) {
    const bad = info[key].findIndex((g) => !(g.start < g.end && g.end <= size));
    const g = info[key][bad];
    if (g) return [`${key}[${bad}]`, `${g.start} … ${g.end}`, `a range inside 0 … ${size}`];
  }
  return undefined;
}

export function readPfnnRuntime(dir: string): PfnnRuntime {
  const file = join(dir, 'pfnn.json');
  if (!existsSync(file)) {
    throw new TorchmotionError(
      `${dir} is not a PFNN runtime export (it has no pfnn.json): make one with ` +
        `\`torchmotion pfnn runtime <run> -o ${dir}\``
    );
  }
  const info = parseJson(file, runtimeInfo, readJson(file));
  const problem = layoutProblem(info);
  if (problem) throw new TorchmotionError(`${file}: ${problem[0]} is ${problem[1]}; expected ${problem[2]}`);
  const inside = exportFiles(dir);
  const controlPoints = info.layers.map(({ W, b, shape: [o, n] }) => {
    const parts = [0, 1, 2, 3].map((c) => ({
      W: readFloats(inside('cubic', `${W}_${num(c)}.bin`), o * n),
      b: readFloats(inside('cubic', `${b}_${num(c)}.bin`), o),
    }));
    const w = new Float32Array(4 * o * n);
    const bias = new Float32Array(4 * o);
    parts.forEach((p, c) => {
      w.set(p.W, c * o * n);
      bias.set(p.b, c * o);
    });
    return { W: w, b: bias };
  });
  return { info, stats: readPfnnStats(dir, info.input, info.output, inside), controlPoints };
}

// Paths of an export's files, each resolved (links followed) and refused unless it stays inside the export folder.
function exportFiles(dir: string): (...parts: string[]) => string {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, 'reading', path);
      throw new TorchmotionError(`${path} is missing: export the network again`);
    }
  };
  const root = real(dir);
  return (...parts) => {
    const file = join(dir, ...parts);
    const rel = relative(root, real(file));
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new TorchmotionError(
        `${file} leads to ${real(file)}, outside the export folder ${dir}: export the ` + 'network again'
      );
    }
    return file;
  };
}

// One of the 50 pre-evaluated phases, read as the original runtime reads it.
export function readPhaseWeights(dir: string, info: PfnnRuntimeInfo, index: number): PhaseWeights {
  if (!(Number.isInteger(index) && index >= 0 && index < info.phases)) {
    throw new TorchmotionError(`phase index ${index} is not one of 0 … ${info.phases - 1}`);
  }
  const inside = exportFiles(dir);
  return info.layers.map(({ W, b, shape: [o, n] }) => ({
    W: readFloats(inside(`${W}_${num(index)}.bin`), o * n),
    b: readFloats(inside(`${b}_${num(index)}.bin`), o),
    out: o,
    in: n,
  })) as PhaseWeights;
}
