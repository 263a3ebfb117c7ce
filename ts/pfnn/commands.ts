// `torchmotion pfnn database|train|runtime|play|quality`: a Phase-Functioned Neural Network's database from a 272
// dataset, its training, its runtime files and the page that steers it. `export pfnn` and `pfnn export` are the old
// names of `pfnn database` and `pfnn runtime`, kept as aliases that say so.
import type { Command } from 'commander';

import { addOptions, positiveInt, positiveNumber, withDefault } from '../cli-options.js';
import { TorchmotionError } from '../errors.js';
import { pageOptions, showPage, type PageFlags } from '../view/commands.js';
import { pfnnConfig } from './config.js';
import { buildPfnnDatabase } from './database-build.js';
import { pfnnDatabaseSettings } from './database-layout.js';
import { writePfnnRuntime } from './runtime-files.js';
import { pfnnPageHtml } from './play.js';
import { pfnnQuality } from './quality.js';
import { renderMotions } from '../render/render.js';
import { registerTrainCommand } from '../train/command.js';
import { trainPfnn } from './train.js';

export function registerPfnnCommands(program: Command): void {
  const pfnn = program
    .command('pfnn')
    .description('Phase-Functioned Neural Network: its database from a 272 dataset, training, runtime files, steering');

  registerTrainCommand(pfnn, {
    argument: { name: 'database', key: 'data.root' },
    description:
      'train on a folder written by `torchmotion pfnn database` (held-out clips by clip; checkpoints, Ctrl-C ' +
      'saves, --resume)',
    schema: pfnnConfig,
    train: trainPfnn,
  });

  for (const [name, renamed] of [
    ['runtime', false],
    ['export', true],
  ] as const) {
    pfnn
      .command(`${name} <run>`)
      .description(
        renamed
          ? 'the old name of `pfnn runtime` (still works)'
          : "the original runtime's files: weights at 50 " +
              'phases (W0_000.bin … b2_049.bin), the 4 control points, normalisation, pfnn.json'
      )
      .requiredOption('-o, --out <dir>', 'output folder')
      .action(async (run: string, o: { out: string }) => {
        if (renamed) console.error('torchmotion: `pfnn export` is now `pfnn runtime` (it writes the runtime files)');
        const info = await writePfnnRuntime(run, o.out);
        console.log(
          `${o.out}: ${info.phases} phases of ${info.layers.map((l) => l.shape.join('×')).join(', ')} float32, ` +
            'cubic/ control points, Xmean/Xstd/Ymean/Ystd.bin and pfnn.json'
        );
      });
  }
  registerDatabaseCommand(pfnn, 'database');

  addOptions(
    pfnn
      .command('play <export>')
      .description(
        'steer the character in a browser page (W/↑ forward, S/↓ back, A/← D/→ turn, Shift run); ' +
          'the network runs in the page'
      ),
    pageOptions()
  ).action(async (dir: string, o: PageFlags) => {
    await showPage(pfnnPageHtml(dir), o, {
      written: (mib) => `${mib} MiB; open it in a browser and steer with W/A/S/D or the arrows (Shift runs)`,
      served: (url) => `serving the controller at ${url} (Ctrl-C to stop)`,
    });
  });

  pfnn
    .command('quality <run>')
    .description(
      "drive the network with held-out clips' trajectories: joint error, foot skating, phase drift after 10 s"
    )
    .option('--database <dir>', 'the exported database (default: the one the run trained on)')
    .option('--render <file>', 'a side-by-side render (.gif, .mp4 or .png) of one held-out clip: data | PFNN')
    .option('--clip <name>', 'the held-out clip to render (default: the one with the most frames)')
    .option('--json', 'print JSON')
    .action(async (run: string, o: { database?: string; render?: string; clip?: string; json?: boolean }) => {
      const q = await pfnnQuality(run, { database: o.database });
      const { world, ...numbers } = q;
      if (o.render) {
        const longest = o.clip
          ? q.clips.findIndex((c) => c.name === o.clip)
          : q.clips.reduce((best, c, i) => (c.frames > q.clips[best].frames ? i : best), 0);
        if (longest < 0)
          throw new TorchmotionError(
            `--clip ${o.clip} is not a held-out clip of ${run}: one of ${q.clips.map((c) => c.name).join(', ')}`
          );
        const frames = q.clips[longest].frames;
        await renderMotions(
          [
            { caption: `data: ${q.clips[longest].name}`, joints: world.data[longest], frames },
            { caption: 'PFNN (its own pose and phase)', joints: world.pfnn[longest], frames },
          ],
          o.render
        );
      }
      if (o.json) return void console.log(JSON.stringify(numbers, null, 2));
      const drift =
        q.phaseDrift10s === undefined
          ? 'n/a (no clip that long)'
          : `${q.phaseDrift10s.toFixed(3)} cycles over ${q.clipsOver10s} clip(s)`;
      console.log(
        `${q.clips.length} held-out clips: joint error ${q.mpjpeCm.toFixed(1)} cm; foot skating ` +
          `${q.skatingCmPerS.toFixed(1)} cm/s ` +
          `(data ${q.dataSkatingCmPerS.toFixed(1)} cm/s); phase drift after 10 s ${drift}` +
          `${o.render ? `; render ${o.render}` : ''}`
      );
    });
}

