// What each subset of a dataset holds: clip counts and hours, lengths, captions, motion types, and how the motions
// move (root speed, pelvis height, turning rate, mirrored share, their distributions over clips). Reads each clip
// once, in chunks; everything kept per subset is a fixed-size count or sample, except the names (to pair mirrors).
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

import { FPS } from '../motion/repr272.js';
import { Rng } from '../rng.js';
import { clipFeatures } from './clip-features.js';
import { captionsFor, inspectMotion, type Rejected } from './dataset.js';
import { isMirrored, motionDir, subsetOf } from './layout.js';
import { captionWords, MOTION_TYPES, type MotionType, typeClip } from './motion-types.js';

export const LENGTH_BINS_SEC = [2, 4, 6, 8, 10, 15, 20] as const; // upper edges; the last bin is open

// Per-clip distributions as fixed bins (lower edges; the last bin is open), so memory does not grow with clips.
const edges = (n: number, first: number, step: number) =>
  Array.from({ length: n }, (_, i) => Number((first + i * step).toFixed(4)));
export const DISTRIBUTION_EDGES = {
  rootSpeed: edges(16, 0, 0.2), // m/s, 0 … 3+
  pelvisHeight: edges(14, 0.3, 0.05), // m, 0.3 … 0.95+ (below 0.3 in the first)
  turningDegPerSec: edges(13, 0, 10), // °/s, 0 … 120+
} as const;
export type Distribution = keyof typeof DISTRIBUTION_EDGES;

export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface SubsetStats {
  clips: number;
  hours: number;
  lengthHistogram: Record<string, number>;
  captionsPerClip: { mean: number; min: number; max: number; withoutCaptions: number };
  vocabulary: number;
  // Clips per motion type (ts/data/motion-types.ts), and how many were typed from captions vs from motion alone.
  motionTypes: { counts: Record<MotionType, number>; fromCaptions: number; fromMotion: number };
  motion: {
    rootSpeed: number;
    pelvisHeight: number;
    turningDegPerSec: number;
    mirroredShare: number;
    mirrored: number;
  };
  distributions: Record<Distribution, Histogram>;
  exampleCaptions: string[]; // a seeded sample, one caption per clip
  examples: Array<{ name: string; type: MotionType }>; // a seeded sample per type, for renders
  // Files `data index` would reject (wrong shape or dtype, truncated, NaN/Inf): counted nowhere above.
  rejected: { count: number; examples: Rejected[] };
}

export interface StatsOptions {
  maxClipsPerSubset?: number;
  exampleCaptions?: number;
  examplesPerType?: number;
  seed?: number;
}

function* walkMotions(dir: string, base = dir): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* walkMotions(join(dir, e.name), base);
    else if (e.name.endsWith('.npy')) yield relative(base, join(dir, e.name)).slice(0, -4).split(sep).join('/');
  }
}

// A uniform sample of k items from a stream, in bounded memory (reservoir sampling, seeded).
class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  constructor(
    private readonly k: number,
    private readonly rng: Rng
  ) {}
  add(item: T): void {
    this.seen++;
    if (this.items.length < this.k) this.items.push(item);
    else {
      const j = this.rng.int(this.seen);
      if (j < this.k) this.items[j] = item;
    }
  }
}

// Rounded to 1e-9 first: a mean of exactly 0.6 computed over frames lands a hair either side of the 0.6 edge.
function binOf(edges: readonly number[], value: number): number {
  const v = Math.round(value * 1e9) / 1e9;
  let b = 0;
  while (b + 1 < edges.length && v >= edges[b + 1]) b++;
  return b;
}

interface Acc {
  clips: number;
  frames: number;
  hist: number[];
  caps: { n: number; sum: number; min: number; max: number };
  noCaps: number;
  vocab: Set<string>;
  speed: number;
  height: number;
  turn: number;
  moving: number;
  names: Set<string>;
  mirrored: number;
  rejected: Rejected[];
  types: Map<MotionType, number>;
  fromCaptions: number;
  dist: Record<Distribution, number[]>;
  captions: Reservoir<string>;
  examples: Map<MotionType, Reservoir<string>>;
}

