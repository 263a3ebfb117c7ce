// Renders and plots: pixels where the projection says the bones are, GIF frame counts from the file's own blocks,
// MP4 through ffmpeg, training curves from metrics.jsonl, and the error messages.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readMeanStd } from '../ts/data/motion-files.js';
import { writeNpy } from '../ts/data/npy.js';
import { plotRuns } from '../ts/plot/plot.js';
import { COLORS, FollowCamera } from '../ts/render/figure.js';
import { renderMotions } from '../ts/render/render.js';
import { CHAINS } from '../ts/motion/skeleton.js';
import { loadViewMotions, type ViewMotion } from '../ts/view/motions.js';
import { errorOf, tempDir } from './helpers.js';

const fixture = join(import.meta.dirname, 'fixtures', 'repr272-sample');
const tmp = tempDir('tm-render-');
const [motion] = loadViewMotions([join(fixture, 'repr272.npy')], { captions: ['fixture walk'] });

const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
const at = (m: ViewMotion, f: number, j: number) =>
  [0, 1, 2].map((k) => m.joints[(f * 22 + j) * 3 + k]) as [number, number, number];

// Fraction of pixels in a (2r+1)² window whose colour is within 40 of c (anti-aliased edges blend).
function near(png: PNG, x: number, y: number, c: string, r = 2): number {
  const [R, G, B] = hex(c);
  let hit = 0;
  let all = 0;
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) {
      const o = ((Math.round(y) + dy) * png.width + Math.round(x) + dx) * 4;
      all++;
      if (Math.abs(png.data[o] - R) + Math.abs(png.data[o + 1] - G) + Math.abs(png.data[o + 2] - B) < 40) hit++;
    }
  return hit / all;
}

test('PNG contact sheet: right leg red and left arm blue where the follow camera projects them', async () => {
  const file = join(tmp, 'sheet.png');
  const r = await renderMotions([motion], file, { keyframes: 4 });
  assert.equal([r.width, r.height, r.frames], [800, 266, 4]);
  const png = PNG.sync.read(readFileSync(file));
  assert.equal([png.width, png.height], [800, 266]);
  for (let c = 0; c < 4; c++) {
    const f = Math.round((c * (motion.frames - 1)) / 3);
    const pelvis = at(motion, f, 0);
    const cam = new FollowCamera([pelvis[0], 0.85, pelvis[2]], { x: c * 200, y: 26, w: 200, h: 240 });
    const mid = (a: number, b: number) => {
      const p = cam.project(at(motion, f, a));
      const q = cam.project(at(motion, f, b));
      return [(p.x + q.x) / 2, (p.y + q.y) / 2];
    };
    const [rx, ry] = mid(CHAINS[0][1], CHAINS[0][2]); // right hip → knee
    const [lx, ly] = mid(CHAINS[4][3], CHAINS[4][4]); // left shoulder → elbow
    assert.ok(near(png, rx, ry, COLORS.right) > 0.3, `frame ${f}: no red thigh at ${rx.toFixed(0)},${ry.toFixed(0)}`);
    assert.ok(
      near(png, lx, ly, COLORS.left) > 0.2,
      `frame ${f}: no blue upper arm at ${lx.toFixed(0)},${ly.toFixed(0)}`
    );
    assert.ok(near(png, c * 200 + 100, 30 + 4, '#ffffff') > 0.9, 'the sky above the figure is background');
  }
});

// Walks the GIF block structure: logical screen size and the number of image descriptors (frames).
function gifFrames(bytes: Uint8Array): { width: number; height: number; frames: number } {
  assert.is(Buffer.from(bytes.subarray(0, 6)).toString('latin1'), 'GIF89a');
  const width = bytes[6] | (bytes[7] << 8);
  const height = bytes[8] | (bytes[9] << 8);
  let p = 13 + (bytes[10] & 0x80 ? 3 << ((bytes[10] & 7) + 1) : 0);
  const skipSubBlocks = () => {
    while (bytes[p] !== 0) p += bytes[p] + 1;
    p++;
  };
  let frames = 0;
  for (;;) {
    const b = bytes[p++];
    if (b === 0x3b) break;
    if (b === 0x21) {
      p++;
      skipSubBlocks();
      continue;
    }
    assert.is(b, 0x2c, `unexpected GIF block 0x${b?.toString(16)} at ${p - 1}`);
    const flags = bytes[p + 8];
    p += 9 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0) + 1;
    skipSubBlocks();
    frames++;
  }
  return { width, height, frames };
}

test('GIF: two motions side by side, one frame per two motion frames at 15 fps', async () => {
  const short: ViewMotion = { caption: 'first second', joints: motion.joints.subarray(0, 30 * 66), frames: 30 };
  const file = join(tmp, 'pair.gif');
  const r = await renderMotions([motion, short], file, { width: 160, height: 200 });
  assert.equal(gifFrames(readFileSync(file)), { width: 320, height: 200, frames: 150 });
  assert.is(r.frames, 150);
});