const rule = (description: string, key: string) => withDefault(description, pfnnDatabaseSettings, key);

// `pfnn database <root>` (and, under `export`, its old name `export pfnn`): a split of a 272 dataset → the PFNN
// database.
export function registerDatabaseCommand(parent: Command, name: string): void {
  const renamed = parent.name() === 'export';
  parent
    .command(`${name} <root>`)
    .description(
      renamed
        ? 'the old name of `pfnn database` (still works)'
        : 'a split → the SMPL-22 PFNN database (X 240, Y 296, P) with normalisation files and a README'
    )
    .requiredOption('--split <name>', 'split name or file')
    // Under `export`, -o is declared on `export` too (export <run> -o file): the parser hands it to whichever holds it.
    .option('-o, --out <dir>', 'output folder')
    .option(
      '--contact-speed <m/s>',
      rule('contact when a foot joint is slower than this', 'contacts.speed'),
      positiveNumber
    )
    .option('--heel-height <m>', rule('and the ankle is below this', 'contacts.heelHeight'), positiveNumber)
    .option('--toe-height <m>', rule('or the toe (foot joint) is below this', 'contacts.toeHeight'), positiveNumber)
    .option('--median-window <frames>', rule('median filter over contacts (odd)', 'contacts.medianWindow'), positiveInt)
    .option(
      '--min-step-frames <n>',
      rule('frames in the air before a landing counts as a touch-down', 'phase.minStepFrames'),
      positiveInt
    )
    .option(
      '--standing-rate <Hz>',
      rule('phase rate of clips without a gait cycle', 'phase.standingRate'),
      positiveNumber
    )
    .option(
      '--facing-sigma <frames>',
      rule('Gaussian smoothing of the facing direction', 'facingSigma'),
      positiveNumber
    )
    .option('--json', 'print the report as JSON')
    .action(
      (
        root: string,
        o: {
          split: string;
          out?: string;
          json?: boolean;
          contactSpeed?: number;
          heelHeight?: number;
          toeHeight?: number;
          medianWindow?: number;
          minStepFrames?: number;
          standingRate?: number;
          facingSigma?: number;
        }
      ) => {
        if (renamed) console.error('torchmotion: `export pfnn` is now `pfnn database` (it makes the PFNN database)');
        const out = o.out ?? (parent.opts().out as string | undefined);
        if (!out) throw new TorchmotionError('pfnn database: give the output folder with -o <dir>');
        // Flags not given are undefined here: the schema fills them.
        const options = pfnnDatabaseSettings.parse({
          facingSigma: o.facingSigma,
          contacts: {
            speed: o.contactSpeed,
            heelHeight: o.heelHeight,
            toeHeight: o.toeHeight,
            medianWindow: o.medianWindow,
          },
          phase: { minStepFrames: o.minStepFrames, standingRate: o.standingRate },
        });
        const r = buildPfnnDatabase(root, o.split, out, options, o.json ? undefined : (l) => console.log(l));
        if (o.json) return void console.log(JSON.stringify(r, null, 2));
        console.log(
          `${out}: ${r.rows} rows from ${r.clips} clips (${r.mirroredAdded} mirrored copies made), ` +
            `${r.nonCyclic.length} non-cyclic, ${r.skipped.length} skipped; see ${out}/README.md`
        );
      }
    );
}
