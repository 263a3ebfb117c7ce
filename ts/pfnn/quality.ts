// How well a trained PFNN reproduces held-out motion when it drives itself: each held-out clip's own trajectory,
// gait labels and first pose go in, and from then on the network reads its own previous pose and advances its own
// phase (the way the controller runs it, without the player). Compared with the clip: the joint error in the root's
// frame, foot skating (a foot's horizontal speed while its contact is on, for the network with its own contacts and
// for the data with its labels), and the phase drift after 10 s. The clips are driven side by side as one batch.
import { TorchmotionError } from '../errors.js';
import { FPS } from '../motion/repr272.js';
import { requireCheckpoint } from '../train/checkpoint.js';
import { readPfnnDatabase, type PfnnDatabase } from './database.js';
import { loadPfnn } from './model.js';

const J = 22;
const X_JOINTS = 108; // previous pose and velocities in X (ts/pfnn/database-layout.ts)
const Y_JOINTS = 32;
const Y_VEL = 98;
const FEET = [7, 10, 8, 11]; // joints of the contacts L heel, L toe, R heel, R toe

export interface ClipQuality {
  name: string;
  frames: number;
  mpjpeCm: number;
  skatingCmPerS: number;
  dataSkatingCmPerS: number;
  phaseDrift10s?: number;
}
export interface PfnnQuality {
  clips: ClipQuality[];
  mpjpeCm: number; // mean over every frame and joint of the held-out clips
  skatingCmPerS: number; // mean horizontal foot speed while the network's contact is on
  dataSkatingCmPerS: number; // the same on the data, with its contact labels
  phaseDrift10s?: number; // mean |φ_network − φ_data| (in cycles, wrapped) after 300 frames, over clips that long
  clipsOver10s: number;
  world: { data: Float64Array[]; pfnn: Float64Array[] }; // (frames, 22, 3) world joints per clip, for a render
}

const wrap = (d: number) => d - Math.round(d);

// Root-space joints of each row to world space, the root moved by the rows' root velocity and turn.
function toWorld(
  rootSpace: Float32Array,
  dims: number,
  offset: number,
  motion: Float32Array,
  frames: number
): Float64Array {
  const out = new Float64Array(frames * J * 3);
  let [x, z, yaw] = [0, 0, 0];
  for (let f = 0; f < frames; f++) {
    const [c, s] = [Math.cos(yaw), Math.sin(yaw)];
    for (let j = 0; j < J; j++) {
      const at = f * dims + offset + 3 * j;
      out.set(
        [
          x + c * rootSpace[at] + s * rootSpace[at + 2],
          rootSpace[at + 1],
          z - s * rootSpace[at] + c * rootSpace[at + 2],
        ],
        (f * J + j) * 3
      );
    }
    const [vx, vz] = [motion[f * 3], motion[f * 3 + 1]];
    x += c * vx + s * vz;
    z += -s * vx + c * vz;
    yaw += motion[f * 3 + 2];
  }
  return out;
}

