// `torchmotion export …`: datasets → other training formats (the PFNN database), runs → PyTorch checkpoints.
import type { Command } from 'commander';

import { positiveInt, positiveNumber } from '../cli-options.js';
import { TorchmotionError } from '../errors.js';
import { DEFAULT_PFNN, type PfnnOptions } from './pfnn.js';
import { exportPfnn } from './pfnn-export.js';
import { addCheckpointExport } from '../pytorch/commands.js';

export function registerExportCommands(program: Command): void {
  const exportCommand = program.command('export')
    .description('datasets → other training formats; a run → a PyTorch checkpoint (export <run> --format pth|safetensors)');
  addCheckpointExport(exportCommand);
  exportCommand.command('pfnn <root>')
    .description('a split → the SMPL-22 PFNN database (X 240, Y 296, P) with normalisation files and a README')
    .requiredOption('--split <name>', 'split name or file')
    // -o is declared on `export` too (export <run> -o file); the root parser hands it to whichever holds it.
    .option('-o, --out <dir>', 'output folder')
    .option('--contact-speed <m/s>', 'contact when a foot joint is slower than this', positiveNumber, DEFAULT_PFNN.contacts.speed)
    .option('--heel-height <m>', 'and the ankle is below this', positiveNumber, DEFAULT_PFNN.contacts.heelHeight)
    .option('--toe-height <m>', 'or the toe (foot joint) is below this', positiveNumber, DEFAULT_PFNN.contacts.toeHeight)
    .option('--median-window <frames>', 'median filter over contacts (odd)', positiveInt, DEFAULT_PFNN.contacts.medianWindow)
    .option('--min-step-frames <n>', 'frames in the air before a landing counts as a touch-down', positiveInt, DEFAULT_PFNN.phase.minStepFrames)
    .option('--standing-rate <Hz>', 'phase rate of clips without a gait cycle', positiveNumber, DEFAULT_PFNN.phase.standingRate)
    .option('--facing-sigma <frames>', 'Gaussian smoothing of the facing direction', positiveNumber, DEFAULT_PFNN.facingSigma)
    .option('--json', 'print the report as JSON')
    .action((root: string, o: { split: string; out?: string; json?: boolean; contactSpeed: number; heelHeight: number;
      toeHeight: number; medianWindow: number; minStepFrames: number; standingRate: number; facingSigma: number }) => {
      const out = o.out ?? (exportCommand.opts().out as string | undefined);
      if (!out) throw new TorchmotionError('export pfnn: give the output folder with -o <dir>');
      const options: PfnnOptions = {
        ...DEFAULT_PFNN, facingSigma: o.facingSigma,
        contacts: { speed: o.contactSpeed, heelHeight: o.heelHeight, toeHeight: o.toeHeight, medianWindow: o.medianWindow },
        phase: { minStepFrames: o.minStepFrames, standingRate: o.standingRate },
      };
      const r = exportPfnn(root, o.split, out, options, o.json ? undefined : (l) => console.log(l));
      if (o.json) return void console.log(JSON.stringify(r, null, 2));
      console.log(`${out}: ${r.rows} rows from ${r.clips} clips (${r.mirroredAdded} mirrored copies made), ` +
        `${r.nonCyclic.length} non-cyclic, ${r.skipped.length} skipped; see ${out}/README.md`);
    });
}