export function datasetStats(root: string, options: StatsOptions = {}): Record<string, SubsetStats> {
  const dir = motionDir(root);
  const rng = new Rng(options.seed ?? 0);
  const subsets = new Map<string, Acc>();
  for (const name of walkMotions(dir)) {
    const sub = subsetOf(name);
    let acc = subsets.get(sub);
    if (!acc) {
      acc = {
        clips: 0,
        frames: 0,
        hist: new Array(LENGTH_BINS_SEC.length + 1).fill(0),
        caps: { n: 0, sum: 0, min: Infinity, max: 0 },
        noCaps: 0,
        vocab: new Set(),
        speed: 0,
        height: 0,
        turn: 0,
        moving: 0,
        names: new Set(),
        mirrored: 0,
        rejected: [],
        types: new Map(),
        fromCaptions: 0,
        dist: {
          rootSpeed: new Array(DISTRIBUTION_EDGES.rootSpeed.length).fill(0),
          pelvisHeight: new Array(DISTRIBUTION_EDGES.pelvisHeight.length).fill(0),
          turningDegPerSec: new Array(DISTRIBUTION_EDGES.turningDegPerSec.length).fill(0),
        },
        captions: new Reservoir(options.exampleCaptions ?? 6, rng),
        examples: new Map(),
      };
      subsets.set(sub, acc);
    }
    if (options.maxClipsPerSubset && acc.clips >= options.maxClipsPerSubset) continue;
    // The index's own checks (shape, dtype, truncation), then the values as they are summed.
    const file = join(dir, `${name}.npy`);
    const info = inspectMotion(file, false);
    const f = 'reason' in info ? info : clipFeatures(file);
    if ('reason' in f) {
      acc.rejected.push({ name, reason: f.reason });
      continue;
    }
    const T = f.frames;
    acc.clips++;
    acc.frames += T;
    acc.height += f.pelvisHeight * T;
    acc.speed += f.rootSpeed * Math.max(0, T - 1);
    acc.turn += f.turningDegPerSec * Math.max(0, T - 1);
    acc.moving += Math.max(0, T - 1);
    acc.names.add(name);
    const bin = LENGTH_BINS_SEC.findIndex((edge) => T / FPS < edge);
    acc.hist[bin < 0 ? LENGTH_BINS_SEC.length : bin]++;
    for (const k of Object.keys(DISTRIBUTION_EDGES) as Distribution[])
      acc.dist[k][binOf(DISTRIBUTION_EDGES[k], f[k])]++;
    const caps = captionsFor(root, name) ?? [];
    if (caps.length) {
      acc.caps = {
        n: acc.caps.n + 1,
        sum: acc.caps.sum + caps.length,
        min: Math.min(acc.caps.min, caps.length),
        max: Math.max(acc.caps.max, caps.length),
      };
      for (const c of caps) for (const w of captionWords(c.text)) acc.vocab.add(w);
      acc.captions.add(caps[rng.int(caps.length)].text);
    } else {
      acc.noCaps++;
    }
    const typed = typeClip(
      caps.map((c) => c.text),
      f
    );
    acc.types.set(typed.type, (acc.types.get(typed.type) ?? 0) + 1);
    if (typed.source === 'captions') acc.fromCaptions++;
    let ex = acc.examples.get(typed.type);
    if (!ex) acc.examples.set(typed.type, (ex = new Reservoir(options.examplesPerType ?? 2, rng)));
    ex.add(name);
  }
  const out: Record<string, SubsetStats> = {};
  for (const [sub, a] of [...subsets].sort(([x], [y]) => x.localeCompare(y))) {
    for (const n of a.names) if (isMirrored(n, a.names)) a.mirrored++;
    const labels = LENGTH_BINS_SEC.map((e, i) => `${i === 0 ? 0 : LENGTH_BINS_SEC[i - 1]}-${e}s`).concat(
      `>=${LENGTH_BINS_SEC.at(-1)}s`
    );
    const counts = Object.fromEntries(MOTION_TYPES.map((t) => [t, a.types.get(t) ?? 0])) as Record<MotionType, number>;
    out[sub] = {
      clips: a.clips,
      hours: a.frames / FPS / 3600,
      lengthHistogram: Object.fromEntries(labels.map((l, i) => [l, a.hist[i]])),
      captionsPerClip: {
        mean: a.caps.n ? a.caps.sum / a.caps.n : 0,
        min: a.caps.n ? a.caps.min : 0,
        max: a.caps.max,
        withoutCaptions: a.noCaps,
      },
      vocabulary: a.vocab.size,
      motionTypes: { counts, fromCaptions: a.fromCaptions, fromMotion: a.clips - a.fromCaptions },
      motion: {
        rootSpeed: a.moving ? a.speed / a.moving : 0,
        pelvisHeight: a.frames ? a.height / a.frames : 0,
        turningDegPerSec: a.moving ? a.turn / a.moving : 0,
        mirroredShare: a.clips ? a.mirrored / a.clips : 0,
        mirrored: a.mirrored,
      },
      distributions: Object.fromEntries(
        (Object.keys(DISTRIBUTION_EDGES) as Distribution[]).map((k) => [
          k,
          { edges: [...DISTRIBUTION_EDGES[k]], counts: a.dist[k] },
        ])
      ) as Record<Distribution, Histogram>,
      exampleCaptions: a.captions.items,
      examples: MOTION_TYPES.flatMap((t) => (a.examples.get(t)?.items ?? []).map((name) => ({ name, type: t }))),
      rejected: { count: a.rejected.length, examples: a.rejected.slice(0, 10) },
    };
  }
  return out;
}

