// What each subset of a dataset holds: clip counts and hours, lengths, captions and their verbs, and how the
// motions move (root speed, pelvis height, turning rate, mirrored share). Reads each clip once, in chunks.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

import { DIM, FPS } from '../motion/repr272.js';
import { motionDir, subsetOf, textFile } from './layout.js';
import { inspectMotion, type Rejected } from './dataset.js';
import { NpyFile } from './npy.js';
import { parseCaptions } from './texts.js';

export const LENGTH_BINS_SEC = [2, 4, 6, 8, 10, 15, 20] as const; // upper edges; the last bin is open

export interface SubsetStats {
  clips: number;
  hours: number;
  lengthHistogram: Record<string, number>;
  captionsPerClip: { mean: number; min: number; max: number; withoutCaptions: number };
  vocabulary: number;
  topVerbs: Array<[string, number]>;
  motion: { rootSpeed: number; pelvisHeight: number; turningDegPerSec: number; mirroredShare: number };
  // Files `data index` would reject (wrong shape or dtype, truncated, NaN/Inf): counted nowhere above.
  rejected: { count: number; examples: Rejected[] };
}

export interface StatsOptions { topVerbs?: number; maxClipsPerSubset?: number }

const SUBJECTS = new Set(['person', 'man', 'woman', 'someone', 'he', 'she', 'human', 'figure', 'character', 'they', 'people', 'guy', 'lady', 'boy', 'girl', 'individual', 'it']);
const AUXILIARIES = new Set(['is', 'are', 'was', 'were', 'be', 'being', 'then', 'slowly', 'quickly', 'first', 'also', 'and']);

// The verb of a caption: a POS-tagged token (HumanML3D `word/VERB`) when present, else the word after the subject
// ("a person walks…", "someone is bowing…"), reduced to a stem by stripping -s/-es/-ing. A heuristic, documented as such.
export function captionVerb(text: string, tokens?: string): string | undefined {
  if (tokens) {
    const tagged = tokens.split(/\s+/).find((t) => t.endsWith('/VERB'));
    if (tagged) return tagged.slice(0, -5).toLowerCase();
  }
  const words = text.toLowerCase().replace(/[^a-z\s-]/g, ' ').split(/\s+/).filter(Boolean);
  const s = words.findIndex((w) => SUBJECTS.has(w));
  if (s < 0) return undefined;
  let w = words.slice(s + 1).find((x) => !AUXILIARIES.has(x) && !x.endsWith('ly'));
  if (!w) return undefined;
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (/(ches|shes|sses|xes|zes)$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && w.length > 3) w = w.slice(0, -1);
  return w;
}

function* walkMotions(dir: string, base = dir): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* walkMotions(join(dir, e.name), base);
    else if (e.name.endsWith('.npy')) yield relative(base, join(dir, e.name)).slice(0, -4).split(sep).join('/');
  }
}

interface Acc {
  clips: number; frames: number; hist: number[]; caps: number[]; noCaps: number; vocab: Set<string>;
  verbs: Map<string, number>; speed: number; height: number; turn: number; motionFrames: number; names: Set<string>; mirrored: number;
  rejected: Rejected[];
}

// One clip's motion sums, or the reason it cannot count (a NaN/Inf value, found while the values are read anyway).
function motionSummary(file: string): { height: number; speed: number; turn: number; motionFrames: number } | { reason: string } {
  const sums = { height: 0, speed: 0, turn: 0, motionFrames: 0 };
  const f = new NpyFile(file);
  try {
    for (let r = 0; r < f.rows; r += 2048) {
      const n = Math.min(2048, f.rows - r);
      const x = f.readRows(r, n).data as Float32Array | Float64Array;
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i])) return { reason: `frame ${r + Math.floor(i / DIM)}, channel ${i % DIM} is ${x[i]}` };
      }
      for (let t = 0; t < n; t++) {
        const o = t * DIM;
        sums.height += x[o + 9];
        if (r + t === 0) continue; // frame 0 has no displacement or heading increment
        sums.speed += Math.hypot(x[o], x[o + 1]) * FPS;
        sums.turn += Math.abs(Math.atan2(x[o + 4], x[o + 2])) * FPS * (180 / Math.PI);
        sums.motionFrames++;
      }
    }
    return sums;
  } catch (err) {
    return { reason: (err as Error).message.replace(`${file}: `, '') };
  } finally {
    f.close();
  }
}

// Without spreading into Math.min/max, which overflows the call stack past about 125,000 values.
export function minMax(values: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return values.length ? { min, max } : { min: 0, max: 0 };
}

