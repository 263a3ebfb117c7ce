// `torchmotion view <files…>`: motions in a three.js page, written as one HTML file (--out) or served on localhost.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import type { Command } from 'commander';

import { collect, port } from '../cli-options.js';
import { optionalMeanStd } from '../data/motion-files.js';
import { viewerHtml } from './html.js';
import { loadViewMotions } from './motions.js';
import { serveViewer } from './serve.js';

export function registerViewCommand(program: Command): void {
  program.command('view <files...>')
    .description('play motions side by side in a three.js page (272 motions or (T,22,3) joints .npy), with their captions')
    .option('-o, --out <file>', 'write the page as one self-contained HTML file (opens from disk, no network)')
    .option('--serve', 'serve the page on this machine until Ctrl-C (the default without --out)')
    .option('--port <n>', 'port to serve on (0: any free port)', port, 0)
    .option('--host <address>', 'address to serve on', '127.0.0.1')
    .option('--mean <file>', 'mean.npy to de-normalise 272 motions with (needs --std)')
    .option('--std <file>', 'std.npy to de-normalise 272 motions with (needs --mean)')
    .option('--caption <text>', 'caption of the next file, in order (repeatable; default: prompts.json or the file name)', collect, [])
    .option('--title <text>', 'page title')
    .action(async (files: string[], o: { out?: string; serve?: boolean; port: number; host: string; mean?: string; std?: string;
      caption: string[]; title?: string }) => {
      const motions = loadViewMotions(files, { stats: optionalMeanStd(o), captions: o.caption });
      const html = viewerHtml(motions, { title: o.title });
      const frames = Math.max(...motions.map((m) => m.frames));
      if (o.out) {
        mkdirSync(dirname(resolve(o.out)), { recursive: true });
        writeFileSync(o.out, html);
        console.log(`${o.out}: ${motions.length} motion(s), ${frames} frames, ${(html.length / 2 ** 20).toFixed(1)} MiB; open it in a browser`);
      }
      if (!o.out || o.serve) {
        const { url } = await serveViewer(html, { port: o.port, host: o.host });
        console.log(`serving ${motions.length} motion(s) at ${url} (Ctrl-C to stop)`);
      }
    });
}
