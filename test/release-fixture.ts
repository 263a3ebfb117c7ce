// A MotionMillion download in exactly the released layout (the dataset card's file list and what users report of
// its archives), made from the demo's real Bandai Namco clips so that its statistics and motion types mean something:
//   motion_272rpr/MotionGV/folder1.tar.gz            folder1/<id>.npy
//   motion_272rpr/Mirror_MotionGV/folder1.tar.gz     folder1/<id>.npy (the mirrors)
//   motion_272rpr/MotionLLAMA/fit3d.tar.gz           fit3d/fit3d/train/<id>.npy (the subset folder repeated)
//   motion_272rpr/Mirror_MotionLLAMA/fit3d.tar.gz    the same, mirrored
//   motion_272rpr/PhantomDanceDatav1.1.tar.gz        PhantomDanceDatav1.1/<id>.npy, no texts
//   motion_272rpr/Mirror_PhantomDanceDatav1.1.tar.gz PhantomDanceDatav1.1/<id>.npy (mirrors under the unmirrored name)
//   mean_std/Mean.npy, mean_std/Std.npy, split.tar.gz, texts.tar.gz
// The splits also list an unreleased HumanML3D clip, and one mirror has no text file (both as in the release).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import * as tar from 'tar';

import { readMotion272 } from '../ts/data/motion-files.js';
import { writeNpy } from '../ts/data/npy.js';
import { mirrorCaption } from '../ts/data/texts.js';
import { DIM, mirror272 } from '../ts/motion/repr272.js';
import { tempDir } from './helpers.js';

export const DEMO = join(import.meta.dirname, '..', 'data', 'demo');
const demoClip = (name: string) => join(DEMO, 'motion_data', 'vector_272', `${name}.npy`);
const demoText = (name: string) => readFileSync(join(DEMO, 'texts', `${name}.txt`), 'utf8');

// id in the release → demo clip it is made of.
export const RELEASE_CLIPS = {
  'MotionGV/folder1/000001': 'BandaiNamco/walk/normal_001',
  'MotionGV/folder1/000002': 'BandaiNamco/run/happy_001',
  'MotionGV/folder1/000003': 'BandaiNamco/walk-left/normal_001',
  'MotionGV/folder1/000004': 'BandaiNamco/bye/proud_001',
  'MotionLLAMA/fit3d/train/s03_punch': 'BandaiNamco/punch/normal_001',
  'MotionLLAMA/fit3d/train/s03_kick': 'BandaiNamco/kick/normal_001',
  'PhantomDanceDatav1.1/0001': 'BandaiNamco/dance-short/normal_001',
} as const;
export const UNCAPTIONED_MIRROR = 'Mirror_MotionGV/folder1/000003';
export const UNRELEASED = 'HumanML3D/000001';

export interface ReleaseDownload {
  dir: string;
  ids: string[];
  mirrors: string[];
}

export async function writeReleaseDownload(): Promise<ReleaseDownload> {
  const stage = tempDir('tm-release-stage-');
  const dir = tempDir('tm-release-');
  const put = (path: string, motion: Float64Array) => {
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    writeNpy(join(stage, path), { data: motion, shape: [motion.length / DIM, DIM] });
  };
  const text = (id: string, content: string) => {
    const file = join(stage, 'texts', `${id}.txt`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  };
  const ids = Object.keys(RELEASE_CLIPS);
  const mirrors = ids.map((id) => `Mirror_${id}`);
  for (const [id, src] of Object.entries(RELEASE_CLIPS)) {
    const motion = readMotion272(demoClip(src));
    const [subset, ...rest] = id.split('/');
    const inArchive = subset === 'MotionLLAMA' ? ['fit3d', ...rest] : rest; // fit3d/fit3d/train/…: repeated
    const archiveRoot = subset === 'PhantomDanceDatav1.1' ? ['PhantomDanceDatav1.1'] : [];
    put(join('gv', subset, ...archiveRoot, ...inArchive) + '.npy', motion);
    put(join('gv', `Mirror_${subset}`, ...archiveRoot, ...inArchive) + '.npy', mirror272(motion));
    if (subset === 'PhantomDanceDatav1.1') continue; // PhantomDance has no texts
    text(subset === 'MotionLLAMA' ? ['MotionLLAMA', 'fit3d', ...rest].join('/') : id, demoText(src));
    if (`Mirror_${id}` !== UNCAPTIONED_MIRROR) text(`Mirror_${id}`, mirrorCaption(demoText(src)));
  }
  const archive = async (file: string, cwd: string, entries: string[]) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    await tar.c({ gzip: true, file: join(dir, file), cwd }, entries);
  };
  for (const m of ['', 'Mirror_']) {
    await archive(`motion_272rpr/${m}MotionGV/folder1.tar.gz`, join(stage, 'gv', `${m}MotionGV`), ['folder1']);
    await archive(`motion_272rpr/${m}MotionLLAMA/fit3d.tar.gz`, join(stage, 'gv', `${m}MotionLLAMA`), ['fit3d']);
    // Both PhantomDance archives hold a PhantomDanceDatav1.1/ folder: the mirror archive's name says what it is.
    await archive(`motion_272rpr/${m}PhantomDanceDatav1.1.tar.gz`, join(stage, 'gv', `${m}PhantomDanceDatav1.1`), [
      'PhantomDanceDatav1.1',
    ]);
  }
  const all = [...ids, ...mirrors, UNRELEASED];
  const captioned = all.filter((n) => !n.includes('PhantomDance'));
  for (const [stageDir, names] of [
    ['tokenizer_96', all],
    ['t2m_60_300', captioned],
  ] as const) {
    for (const split of ['train', 'val', 'test', 'all']) {
      const file = join(stage, 'split', 'version1', stageDir, `${split}.txt`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, (split === 'train' || split === 'all' ? names : names.slice(0, 2)).join('\n') + '\n');
    }
  }
  await archive('split.tar.gz', stage, ['split']);
  await archive('texts.tar.gz', stage, ['texts']);
  mkdirSync(join(dir, 'mean_std'));
  copyFileSync(join(DEMO, 'mean_std', 'vector_272', 'mean.npy'), join(dir, 'mean_std', 'Mean.npy'));
  copyFileSync(join(DEMO, 'mean_std', 'vector_272', 'std.npy'), join(dir, 'mean_std', 'Std.npy'));
  return { dir, ids, mirrors };
}
