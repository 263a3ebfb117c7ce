// `torchmotion pfnn train|export|play|quality`: a Phase-Functioned Neural Network on a database from `export pfnn`.
import type { Command } from 'commander';

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { port } from '../cli-options.js';
import { TorchmotionError } from '../errors.js';
import { serveViewer } from '../view/serve.js';
import { pfnnConfig } from './config.js';
import { exportPfnnRuntime } from './export.js';
import { pfnnPageHtml } from './play.js';
import { pfnnQuality } from './quality.js';
import { renderMotions } from '../render/render.js';
import { registerTrainCommand } from '../train/command.js';
import { trainPfnn } from './train.js';

export function registerPfnnCommands(program: Command): void {
  const pfnn = program.command('pfnn').description('Phase-Functioned Neural Network: train on an `export pfnn` database, export its runtime weights, steer it');

  registerTrainCommand(pfnn, {
    argument: { name: 'database', key: 'data.root' },
    description: 'train on a folder written by `torchmotion export pfnn` (held-out clips by clip; checkpoints, Ctrl-C saves, ' +
      '--resume)',
    schema: pfnnConfig, train: trainPfnn,
  });

  pfnn.command('export <run>')
    .description("the original runtime's files: weights at 50 phases (W0_000.bin … b2_049.bin), the 4 control points, normalisation, pfnn.json")
    .requiredOption('-o, --out <dir>', 'output folder')
    .action(async (run: string, o: { out: string }) => {
      const info = await exportPfnnRuntime(run, o.out);
      console.log(`${o.out}: ${info.phases} phases of ${info.layers.map((l) => l.shape.join('×')).join(', ')} float32, cubic/ control points, ` +
        'Xmean/Xstd/Ymean/Ystd.bin and pfnn.json');
    });

  pfnn.command('play <export>')
    .description('steer the character in a browser page (W/↑ forward, S/↓ back, A/← D/→ turn, Shift run); the network runs in the page')
    .option('-o, --out <file>', 'write the page as one self-contained HTML file (opens from disk, no network)')
    .option('--serve', 'serve the page on this machine until Ctrl-C (the default without --out)')
    .option('--port <n>', 'port to serve on (0: any free port)', port, 0)
    .option('--host <address>', 'address to serve on', '127.0.0.1')
    .action(async (dir: string, o: { out?: string; serve?: boolean; port: number; host: string }) => {
      const html = pfnnPageHtml(dir);
      if (o.out) {
        mkdirSync(dirname(resolve(o.out)), { recursive: true });
        writeFileSync(o.out, html);
        console.log(`${o.out}: ${(html.length / 2 ** 20).toFixed(1)} MiB; open it in a browser and steer with W/A/S/D or the arrows (Shift runs)`);
      }
      if (!o.out || o.serve) {
        const { url } = await serveViewer(html, { port: o.port, host: o.host });
        console.log(`serving the controller at ${url} (Ctrl-C to stop)`);
      }
    });

  pfnn.command('quality <run>')
    .description("drive the network with held-out clips' trajectories: joint error, foot skating, phase drift after 10 s")
    .option('--database <dir>', 'the exported database (default: the one the run trained on)')
    .option('--render <file>', 'a side-by-side render (.gif, .mp4 or .png) of one held-out clip: data | PFNN')
    .option('--clip <name>', 'the held-out clip to render (default: the one with the most frames)')
    .option('--json', 'print JSON')
    .action(async (run: string, o: { database?: string; render?: string; clip?: string; json?: boolean }) => {
      const q = await pfnnQuality(run, { database: o.database });
      const { world, ...numbers } = q;
      if (o.render) {
        const longest = o.clip ? q.clips.findIndex((c) => c.name === o.clip) : q.clips.reduce((best, c, i) => (c.frames > q.clips[best].frames ? i : best), 0);
        if (longest < 0) throw new TorchmotionError(`--clip ${o.clip} is not a held-out clip of ${run}: one of ${q.clips.map((c) => c.name).join(', ')}`);
        const frames = q.clips[longest].frames;
        await renderMotions([{ caption: `data: ${q.clips[longest].name}`, joints: world.data[longest], frames },
          { caption: 'PFNN (its own pose and phase)', joints: world.pfnn[longest], frames }], o.render);
      }
      if (o.json) return void console.log(JSON.stringify(numbers, null, 2));
      console.log(`${q.clips.length} held-out clips: joint error ${q.mpjpeCm.toFixed(1)} cm; foot skating ${q.skatingCmPerS.toFixed(1)} cm/s ` +
        `(data ${q.dataSkatingCmPerS.toFixed(1)} cm/s); phase drift after 10 s ` +
        `${q.phaseDrift10s === undefined ? 'n/a (no clip that long)' : `${q.phaseDrift10s.toFixed(3)} cycles over ${q.clipsOver10s} clip(s)`}` +
        `${o.render ? `; render ${o.render}` : ''}`);
    });
}
