// The PFNN as TypeScript sees it: a thin validated wrapper over the native `Pfnn` class, and loading a trained one
// with the normalisation it was trained with (kept in the checkpoint, so a run stands on its own).
import { join } from 'node:path';

import { z } from 'zod';

import { printable, TorchmotionError, withCallerStack } from '../errors.js';
import { ModelBase, nativeSettings, threadOptions, type BuildOptions } from '../model-base.js';
import { native, type NativePfnn, type PfnnBatch, type PfnnShape } from '../native.js';
import { readCheckpointState, type CheckpointState } from '../train/checkpoint.js';
import { pfnnTraining, type PfnnConfig } from './config.js';
import { parseJson } from './json.js';

export interface PfnnCheckpointState extends CheckpointState {
  kind: 'pfnn';
  config: PfnnConfig;
  shape: PfnnShape;
  order: { epoch: number; position: number }; // the sampler's place in the training rows
  stats: { Xmean: number[]; Xstd: number[]; Ymean: number[]; Ystd: number[] };
  heldOutClips: string[];
  dataRoot: string;
}

const TRAINING_DEFAULTS = pfnnTraining.parse({});

export class PfnnModel extends ModelBase<NativePfnn> {
  // The original's Adam: no weight decay (the schema has none to give).
  constructor(
    readonly shape: PfnnShape,
    o: BuildOptions = {}
  ) {
    super(new (native().Pfnn)({ ...shape, ...nativeSettings(TRAINING_DEFAULTS, o) }));
  }

  step(b: PfnnBatch, o: { lr: number; seed: number; gamma?: number; threads?: number }) {
    return withCallerStack(() => this.net.step(b, { gamma: TRAINING_DEFAULTS.gamma, ...o }));
  }
  evaluate(b: PfnnBatch, threads?: number) {
    return withCallerStack(() => this.net.evaluate(b, threadOptions(threads)));
  }
  forward(b: Omit<PfnnBatch, 'y'>, threads?: number) {
    return withCallerStack(() => this.net.forward(b, threadOptions(threads)));
  }
}

export interface LoadedPfnn {
  model: PfnnModel;
  state: PfnnCheckpointState;
  dir: string;
}

// What quality and the runtime export read from a PFNN checkpoint's state.json, checked before any of it is used.
const width = z.number().int().min(1).max(65536);
const floats = z.array(z.number());
const pfnnState = z.object({
  shape: z.object({ input: width, output: width, hidden: width, keep: z.number().gt(0).max(1) }),
  stats: z.object({ Xmean: floats, Xstd: floats, Ymean: floats, Ystd: floats }),
  heldOutClips: z.array(z.string()),
  dataRoot: z.string(),
});

export async function loadPfnn(dir: string, device = 'cpu'): Promise<LoadedPfnn> {
  const state = readCheckpointState<PfnnCheckpointState>(dir);
  if (state.kind !== 'pfnn') {
    const kind = typeof state.kind === 'string' ? `a ${printable(state.kind)}` : 'a kind-less';
    throw new TorchmotionError(`${dir} is ${kind} checkpoint, not a PFNN: train one with \`torchmotion pfnn train\``);
  }
  const file = join(dir, 'state.json');
  const { shape, stats } = parseJson(file, pfnnState, state);
  for (const [k, v] of Object.entries(stats)) {
    const [key, n] = k.startsWith('X') ? ['input', shape.input] : ['output', shape.output];
    if (v.length !== n) {
      throw new TorchmotionError(`${file}: stats.${k} has ${v.length} values; expected ${n} (shape.${key})`);
    }
  }
  const model = new PfnnModel(state.shape, { device });
  await model.load(join(dir, 'model.pt'));
  return { model, state, dir };
}