export function datasetStats(root: string, options: StatsOptions = {}): Record<string, SubsetStats> {
  const dir = motionDir(root);
  const subsets = new Map<string, Acc>();
  for (const name of walkMotions(dir)) {
    const sub = subsetOf(name);
    let acc = subsets.get(sub);
    if (!acc) {
      acc = { clips: 0, frames: 0, hist: new Array(LENGTH_BINS_SEC.length + 1).fill(0), caps: [], noCaps: 0, vocab: new Set(),
        verbs: new Map(), speed: 0, height: 0, turn: 0, motionFrames: 0, names: new Set(), mirrored: 0, rejected: [] };
      subsets.set(sub, acc);
    }
    if (options.maxClipsPerSubset && acc.clips >= options.maxClipsPerSubset) continue;
    // The index's own checks (shape, dtype, truncation), then the values as they are summed.
    const file = join(dir, `${name}.npy`);
    const info = inspectMotion(file, false);
    const sums = 'reason' in info ? info : motionSummary(file);
    if ('reason' in sums) {
      acc.rejected.push({ name, reason: sums.reason });
      continue;
    }
    const T = (info as { frames: number }).frames;
    acc.clips++;
    acc.height += sums.height;
    acc.speed += sums.speed;
    acc.turn += sums.turn;
    acc.motionFrames += sums.motionFrames;
    acc.frames += T;
    acc.names.add(name);
    const sec = T / FPS;
    const bin = LENGTH_BINS_SEC.findIndex((edge) => sec < edge);
    acc.hist[bin < 0 ? LENGTH_BINS_SEC.length : bin]++;
    const tf = textFile(root, name);
    if (existsSync(tf)) {
      const lines = readFileSync(tf, 'utf8').split(/\r?\n/).filter((l) => l.trim());
      const caps = parseCaptions(lines.join('\n'));
      acc.caps.push(caps.length);
      caps.forEach((c, i) => {
        for (const w of c.text.toLowerCase().match(/[a-z]+/g) ?? []) acc!.vocab.add(w);
        const parts = lines[i]?.split('#');
        const verb = captionVerb(c.text, parts && parts.length >= 4 ? parts[1] : undefined);
        if (verb) acc!.verbs.set(verb, (acc!.verbs.get(verb) ?? 0) + 1);
      });
    } else {
      acc.noCaps++;
    }
  }
  const out: Record<string, SubsetStats> = {};
  for (const [sub, a] of [...subsets].sort(([x], [y]) => x.localeCompare(y))) {
    for (const n of a.names) {
      const slash = n.lastIndexOf('/') + 1;
      if (n[slash] === 'M' && a.names.has(n.slice(0, slash) + n.slice(slash + 1))) a.mirrored++;
    }
    const labels = LENGTH_BINS_SEC.map((e, i) => `${i === 0 ? 0 : LENGTH_BINS_SEC[i - 1]}-${e}s`).concat(`>=${LENGTH_BINS_SEC.at(-1)}s`);
    out[sub] = {
      clips: a.clips,
      hours: a.frames / FPS / 3600,
      lengthHistogram: Object.fromEntries(labels.map((l, i) => [l, a.hist[i]])),
      captionsPerClip: {
        mean: a.caps.length ? a.caps.reduce((s, c) => s + c, 0) / a.caps.length : 0,
        ...minMax(a.caps),
        withoutCaptions: a.noCaps,
      },
      vocabulary: a.vocab.size,
      topVerbs: [...a.verbs].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, options.topVerbs ?? 10),
      motion: {
        rootSpeed: a.motionFrames ? a.speed / a.motionFrames : 0,
        pelvisHeight: a.frames ? a.height / a.frames : 0,
        turningDegPerSec: a.motionFrames ? a.turn / a.motionFrames : 0,
        mirroredShare: a.clips ? a.mirrored / a.clips : 0,
      },
      rejected: { count: a.rejected.length, examples: a.rejected.slice(0, 10) },
    };
  }
  return out;
}

export function formatStats(stats: Record<string, SubsetStats>): string {
  const lines: string[] = [];
  for (const [sub, s] of Object.entries(stats)) {
    lines.push(`${sub}: ${s.clips} clips, ${s.hours.toFixed(2)} h`);
    lines.push(`  lengths     ${Object.entries(s.lengthHistogram).map(([k, v]) => `${k}:${v}`).join('  ')}`);
    lines.push(`  captions    ${s.captionsPerClip.mean.toFixed(2)} per clip (min ${s.captionsPerClip.min}, max ${s.captionsPerClip.max}), ` +
      `${s.captionsPerClip.withoutCaptions} clips without; vocabulary ${s.vocabulary} words`);
    lines.push(`  verbs       ${s.topVerbs.map(([v, n]) => `${v} (${n})`).join(', ') || '-'}`);
    lines.push(`  motion      root speed ${s.motion.rootSpeed.toFixed(2)} m/s, pelvis height ${s.motion.pelvisHeight.toFixed(2)} m, ` +
      `turning ${s.motion.turningDegPerSec.toFixed(1)} °/s, mirrored ${(s.motion.mirroredShare * 100).toFixed(0)} %`);
    if (s.rejected.count) {
      lines.push(`  rejected    ${s.rejected.count} file(s) not counted: ${s.rejected.examples.slice(0, 3).map((r) => `${r.name} (${r.reason})`).join('; ')}` +
        (s.rejected.count > 3 ? '; …' : ''));
    }
  }
  return lines.join('\n');
}
