// `torchmotion data …`: the CLI over ts/data and ts/motion. Each action validates its files and calls the API.
import { dirname, resolve } from 'node:path';

import type { Command } from 'commander';

import {
  addMotion272Command,
  choiceOption,
  finiteNumber,
  nonNegativeInt as int,
  positiveNumber,
  withDefault,
} from '../cli-options.js';
import { registerConvertCommands } from '../convert/commands.js';
import { printable, TorchmotionError } from '../errors.js';
import { makeDirs } from '../files.js';
import { writeAtomic } from '../train/checkpoint.js';
import { axisAnglesFromSmpl, DIM, forward272, recoverJoints } from '../motion/repr272.js';
import { buildIndex, formatReport, indexSettings, type StageName } from './dataset.js';
import { readNpy, writeNpy } from './npy.js';
import { prepareDataset, prepareLimits } from './prepare.js';
import { buildDemoDataset, demoSettings } from './demo.js';
import { computeMeanStd, meanStdSettings } from './mean-std.js';
import { datasetStats, formatStats } from './stats.js';
import { buildDatasetReport, explainClip, reportHtml, reportSettings } from './report.js';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('motion data: the 272 representation, datasets, statistics');

  addMotion272Command(
    data,
    'recover',
    '272 motion (.npy) → global joints (T,22,3) float32',
    'output .npy',
    (x, out) => {
      const joints = recoverJoints(x);
      writeNpy(out, { data: Float32Array.from(joints), shape: [joints.length / 66, 22, 3] });
      return `${out}: ${joints.length / 66} frames × 22 joints`;
    }
  );

  data
    .command('forward')
    .description('SMPL rotations + global joints → 272 motion (float64)')
    .requiredOption('--smpl <file>', '(T,85) SMPL-85 or (T,66) axis-angle .npy')
    .requiredOption('--joints <file>', '(T,J,3) global joints .npy, J ≥ 22 (the first 22 are used)')
    .requiredOption('-o, --out <file>', 'output .npy')
    .option('--floor-y <y>', 'floor height (default: the lowest joint of the clip)', finiteNumber)
    .action((o: { smpl: string; joints: string; out: string; floorY?: number }) => {
      const smpl = readNpy(o.smpl);
      const width = smpl.shape[1];
      if (smpl.shape.length !== 2 || (width !== 85 && width !== 66) || smpl.dtype === 'i8' || smpl.dtype === 'b1') {
        throw new TorchmotionError(
          `${o.smpl}: expected (T, 85) or (T, 66) floats, found (${smpl.shape.join(', ')}) ${smpl.dtype}`
        );
      }
      const j = readNpy(o.joints);
      if (j.shape.length !== 3 || j.shape[1] < 22 || j.shape[2] !== 3 || j.shape[0] !== smpl.shape[0]) {
        throw new TorchmotionError(
          `${o.joints}: expected (${smpl.shape[0]}, J ≥ 22, 3) joints to match ${o.smpl}, found (${j.shape.join(', ')})`
        );
      }
      const T = j.shape[0];
      const J = j.shape[1];
      const joints = new Float64Array(T * 66);
      for (let t = 0; t < T; t++) for (let k = 0; k < 66; k++) joints[t * 66 + k] = Number(j.data[t * J * 3 + k]);
      const x = forward272(
        joints,
        axisAnglesFromSmpl(Float64Array.from(smpl.data as Float32Array), width as 85 | 66),
        o.floorY !== undefined ? { floorY: o.floorY } : {}
      );
      writeNpy(o.out, { data: x, shape: [T, DIM] });
      console.log(`${o.out}: ${T} frames × ${DIM}`);
    });

  data
    .command('prepare <download-dir>')
    .description('unpack the released .tar.gz archives into the MotionMillion layout')
    .requiredOption('-o, --out <root>', 'dataset root to create or complete')
    .option(
      '--max-extract-gb <n>',
      withDefault('refuse to unpack more than this many GB in one run', prepareLimits, 'maxExtractGB'),
      positiveNumber
    )
    .option(
      '--max-ratio <n>',
      withDefault(
        'refuse an archive that unpacks to more than n times its size (a compression bomb)',
        prepareLimits,
        'maxRatio'
      ),
      positiveNumber
    )
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, o: { out: string; maxExtractGb?: number; maxRatio?: number; json?: boolean }) => {
      const report = await prepareDataset(dir, o.out, {
        maxExtractBytes: o.maxExtractGb && o.maxExtractGb * 1e9,
        maxRatio: o.maxRatio, // undefined: the schema's
        onArchive: o.json ? undefined : (a) => console.log(`unpacking ${printable(a)}`),
      });
      if (o.json) return void console.log(JSON.stringify(report, null, 2));
      for (const e of report.extracted) {
        console.log(`  ${printable(e.archive)}: ${e.entries} entries → ${printable(e.into)}`);
      }
      for (const c of report.conflicts) {
        console.log(
          `  CONFLICT ${printable(c.file)}: kept the copy from ${printable(c.kept)}, not the different ` +
            `one in ${printable(c.skipped)}`
        );
      }
      for (const f of report.failed) console.log(`  FAILED ${printable(f.archive)}: ${f.reason}`);
    });

  data
    .command('index <root>')
    .description('check a split against the files on disk and report missing, corrupt and filtered clips')
    .requiredOption('--split <name>', 'split name (train, val, test, all) or a path to a split file')
    .addOption(choiceOption('--stage <stage>', 'length filter', indexSettings, 'stage'))
    .option('--min-frames <n>', 'override the stage minimum', int)
    .option('--max-frames <n>', 'override the stage maximum', int)
    .option('--strict', 'fail when a listed clip is missing')
    .option('--scan-values', 'read every file to reject NaN/Inf (otherwise headers only)')
    .option('--report-dir <dir>', 'where the full missing/filtered lists go (default <root>/reports)')
    .option('--json', 'print the report as JSON')
    .action(
      (
        root: string,
        o: {
          split: string;
          stage?: StageName;
          minFrames?: number;
          maxFrames?: number;
          strict?: boolean;
          scanValues?: boolean;
          reportDir?: string;
          json?: boolean;
        }
      ) => {
        const { report } = buildIndex(root, {
          split: o.split,
          stage: o.stage,
          minFrames: o.minFrames,
          maxFrames: o.maxFrames,
          strict: o.strict,
          scanValues: o.scanValues,
          reportDir: o.reportDir,
        });
        console.log(o.json ? JSON.stringify(report, null, 2) : formatReport(report));
      }
    );

  data
    .command('stats <root>')
    .description('per subset: clips, hours, lengths, captions, motion types, and how the motions move')
    .option('--max-clips <n>', 'read at most this many clips per subset', int)
    .option('--json', 'print JSON')
    .action((root: string, o: { maxClips?: number; json?: boolean }) => {
      const stats = datasetStats(root, { maxClipsPerSubset: o.maxClips });
      console.log(o.json ? JSON.stringify(stats, null, 2) : formatStats(stats));
    });

  data
    .command('report <root>')
    .description(
      'an HTML page per dataset: per subset clips and hours, lengths, speed/height/turning, ' +
        'motion types, captions, renders'
    )
    .option('-o, --out <file>', 'the page to write (.html)')
    .option('--json', 'print the numbers behind the page as JSON')
    .option('--explain <clip>', 'say why one clip got its motion type (matched words, votes, or the motion rule)')
    .option('--max-clips <n>', 'read at most this many clips per subset', int)
    .option('--renders <n>', withDefault('example clips rendered per subset', reportSettings, 'renders'), int)
    .action(
      async (
        root: string,
        o: { out?: string; json?: boolean; explain?: string; maxClips?: number; renders?: number }
      ) => {
        if (o.explain) return void console.log(explainClip(root, o.explain));
        if (!o.out && !o.json)
          throw new TorchmotionError(
            'data report: give -o <report.html> for the page, --json for the numbers, or --explain <clip>'
          );
        if (o.out && !o.out.toLowerCase().endsWith('.html'))
          throw new TorchmotionError(`data report: -o ${o.out} must end in .html`);
        const r = await buildDatasetReport(root, { maxClipsPerSubset: o.maxClips, renders: o.out ? o.renders : 0 });
        if (o.out) {
          makeDirs(dirname(resolve(o.out)));
          writeAtomic(o.out, reportHtml(r));
          if (!o.json)
            console.log(
              `${o.out}: ${Object.keys(r.subsets).length} subset(s), ` +
                `${Object.values(r.subsets).reduce((a, s) => a + s.clips, 0)} clips`
            );
        }
        if (o.json) console.log(JSON.stringify({ root: r.root, subsets: r.subsets, renders: r.renders }, null, 2));
      }
    );

  data
    .command('mean-std <root>')
    .description("mean/std of a split's clips (std averaged per group, as MotionMillion) → <root>/mean_std/vector_272")
    .option('--split <name>', withDefault('split whose clips to use', meanStdSettings, 'split'))
    .option('-o, --out <dir>', 'folder for mean.npy and std.npy (default <root>/mean_std/vector_272)')
    .action((root: string, o: { split?: string; out?: string }) => {
      const r = computeMeanStd(root, o);
      console.log(
        `${r.mean}, ${r.std}: from ${r.clips} clips (${r.frames} frames)` +
          (r.skipped.length ? `; ${r.skipped.length} clip(s) with NaN/Inf left out (e.g. ${r.skipped[0]})` : '')
      );
    });

  data
    .command('demo')
    .description('build the demo dataset from the bundled Bandai Namco clips (or the full set in ../shared)')
    .requiredOption('-o, --out <root>', 'dataset root to write')
    .option('--source <dir>', 'folder of Bandai Namco .bvh files (default: the bundled 174 clips, data/bandai-namco-1)')
    .option('--seed <n>', withDefault('seed for the caption phrasings', demoSettings, 'seed'), int)
    .option('--json', 'print the report as JSON')
    .action((o: { out: string; source?: string; seed?: number; json?: boolean }) => {
      const r = buildDemoDataset(o.out, { source: o.source, seed: o.seed });
      if (o.json) return void console.log(JSON.stringify(r, null, 2));
      console.log(
        `${r.root}: ${r.clips} clips (mirrored copies included), ${(r.hours * 60).toFixed(1)} min, from ${r.source}`
      );
      console.log(`splits: train ${r.splits.train}, val ${r.splits.val}, test ${r.splits.test}`);
      for (const f of r.failed) console.log(`FAILED ${f.file}: ${f.reason}`);
    });

  registerConvertCommands(data);
}