export function formatStats(stats: Record<string, SubsetStats>): string {
  const lines: string[] = [];
  for (const [sub, s] of Object.entries(stats)) {
    lines.push(`${sub}: ${s.clips} clips, ${s.hours.toFixed(2)} h`);
    lines.push(
      `  lengths     ${Object.entries(s.lengthHistogram)
        .map(([k, v]) => `${k}:${v}`)
        .join('  ')}`
    );
    lines.push(
      `  captions    ${s.captionsPerClip.mean.toFixed(2)} per clip (min ${s.captionsPerClip.min}, ` +
        `max ${s.captionsPerClip.max}), ` +
        `${s.captionsPerClip.withoutCaptions} clips without; vocabulary ${s.vocabulary} words`
    );
    const types = Object.entries(s.motionTypes.counts)
      .filter(([, n]) => n > 0)
      .sort((x, y) => y[1] - x[1]);
    lines.push(
      `  types       ${types.map(([t, n]) => `${t} ${n}`).join(', ') || '-'} (${s.motionTypes.fromCaptions} ` +
        `from captions, ` +
        `${s.motionTypes.fromMotion} from motion)`
    );
    lines.push(
      `  motion      root speed ${s.motion.rootSpeed.toFixed(2)} m/s, pelvis height ` +
        `${s.motion.pelvisHeight.toFixed(2)} m, ` +
        `turning ${s.motion.turningDegPerSec.toFixed(1)} °/s, mirrored ${(s.motion.mirroredShare * 100).toFixed(0)} %`
    );
    if (s.rejected.count) {
      lines.push(
        `  rejected    ${s.rejected.count} file(s) not counted: ${s.rejected.examples
          .slice(0, 3)
          .map((r) => `${r.name} (${r.reason})`)
          .join('; ')}` + (s.rejected.count > 3 ? '; …' : '')
      );
    }
  }
  return lines.join('\n');
}