export async function pfnnQuality(run: string, o: { database?: string; threads?: number } = {}): Promise<PfnnQuality> {
  const { model, state } = await loadPfnn(requireCheckpoint(run));
  const db: PfnnDatabase = readPfnnDatabase(o.database ?? state.dataRoot);
  if (db.input !== state.shape.input || db.output !== state.shape.output) {
    throw new TorchmotionError(
      `${db.dir} has ${db.input} → ${db.output} columns, but ${run} was trained on ` +
        `${state.shape.input} → ${state.shape.output}`
    );
  }
  const wanted = new Set(state.heldOutClips);
  const clips = db.clips.map((c, i) => ({ ...c, index: i })).filter((c) => wanted.has(c.name));
  if (clips.length === 0)
    throw new TorchmotionError(
      `${run} held out no clips of ${db.dir} (train.heldOut was 0, or another database): nothing to compare with`
    );
  const firstRow = new Int32Array(db.clips.length).fill(-1);
  for (let r = db.rows - 1; r >= 0; r--) firstRow[db.clipOf[r]] = r;
  const { Xmean, Xstd, Ymean, Ystd } = db.stats;
  const B = clips.length;
  const longest = Math.max(...clips.map((c) => c.rows));
  // Per clip: the network's outputs (denormalised) row by row, its phase, and the state it feeds back.
  const pred = clips.map((c) => new Float32Array(c.rows * db.output));
  const phase = Float32Array.from(clips, (c) => db.phase[firstRow[c.index]]);
  const phaseAt300 = new Float64Array(B).fill(NaN);
  const feedback = clips.map((c) =>
    db.x.slice(firstRow[c.index] * db.input + X_JOINTS, (firstRow[c.index] + 1) * db.input)
  );
  for (let f = 0; f < longest; f++) {
    const live = clips.map((c, b) => [c, b] as const).filter(([c]) => f < c.rows);
    const x = new Float32Array(live.length * db.input);
    live.forEach(([c, b], k) => {
      const r = firstRow[c.index] + f;
      x.set(db.x.subarray(r * db.input, r * db.input + X_JOINTS), k * db.input);
      x.set(feedback[b], k * db.input + X_JOINTS);
    });
    const y = (
      await model.forward(
        {
          x: { data: x, shape: [live.length, db.input] },
          phase: { data: Float32Array.from(live, ([, b]) => phase[b]), shape: [live.length] },
        },
        o.threads
      )
    ).data as Float32Array;
    live.forEach(([, b], k) => {
      const out = pred[b].subarray(f * db.output, (f + 1) * db.output);
      for (let i = 0; i < db.output; i++) out[i] = y[k * db.output + i] * Ystd[i] + Ymean[i];
      // Next input: this frame's pose and velocities, normalised as X's joint blocks.
      for (let i = 0; i < 132; i++) feedback[b][i] = (out[Y_JOINTS + i] - Xmean[X_JOINTS + i]) / Xstd[X_JOINTS + i];
      const d = out[3] > 0.5 ? out[3] - 1 : out[3];
      phase[b] = (((phase[b] + d) % 1) + 1) % 1;
      if (f + 1 === 10 * FPS && f + 1 < clips[b].rows) phaseAt300[b] = phase[b]; // the phase of row 300
    });
  }
  const result: ClipQuality[] = [];
  const world = { data: [] as Float64Array[], pfnn: [] as Float64Array[] };
  let [errSum, errN, skSum, skN, dSkSum, dSkN] = [0, 0, 0, 0, 0, 0];
  clips.forEach((c, b) => {
    const r0 = firstRow[c.index];
    const gt = new Float32Array(c.rows * db.output);
    for (let f = 0; f < c.rows; f++)
      for (let i = 0; i < db.output; i++) gt[f * db.output + i] = db.y[(r0 + f) * db.output + i] * Ystd[i] + Ymean[i];
    let [e, n, sk, skn, dsk, dskn] = [0, 0, 0, 0, 0, 0];
    const p = pred[b];
    for (let f = 0; f < c.rows; f++) {
      for (let j = 0; j < J; j++) {
        const at = f * db.output + Y_JOINTS + 3 * j;
        e += Math.hypot(p[at] - gt[at], p[at + 1] - gt[at + 1], p[at + 2] - gt[at + 2]);
        n++;
      }
      FEET.forEach((j, k) => {
        const at = f * db.output + Y_VEL + 3 * j;
        if (p[f * db.output + 4 + k] > 0.5) {
          sk += Math.hypot(p[at], p[at + 2]) * FPS;
          skn++;
        }
        if (gt[f * db.output + 4 + k] > 0.5) {
          dsk += Math.hypot(gt[at], gt[at + 2]) * FPS;
          dskn++;
        }
      });
    }
    errSum += e;
    errN += n;
    skSum += sk;
    skN += skn;
    dSkSum += dsk;
    dSkN += dskn;
    const drift = Number.isNaN(phaseAt300[b]) ? undefined : Math.abs(wrap(phaseAt300[b] - db.phase[r0 + 10 * FPS]));
    result.push({
      name: c.name,
      frames: c.rows,
      mpjpeCm: (100 * e) / n,
      skatingCmPerS: skn ? (100 * sk) / skn : 0,
      dataSkatingCmPerS: dskn ? (100 * dsk) / dskn : 0,
      ...(drift !== undefined && { phaseDrift10s: drift }),
    });
    const motion = (y: Float32Array) =>
      Float32Array.from({ length: c.rows * 3 }, (_, i) => y[Math.floor(i / 3) * db.output + (i % 3)]);
    world.data.push(toWorld(gt, db.output, Y_JOINTS, motion(gt), c.rows));
    world.pfnn.push(toWorld(p, db.output, Y_JOINTS, motion(p), c.rows));
  });
  const drifts = result.flatMap((r) => (r.phaseDrift10s === undefined ? [] : [r.phaseDrift10s]));
  return {
    clips: result,
    mpjpeCm: (100 * errSum) / errN,
    skatingCmPerS: skN ? (100 * skSum) / skN : 0,
    dataSkatingCmPerS: dSkN ? (100 * dSkSum) / dSkN : 0,
    ...(drifts.length > 0 && { phaseDrift10s: drifts.reduce((a, v) => a + v, 0) / drifts.length }),
    clipsOver10s: drifts.length,
    world,
  };
}
