// `torchmotion data convert smpl|bvh|humanml3d` and `torchmotion data export bvh`.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';

import type { Command } from 'commander';

import { addMotion272Command, choiceOption, positiveNumber, withDefault } from '../cli-options.js';
import { readNpy, writeNpy } from '../data/npy.js';
import { TorchmotionError } from '../errors.js';
import { DIM, mirror272 } from '../motion/repr272.js';
import { JOINTS } from '../motion/skeleton.js';
import { readBvh, writeBvhText } from './bvh.js';
import { bvhTo272 } from './from-bvh.js';
import { readSmplClip, restJointsFromBodyModel, smplTo272 } from './from-smpl.js';
import { BUILTIN_MAPS, loadJointMap, UP_AXIS, type JointMap } from './joint-maps.js';
import { motion272ToBvh } from './to-bvh.js';
import { humanml3dSettings, jointsTo272, resamplePositions } from './to272.js';

function inputs(paths: string[], ext: string): string[] {
  return paths.flatMap((p) => {
    if (!existsSync(p)) throw new TorchmotionError(`${p}: no such file or folder`);
    return statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith(ext))
          .sort()
          .map((f) => join(p, f))
      : [p];
  });
}

// Writes <out>/<name>.npy and, with mirror, <out>/M<name>.npy (the 272 repository's naming; the MotionMillion release
// puts mirrors in Mirror_<subset> folders instead, and ts/data/layout.ts reads both).
function save(out: string, name: string, motion: Float64Array, mirror: boolean): string[] {
  mkdirSync(out, { recursive: true });
  const T = motion.length / DIM;
  const files = [join(out, `${name}.npy`)];
  writeNpy(files[0], { data: motion, shape: [T, DIM] });
  if (mirror) {
    files.push(join(out, `M${name}.npy`));
    writeNpy(files[1], { data: mirror272(motion), shape: [T, DIM] });
  }
  return files;
}

// Converts each file on its own: a failure is reported and the rest go on.
function convertEach(
  files: string[],
  convert: (file: string) => { motion: Float64Array; note?: string },
  out: string,
  mirror: boolean
): void {
  let ok = 0;
  const failed: string[] = [];
  for (const file of files) {
    try {
      const { motion, note } = convert(file);
      // Degenerate input (coincident joints, a zero-length bone) can still give NaN: never written as if it were fine.
      const bad = motion.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0)
        throw new TorchmotionError(
          `the converted motion is ${motion[bad]} at frame ${Math.floor(bad / DIM)}, channel ${bad % DIM}: not written`
        );
      save(out, basename(file, extname(file)), motion, mirror);
      ok++;
      console.log(`ok     ${file}: ${motion.length / DIM} frames${note ? ` (${note})` : ''}`);
    } catch (err) {
      failed.push(file);
      console.log(`FAILED ${file}: ${(err as Error).message}`);
    }
  }
  console.log(`${ok} converted, ${failed.length} failed → ${out}`);
  if (ok === 0 && files.length > 0) throw new TorchmotionError(`no file converted (${failed.length} failed)`);
}

