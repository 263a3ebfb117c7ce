// The `torchmotion view` page as one self-contained HTML file: the viewer bundle (three.js included) and the motions
// are inlined, so the file opens from disk or from `serveViewer` with no network access.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { FPS } from '../motion/repr272.js';
import type { ViewMotion } from './motions.js';

const bundlePath = (name: string) => join('dist', 'viewer', `${name}.js`);
const bundleMeta = (name: string) => join('dist', 'viewer', `${name}.meta.json`);
const BUILD_SCRIPT = join('scripts', 'build-viewer.js');

// Fresh when built after every input its build recorded. Inputs missing here (an install without sources) do not
// make it stale: the bundle is all there is.
function bundleIsFresh(root: string, name: string): boolean {
  if (!existsSync(join(root, bundlePath(name))) || !existsSync(join(root, bundleMeta(name)))) return false;
  const built = statSync(join(root, bundlePath(name))).mtimeMs;
  let inputs: string[];
  try {
    inputs = (JSON.parse(readFileSync(join(root, bundleMeta(name)), 'utf8')) as { inputs: string[] }).inputs;
  } catch {
    return false; // an unreadable record of the inputs: rebuild rather than trust the bundle
  }
  return inputs.every((f) => !existsSync(join(root, f)) || statSync(join(root, f)).mtimeMs <= built);
}

function esbuildInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('esbuild');
    return true;
  } catch {
    return false;
  }
}

const bundles = new Map<string, string>();

// A page's script (`viewer` or `pfnn`), rebuilt first when its sources changed, so tests and `tsx` runs work without
// a prior build step. It is checked for "</script", which would cut the page short where it is inlined.
export function pageBundle(name: 'viewer' | 'pfnn'): string {
  const cached = bundles.get(name);
  if (cached !== undefined) return cached;
  const root = packageRoot();
  const file = join(root, bundlePath(name));
  if (!bundleIsFresh(root, name)) {
    if (esbuildInstalled()) {
      const run = spawnSync(process.execPath, [join(root, BUILD_SCRIPT)], { cwd: root, encoding: 'utf8' });
      if (run.status !== 0) {
        throw new TorchmotionError(
          `cannot build the page bundle ${file}: ${(run.stderr || run.error?.message || '').trim()}`
        );
      }
    } else if (!existsSync(file)) {
      throw new TorchmotionError(
        `the page bundle ${file} is missing and esbuild is not installed to build it: ` +
          `run \`npm install --include=dev && npm run build:ts\` in ${root}`
      );
    }
  }
  const code = readFileSync(file, 'utf8');
  // esbuild escapes "</script" in what it emits; check rather than trust, since a stray one would cut the page short.
  if (/<\/script/i.test(code))
    throw new TorchmotionError(
      `${file} contains "</script" and cannot be inlined: rebuild it with \`npm run build:ts\``
    );
  bundles.set(name, code);
  return code;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// Inside <script>, only "</script" and "<!--" can end or derail the element; with every "<" escaped, neither can
// occur, and JSON.parse reads \u003c back as "<".
const scriptSafeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

// The joints travel as base64 float32 (little-endian, as on every platform browsers run on): a quarter of the JSON.
function base64Float32(joints: Float64Array): string {
  const f32 = Float32Array.from(joints);
  return Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).toString('base64');
}

const STYLE = `
  html, body { margin: 0; height: 100%; font: 14px system-ui, sans-serif; color: #222; background: #fff; }
  body { display: flex; flex-direction: column; }
  #view { position: relative; flex: 1; min-height: 0; overflow: hidden; }
  #view canvas { display: block; }
  #labels { position: absolute; inset: 0; pointer-events: none; }
  .caption { position: absolute; transform: translate(-50%, -100%); max-width: 280px; padding: 3px 8px;
    background: rgba(255, 255, 255, 0.85); border: 1px solid #ddd; border-radius: 4px; text-align: center; }
  #message { position: absolute; inset: 40% 0 auto; text-align: center; color: #a00; }
  #controls { display: flex; align-items: center; gap: 12px; padding: 8px 12px; border-top: \
1px solid #ddd; background: #f7f7f7; }
  #play { min-width: 84px; }
  #scrub { flex: 1; }
  #counter { min-width: 120px; text-align: right; font-variant-numeric: tabular-nums; }
`;

export function viewerHtml(motions: ViewMotion[], o: { title?: string } = {}): string {
  if (motions.length === 0) throw new TorchmotionError('the viewer needs at least one motion');
  const data = {
    fps: FPS,
    motions: motions.map((m) => ({ caption: m.caption, frames: m.frames, joints: base64Float32(m.joints) })),
  };
  const title = o.title ?? `torchmotion view: ${motions.map((m) => m.caption).join(' | ')}`;
  return pageHtml({
    title,
    style: STYLE,
    body: `<div id="view"><div id="labels"></div><div id="message"></div></div>
<div id="controls">
  <button id="play" type="button" title="play or pause (space)"></button>
  <input id="scrub" type="range" min="0" step="1" value="0" aria-label="frame" title="scrub (← → step one frame)">
  <label>speed <select id="speed"></select></label>
  <span id="counter"></span>
</div>`,
    dataId: 'torchmotion-data',
    data,
    bundle: 'viewer',
  });
}

// One self-contained page: its markup, its data as JSON in <script type="application/json" id=dataId> (every "<"
// escaped) and a page bundle inlined after it.
export function pageHtml(p: {
  title: string;
  style: string;
  body: string;
  dataId: string;
  data: unknown;
  bundle: 'viewer' | 'pfnn';
}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(p.title)}</title>
<style>${p.style}</style>
</head>
<body>
${p.body}
<script type="application/json" id="${p.dataId}">${scriptSafeJson(p.data)}</script>
<script>${pageBundle(p.bundle)}</script>
</body>
</html>
`;
}
