// The bundled demo dataset: Bandai Namco mocap (all 174 clips of dataset-1, ts/data/bundled.ts) converted into the
// MotionMillion layout, with mirrored copies, captions built from the content and style labels in several phrasings,
// train/val/test splits, and mean/std from the training split.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { z } from 'zod';

import { readBvh } from '../convert/bvh.js';
import { bvhTo272 } from '../convert/from-bvh.js';
import { TorchmotionError } from '../errors.js';
import { MotionStatistics } from '../motion/normalize.js';
import { DIM, FPS, mirror272, recoverJoints } from '../motion/repr272.js';
import { Rng } from '../rng.js';
import { bundledBandai } from './bundled.js';
import { STAGE_SPLIT_DIRS } from './layout.js';
import { writeNpy } from './npy.js';

const SUBJECTS = ['a person', 'someone', 'a man', 'the person'];
const CONTENT: Record<string, string[]> = {
  walk: ['walks forward', 'walks straight ahead', 'takes a few steps forward'],
  run: ['runs forward', 'jogs forward', 'runs straight ahead'],
  dash: ['dashes forward', 'sprints ahead', 'dashes straight ahead'],
  'walk-back': ['walks backward', 'steps backwards', 'walks backwards slowly'],
  'walk-left': ['walks to the left', 'walks sideways to the left', 'steps to the left'],
  'walk-right': ['walks to the right', 'walks sideways to the right', 'steps to the right'],
  bow: ['bows', 'bows politely', 'makes a bow'],
  bye: ['waves goodbye', 'waves a hand to say bye', 'says bye with a wave'],
  byebye: ['waves goodbye with both hands', 'waves both arms to say goodbye', 'waves farewell'],
  guide: ['gestures to guide someone', 'shows someone the way', 'points the way with a hand'],
  respond: ['responds with a gesture', 'answers with a nod', 'reacts to someone'],
  call: ['calls someone over', 'beckons someone to come', 'waves someone over'],
  punch: ['punches', 'throws a punch', 'punches forward'],
  kick: ['kicks with the {leg} leg', 'kicks forward with the {leg} leg', 'does a kick with the {leg} foot'],
  slash: ['slashes with a sword', 'swings an imaginary sword', 'slashes forward'],
  'dance-short': ['dances', 'performs a short dance', 'dances energetically'],
  'dance-long': ['dances', 'performs a long dance', 'dances around'],
};
const STYLE: Record<string, string[]> = {
  normal: ['', 'normally', 'in a neutral way'],
  angry: ['in an angry manner', 'angrily', 'in a furious way'],
  happy: ['happily', 'in a cheerful way', 'with joy'],
  sad: ['sadly', 'in a sad manner', 'with a sad look'],
  proud: ['proudly', 'in a proud manner', 'with pride'],
  'not-confident': ['without confidence', 'timidly', 'hesitantly'],
  masculinity: ['in a masculine way', 'in a manly way', 'like a tough man'],
  feminine: ['in a feminine way', 'gracefully', 'in a ladylike way'],
  childish: ['like a child', 'in a childish way', 'playfully like a kid'],
  old: ['like an old man', 'like an elderly person', 'slowly like an old man'],
  tired: ['tiredly', 'as if exhausted', 'wearily'],
  active: ['energetically', 'actively', 'with lots of energy'],
  musical: ['like in a musical', 'theatrically', 'like a stage performer'],
  giant: ['like a giant', 'heavily like a giant', 'with big heavy movements'],
  chimpira: ['like a thug', 'in a swaggering thug style', 'like a street punk'],
};

export interface DemoClip {
  name: string;
  content: string;
  style: string;
  frames: number;
  captions: string[];
}

export interface DemoReport {
  root: string;
  source: string;
  clips: number; // written, mirrored copies included
  failed: Array<{ file: string; reason: string }>;
  splits: Record<'train' | 'val' | 'test', number>;
  hours: number;
}

export function defaultDemoSource(): string {
  return bundledBandai();
}

const swapSides = (s: string) => s.replace(/\b(left|right)\b/g, (w) => (w === 'left' ? 'right' : 'left'));

// Three captions per clip, each a different subject / verb phrase / style phrase, chosen by a seeded generator.
export function demoCaptions(content: string, style: string, rng: Rng, leg?: 'left' | 'right'): string[] {
  const verbs = CONTENT[content] ?? [`does a ${content.replace(/-/g, ' ')} motion`];
  const styles = STYLE[style] ?? [`in a ${style.replace(/-/g, ' ')} style`];
  const offset = rng.int(3);
  return [0, 1, 2].map((k) => {
    const verb = verbs[(k + offset) % verbs.length].replace('{leg}', leg ?? 'right');
    const styled = styles[(k + 2 * offset) % styles.length];
    return `${SUBJECTS[(k + offset) % SUBJECTS.length]} ${verb}${styled ? ` ${styled}` : ''}`;
  });
}