export function registerConvertCommands(data: Command): void {
  const convert = data
    .command('convert')
    .description('other motion formats → the 272 representation (float64, 30 fps)');

  convert
    .command('smpl <files...>')
    .description('AMASS .npz (poses, trans, betas, mocap_framerate) or SMPL-85 .npy → 272')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--body-model <npz>', 'SMPL/SMPL-X model with J_regressor, v_template, shapedirs (rest joints from betas)')
    .option('--rest-skeleton <npy>', '(22,3) rest joint positions, instead of a body model')
    .option('--fps <n>', "source frame rate (default: the file's mocap_framerate; 30 for .npy)", positiveNumber)
    .addOption(choiceOption('--up <axis>', 'source up axis (default: z for .npz, y for .npy)', UP_AXIS))
    .option('--mirror', 'also write the mirrored copy (M prefix)')
    .action(
      (
        files: string[],
        o: { out: string; bodyModel?: string; restSkeleton?: string; fps?: number; up?: 'y' | 'z'; mirror?: boolean }
      ) => {
        if (!!o.bodyModel === !!o.restSkeleton)
          throw new TorchmotionError('give exactly one of --body-model <npz> or --rest-skeleton <npy>');
        let skeleton: Float64Array | undefined;
        if (o.restSkeleton) {
          const r = readNpy(o.restSkeleton);
          if (r.data.length !== JOINTS * 3)
            throw new TorchmotionError(
              `${o.restSkeleton}: expected (22, 3) rest joints, found (${r.shape.join(', ')})`
            );
          skeleton = Float64Array.from(r.data as Float64Array);
        }
        convertEach(
          inputs(files, '.npz'),
          (file) => {
            const clip = readSmplClip(file, { fps: o.fps, up: o.up });
            const rest = skeleton ?? restJointsFromBodyModel(o.bodyModel!, clip.betas);
            return { motion: smplTo272(clip, rest).motion, note: `${clip.fps} fps, ${clip.up} up` };
          },
          o.out,
          !!o.mirror
        );
      }
    );

  convert
    .command('bvh <files...>')
    .description('BVH files or folders → 272 (joints mapped to SMPL-22, rotations by inverse kinematics)')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option(
      '--map <name|file.json>',
      `joint map: ${Object.keys(BUILTIN_MAPS).join(', ')}, or a JSON file (default: detected)`
    )
    .option('--scale <s>', 'file units → metres (overrides the map)', positiveNumber)
    .addOption(choiceOption('--up <axis>', 'source up axis (overrides the map)', UP_AXIS))
    .option('--mirror', 'also write the mirrored copy (M prefix)')
    .action((files: string[], o: { out: string; map?: string; scale?: number; up?: 'y' | 'z'; mirror?: boolean }) => {
      let map: JointMap | undefined;
      if (o.map) map = BUILTIN_MAPS[o.map] ?? loadJointMap(o.map);
      convertEach(
        inputs(files, '.bvh'),
        (file) => {
          const bvh = readBvh(file);
          let m = map;
          if (m && (o.scale || o.up)) m = { ...m, ...(o.scale && { scale: o.scale }), ...(o.up && { up: o.up }) };
          const c = bvhTo272(bvh, file, m);
          return { motion: c.motion, note: `map ${c.map}, ${c.sourceFps.toFixed(1)} fps` };
        },
        o.out,
        !!o.mirror
      );
    });

  convert
    .command('humanml3d <files...>')
    .description('HumanML3D new_joints (T,22,3) at 20 fps → 272 at 30 fps')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--fps <n>', withDefault('source frame rate', humanml3dSettings, 'fps'), positiveNumber)
    .option('--mirror', 'also write the mirrored copy (M prefix)')
    .action((files: string[], o: { out: string; fps?: number; mirror?: boolean }) => {
      const { fps } = humanml3dSettings.parse({ fps: o.fps });
      convertEach(
        inputs(files, '.npy'),
        (file) => {
          const a = readNpy(file);
          if (a.shape.length !== 3 || a.shape[1] !== JOINTS || a.shape[2] !== 3) {
            throw new TorchmotionError(`expected (T, 22, 3) joints, found (${a.shape.join(', ')})`);
          }
          return {
            motion: jointsTo272(resamplePositions(Float64Array.from(a.data as Float32Array), JOINTS, fps)).motion,
          };
        },
        o.out,
        !!o.mirror
      );
    });

  const exp = data.command('export').description('272 → other formats');
  addMotion272Command(
    exp,
    'bvh',
    '272 motion → BVH on the SMPL-22 skeleton (centimetres, 30 fps) for Blender',
    'output .bvh',
    (x, out) => {
      writeFileSync(out, writeBvhText(motion272ToBvh(x)));
      return `${out}: ${x.length / DIM} frames on the SMPL-22 skeleton`;
    }
  );
}
