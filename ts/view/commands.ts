// `torchmotion view <files…>`: motions in a three.js page, written as one HTML file (--out) or served on localhost.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { Option, type Command } from 'commander';

import { addOptions, collect, meanStdOptions, port, withDefault } from '../cli-options.js';
import { optionalMeanStd } from '../data/motion-files.js';
import { viewerHtml } from './html.js';
import { loadViewMotions } from './motions.js';
import { serveSettings, serveViewer } from './serve.js';

// The flags of a command that shows a page (`view`, `pfnn play`): a file with --out, served without it or with --serve.
export const pageOptions = () => [
  new Option('-o, --out <file>', 'write the page as one self-contained HTML file (opens from disk, no network)'),
  new Option('--serve', 'serve the page on this machine until Ctrl-C (the default without --out)'),
  new Option('--port <n>', withDefault('port to serve on (0: any free port)', serveSettings, 'port')).argParser(port),
  new Option('--host <address>', withDefault('address to serve on', serveSettings, 'host')),
];
export interface PageFlags {
  out?: string;
  serve?: boolean;
  port?: number;
  host?: string;
}

// Writes the page to --out and/or serves it, printing what `written(MiB)` and `served(url)` say.
export async function showPage(
  html: string,
  o: PageFlags,
  say: { written: (mib: string) => string; served: (url: string) => string }
): Promise<void> {
  if (o.out) {
    mkdirSync(dirname(resolve(o.out)), { recursive: true });
    writeFileSync(o.out, html);
    console.log(`${o.out}: ${say.written((html.length / 2 ** 20).toFixed(1))}`);
  }
  if (!o.out || o.serve) {
    const { url } = await serveViewer(html, { port: o.port, host: o.host });
    console.log(say.served(url));
  }
}

// `--caption`, repeatable: the caption of the next file (`view`, `render`).
export const captionOption = (otherwise: string) =>
  new Option('--caption <text>', `caption of the next file, in order (repeatable; default: ${otherwise})`)
    .argParser(collect)
    .default([]);

export function registerViewCommand(program: Command): void {
  addOptions(
    program
      .command('view <files...>')
      .description(
        'play motions side by side in a three.js page (272 motions or (T,22,3) joints .npy), with their captions'
      ),
    [
      ...pageOptions(),
      ...meanStdOptions('to de-normalise 272 motions with'),
      captionOption('prompts.json or the file name'),
    ]
  )
    .option('--title <text>', 'page title')
    .action(
      async (files: string[], o: PageFlags & { mean?: string; std?: string; caption: string[]; title?: string }) => {
        const motions = loadViewMotions(files, { stats: optionalMeanStd(o), captions: o.caption });
        const frames = Math.max(...motions.map((m) => m.frames));
        await showPage(viewerHtml(motions, { title: o.title }), o, {
          written: (mib) => `${motions.length} motion(s), ${frames} frames, ${mib} MiB; open it in a browser`,
          served: (url) => `serving ${motions.length} motion(s) at ${url} (Ctrl-C to stop)`,
        });
      }
    );
}
