// `torchmotion render` and `torchmotion plot`: pictures of motions and of training runs.
import type { Command } from 'commander';

import { collect, positiveInt as positive } from '../cli-options.js';
import { optionalMeanStd } from '../data/motion-files.js';
import { plotRuns } from '../plot/plot.js';
import { loadViewMotions } from '../view/motions.js';
import { renderMotions } from './render.js';

export function registerRenderCommands(program: Command): void {
  program.command('render <files...>')
    .description('stick-figure render of 272 motions or (T,22,3) joint files, side by side: .gif, .mp4 (ffmpeg) or a .png contact sheet')
    .requiredOption('-o, --out <file>', 'output .gif, .mp4 or .png')
    .option('--mean <file>', 'mean.npy to de-normalise 272 inputs with (needs --std)')
    .option('--std <file>', 'std.npy (needs --mean)')
    .option('--caption <text>', 'caption of the next file, in order (repeatable; default: the prompt or the file name)', collect, [])
    .option('--width <px>', 'panel width (default 320, PNG 200)', positive)
    .option('--height <px>', 'panel height (default 360, PNG 240)', positive)
    .option('--fps <n>', 'output frame rate (GIF default 15, MP4 30)', positive)
    .option('--keyframes <n>', 'PNG: key frames per motion', positive)
    .action(async (files: string[], o: { out: string; mean?: string; std?: string; caption: string[]; width?: number; height?: number; fps?: number; keyframes?: number }) => {
      const motions = loadViewMotions(files, { stats: optionalMeanStd(o), captions: o.caption });
      const r = await renderMotions(motions, o.out, o);
      console.log(`${r.file}: ${r.format.toUpperCase()}, ${r.width}×${r.height}, ${r.frames} frame(s), ${(r.bytes / 1024).toFixed(0)} KiB`);
    });

  program.command('plot <runs...>')
    .description('training curves (loss, lr, held-out MPJPE, codebook usage, accuracy) of one or more runs, overlaid')
    .requiredOption('-o, --out <file>', 'output .svg or .png')
    .action(async (runs: string[], o: { out: string }) => {
      const r = await plotRuns(runs, o.out);
      console.log(`${r.file}: ${r.panels.join(', ')} for ${r.runs.join(', ')}`);
    });
}