test('MP4 through ffmpeg (set-up installs it for the tests), and a clear error without it', async () => {
  const probe = spawnSync('ffmpeg', ['-version']);
  assert.ok(!probe.error, 'ffmpeg is not installed: run `bash scripts/setup.sh --with-viewer` (Debian package ffmpeg)');
  const file = join(tmp, 'clip.mp4');
  const short: ViewMotion = { ...motion, joints: motion.joints.subarray(0, 60 * 66), frames: 60 };
  const r = await renderMotions([short], file, { width: 161, height: 200 });
  const bytes = readFileSync(file);
  assert.is(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
  assert.is(r.frames, 60);
  const count = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=nb_read_frames,width,height',
      '-of',
      'csv=p=0',
      file,
    ],
    { encoding: 'utf8' }
  );
  assert.is(count.stdout.trim(), '162,200,60'); // odd width padded to even
  const msg = await errorOf(() => renderMotions([short], join(tmp, 'x.mp4'), { ffmpeg: 'no-such-ffmpeg-here' }));
  assert.is(
    msg,
    "MP4 needs ffmpeg, and 'no-such-ffmpeg-here' was not found: install it (Debian/Ubuntu: " +
      'sudo apt-get install ffmpeg) or render a .gif'
  );
});

test('render errors name the file and the fix', async () => {
  assert.is(
    await errorOf(() => renderMotions([motion], join(tmp, 'x.webm'))),
    `render: cannot write '${join(tmp, 'x.webm')}': the output must end in .gif, .mp4, .png`
  );
  assert.is(
    await errorOf(() => renderMotions([motion], join(tmp, 'x.gif'), { fps: 60 })),
    "render: fps 60 is above the motions' 30 fps"
  );
  assert.is(
    await errorOf(() => renderMotions([motion], join(tmp, 'x.gif'), { width: 32 })),
    'render: panels must be at least 64 × 96 pixels, received --width 32 --height (default)'
  );
  const bad = join(tmp, 'bad.npy');
  writeNpy(bad, { data: new Float32Array(12), shape: [4, 3] });
  assert.is(
    await errorOf(() => loadViewMotions([bad])),
    `${bad}: expected a (T, 272) motion or (T, 22, 3) joints, found (4, 3)`
  );
  const joints = join(tmp, 'j.npy');
  writeNpy(joints, { data: new Float32Array(66), shape: [1, 22, 3] });
  const stats = readMeanStd(
    join(import.meta.dirname, 'fixtures', 'mean_std', 'motionmillion', 'mean.npy'),
    join(import.meta.dirname, 'fixtures', 'mean_std', 'motionmillion', 'std.npy')
  );
  assert.is(
    await errorOf(() => loadViewMotions([joints], { stats })),
    `${joints}: --mean/--std apply to 272 motions, but this is a joints file (1, 22, 3); drop them`
  );
  assert.is(
    await errorOf(() => loadViewMotions([joints, joints], { captions: ['a', 'b', 'c'] })),
    '3 captions for 2 file(s): give at most one --caption per file'
  );
});

test(`plot: runs overlaid in SVG and PNG, eval panels only when a run has evals, \
held-out curves beside training ones`, async () => {
  const runA = join(tmp, 'runs', 'fsq');
  const runB = join(tmp, 'runs', 'vq');
  for (const [dir, scale] of [
    [runA, 1],
    [runB, 2],
  ] as const) {
    mkdirSync(dir, { recursive: true });
    const lines = Array.from({ length: 30 }, (_, s) =>
      JSON.stringify({ step: s, lr: 1e-3, loss: scale / (s + 1), codesUsed: 10 + s })
    );
    if (dir === runA)
      lines.push(JSON.stringify({ step: 29, kind: 'eval', mpjpeMm: 50, usagePercent: 40, perplexity: 100, clips: 3 }));
    if (dir === runB) {
      lines.push(
        ...Array.from({ length: 30 }, (_, s) => JSON.stringify({ step: 30 + s, lr: 1e-3, loss: 0.1, accuracy: s / 30 }))
      );
      lines.push(
        JSON.stringify({ step: 29, kind: 'eval', loss: 0.5, accuracy: 0.2 }),
        JSON.stringify({ step: 59, kind: 'eval', loss: 0.6, accuracy: 0.21 })
      );
    }
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
  const svg = await plotRuns([runA, runB], join(tmp, 'curves.svg'));
  assert.equal(svg.panels, [
    'Loss',
    'Learning rate',
    'Held-out MPJPE',
    'Held-out codebook usage',
    'Codes used per batch',
    'Next-token accuracy',
  ]);
  assert.equal(svg.runs, ['fsq', 'vq']);
  const text = readFileSync(svg.file, 'utf8');
  // One curve per run and line with data: loss (fsq, vq train, vq held-out), lr, MPJPE, usage, codes, accuracy (train,
  // held-out).
  assert.is((text.match(/<path /g) ?? []).length, 3 + 2 + 1 + 1 + 2 + 2);
  assert.ok(text.includes('vq held-out') && text.includes('vq train'), 'the legend names training and held-out curves');
  assert.ok(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="1020"'));
  const png = await plotRuns([runA], join(tmp, 'curves.png'));
  const img = PNG.sync.read(readFileSync(png.file));
  assert.equal([img.width, img.height], [1280, 1020]);
  assert.is(
    await errorOf(() => plotRuns([join(tmp, 'none')], join(tmp, 'c.svg'))),
    `${join(tmp, 'none')}: no metrics.jsonl found (give a training run folder, e.g. runs/main/tokenizer)`
  );
  assert.is(
    await errorOf(() => plotRuns([runA], join(tmp, 'c.jpg'))),
    `plot: cannot write '${join(tmp, 'c.jpg')}': the output must end in .svg or .png`
  );
});

test.run();
