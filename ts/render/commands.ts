// `torchmotion render` and `torchmotion plot`: pictures of motions and of training runs.
import type { Command } from 'commander';

import { addOptions, meanStdOptions, positiveInt as positive, schemaDefault } from '../cli-options.js';
import { optionalMeanStd } from '../data/motion-files.js';
import { plotRuns } from '../plot/plot.js';
import { captionOption } from '../view/commands.js';
import { loadViewMotions } from '../view/motions.js';
import { renderMotions, renderSettings } from './render.js';

// A default that depends on the format, from the formats' schemas that have it: "GIF, MP4 320, PNG 200".
function byFormat(key: string): string {
  const formats = new Map<string, string[]>();
  for (const [format, schema] of Object.entries(renderSettings)) {
    const value = schemaDefault(schema, key);
    if (value !== undefined) formats.set(String(value), [...(formats.get(String(value)) ?? []), format.toUpperCase()]);
  }
  const all = [...formats];
  return all.length === 1 ? all[0][0] : all.map(([value, names]) => `${names.join(', ')} ${value}`).join('; ');
}

export function registerRenderCommands(program: Command): void {
  addOptions(
    program
      .command('render <files...>')
      .description(
        'stick-figure render of 272 motions or (T,22,3) joint files, side by side: .gif, ' +
          '.mp4 (ffmpeg) or a .png contact sheet'
      )
      .requiredOption('-o, --out <file>', 'output .gif, .mp4 or .png'),
    [...meanStdOptions('to de-normalise 272 inputs with'), captionOption('the prompt or the file name')]
  )
    .option('--width <px>', `panel width (default: ${byFormat('width')})`, positive)
    .option('--height <px>', `panel height (default: ${byFormat('height')})`, positive)
    .option('--fps <n>', `output frame rate (default: ${byFormat('fps')})`, positive)
    .option('--keyframes <n>', `PNG: key frames per motion (default: ${byFormat('keyframes')})`, positive)
    .action(
      async (
        files: string[],
        o: {
          out: string;
          mean?: string;
          std?: string;
          caption: string[];
          width?: number;
          height?: number;
          fps?: number;
          keyframes?: number;
        }
      ) => {
        const motions = loadViewMotions(files, { stats: optionalMeanStd(o), captions: o.caption });
        const r = await renderMotions(motions, o.out, o);
        console.log(
          `${r.file}: ${r.format.toUpperCase()}, ${r.width}×${r.height}, ${r.frames} frame(s), ` +
            `${(r.bytes / 1024).toFixed(0)} KiB`
        );
      }
    );

  program
    .command('plot <runs...>')
    .description('training curves (loss, lr, held-out MPJPE, codebook usage, accuracy) of one or more runs, overlaid')
    .requiredOption('-o, --out <file>', 'output .svg or .png')
    .action(async (runs: string[], o: { out: string }) => {
      const r = await plotRuns(runs, o.out);
      console.log(`${r.file}: ${r.panels.join(', ')} for ${r.runs.join(', ')}`);
    });
}