// The kicking leg is the one whose ankle rises highest.
function kickingLeg(motion: Float64Array): 'left' | 'right' {
  const j = recoverJoints(motion);
  let [l, r] = [-Infinity, -Infinity];
  for (let t = 0; t < j.length / 66; t++) {
    l = Math.max(l, j[t * 66 + 7 * 3 + 1]);
    r = Math.max(r, j[t * 66 + 8 * 3 + 1]);
  }
  return l > r ? 'left' : 'right';
}

export const demoSettings = z
  .object({
    seed: z.number().int().nonnegative().default(0), // seed of the caption phrasings
  })
  .strict();

export function buildDemoDataset(
  root: string,
  options: { source?: string; seed?: number; onClip?: (file: string) => void } = {}
): DemoReport {
  const source = options.source ?? defaultDemoSource();
  if (!existsSync(source))
    throw new TorchmotionError(
      `demo source ${source} does not exist: pass --source <folder of Bandai Namco .bvh files>`
    );
  const files = readdirSync(source)
    .filter((f) => /^dataset-\d+_.+_.+_\d+\.bvh$/.test(f))
    .sort();
  if (files.length === 0)
    throw new TorchmotionError(`${source} holds no Bandai Namco clips (dataset-1_<content>_<style>_<id>.bvh)`);
  const rng = new Rng(demoSettings.parse({ seed: options.seed }).seed);
  const motionRoot = join(root, 'motion_data', 'vector_272');
  const byContent = new Map<string, Array<{ base: string; mirror: string }>>();
  const failed: DemoReport['failed'] = [];
  let frames = 0;
  const trainStats = new MotionStatistics();
  const motions = new Map<string, Float64Array>();
  for (const file of files) {
    options.onClip?.(file);
    const [, content, style, id] = file.replace(/\.bvh$/, '').split('_');
    try {
      const motion = bvhTo272(readBvh(join(source, file)), file).motion;
      const leg = content === 'kick' ? kickingLeg(motion) : undefined;
      const base = `BandaiNamco/${content}/${style}_${id}`;
      const mirror = `BandaiNamco/${content}/M${style}_${id}`;
      const caps = demoCaptions(content, style, rng, leg);
      for (const [name, m, text] of [
        [base, motion, caps],
        [mirror, mirror272(motion), caps.map(swapSides)],
      ] as const) {
        const f = join(motionRoot, `${name}.npy`);
        mkdirSync(dirname(f), { recursive: true });
        writeNpy(f, { data: m, shape: [m.length / DIM, DIM] });
        const t = join(root, 'texts', `${name}.txt`);
        mkdirSync(dirname(t), { recursive: true });
        writeFileSync(t, text.join('\n') + '\n');
        motions.set(name, m);
        frames += m.length / DIM;
      }
      if (!byContent.has(content)) byContent.set(content, []);
      byContent.get(content)!.push({ base, mirror });
    } catch (err) {
      failed.push({ file, reason: (err as Error).message });
    }
  }
  // Per content: every 10th clip to val and every 5th to test (never the only clip of a content), mirrored copies
  // with their original; the test split then holds more than 32 clips of 60–200 frames, a batch of the
  // text-to-motion protocol.
  const splits: Record<'train' | 'val' | 'test', string[]> = { train: [], val: [], test: [] };
  for (const clips of byContent.values()) {
    clips.forEach((c, i) => {
      const which = clips.length >= 3 && i % 10 === 1 ? 'val' : clips.length >= 3 && i % 5 === 2 ? 'test' : 'train';
      splits[which].push(c.base, c.mirror);
    });
  }
  for (const name of splits.train) trainStats.add(motions.get(name)!);
  const all = [...splits.train, ...splits.val, ...splits.test];
  for (const dir of Object.values(STAGE_SPLIT_DIRS)) {
    mkdirSync(join(root, dir), { recursive: true });
    for (const [split, names] of Object.entries({ ...splits, all }))
      writeFileSync(join(root, dir, `${split}.txt`), names.join('\n') + '\n');
  }
  const { mean, std } = trainStats.result();
  mkdirSync(join(root, 'mean_std', 'vector_272'), { recursive: true });
  writeNpy(join(root, 'mean_std', 'vector_272', 'mean.npy'), { data: mean, shape: [DIM] });
  writeNpy(join(root, 'mean_std', 'vector_272', 'std.npy'), { data: std, shape: [DIM] });
  return {
    root,
    source,
    clips: motions.size,
    failed,
    splits: { train: splits.train.length, val: splits.val.length, test: splits.test.length },
    hours: frames / FPS / 3600,
  };
}
