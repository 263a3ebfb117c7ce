// Renders motions side by side to an animated GIF (gifenc, pure JS), an MP4 (ffmpeg, when installed) or a PNG
// contact sheet of key frames. Frames are drawn one at a time and streamed out, so memory does not grow with length.
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';

import gifenc from 'gifenc';
import * as PImage from 'pureimage';
import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { FPS } from '../motion/repr272.js';
import type { ViewMotion } from '../view/motions.js';
import { drawFigure, type Rect } from './figure.js';
import { FONT_FAMILY, loadFont } from './font.js';
import { writePng } from './png.js';

export interface RenderOptions {
  width?: number; // of one panel, pixels
  height?: number;
  fps?: number; // output frame rate (the motions are 30 fps); GIF default 15, MP4 default 30
  keyframes?: number; // PNG: columns of the contact sheet
  ffmpeg?: string; // executable, default "ffmpeg" on PATH
}

// Each format's defaults: GIF and MP4 draw a strip of 320 × 360 panels (GIF at 15 fps, MP4 at the motions' 30), a PNG
// contact sheet 200 × 240 cells of 6 key frames. The values are checked in check(), with messages that name the flag.
const panel = (width: number, height: number) => ({
  width: z.number().default(width),
  height: z.number().default(height),
});
export const renderSettings = {
  gif: z.object({ ...panel(320, 360), fps: z.number().default(15) }),
  mp4: z.object({ ...panel(320, 360), fps: z.number().default(FPS), ffmpeg: z.string().default('ffmpeg') }),
  png: z.object({ ...panel(200, 240), keyframes: z.number().default(6) }),
};

export interface Size {
  frames: number;
  width: number;
  height: number;
}
export interface RenderResult extends Size {
  file: string;
  format: 'gif' | 'mp4' | 'png';
  bytes: number;
}

const FORMATS = ['.gif', '.mp4', '.png'];
// gifenc is CommonJS without named ESM exports.
const { applyPalette, GIFEncoder, quantize } = gifenc;

function check(motions: ViewMotion[], o: RenderOptions): void {
  for (const [k, v] of Object.entries({ width: o.width, height: o.height, fps: o.fps, keyframes: o.keyframes })) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0))
      throw new TorchmotionError(`render: ${k} must be a positive integer, received ${v}`);
  }
  if ((o.width ?? 64) < 64 || (o.height ?? 96) < 96) {
    throw new TorchmotionError(
      `render: panels must be at least 64 × 96 pixels, received --width ${o.width ?? '(default)'} ` +
        `--height ${o.height ?? '(default)'}`
    );
  }
  if (o.fps !== undefined && o.fps > FPS)
    throw new TorchmotionError(`render: fps ${o.fps} is above the motions' ${FPS} fps`);
  if (motions.length === 0) throw new TorchmotionError('render: nothing to render');
}

// The whole strip of panels at one time step; shorter motions hold their last frame.
function drawStrip(
  bitmap: PImage.Bitmap,
  motions: ViewMotion[],
  frame: number,
  panel: { w: number; h: number },
  text: boolean
): void {
  bitmap.data.fill(255);
  const ctx = bitmap.getContext('2d');
  motions.forEach((m, i) => {
    const view: Rect = { x: i * panel.w, y: 0, w: panel.w, h: panel.h };
    drawFigure(ctx, m, Math.min(frame, m.frames - 1), view, { caption: true, text });
    if (i > 0) {
      ctx.fillStyle = '#bbbbbb';
      ctx.fillRect(view.x, 0, 1, panel.h);
    }
  });
}

// The motion frames shown at an output rate of fps, through the longest motion.
function frameSchedule(motions: ViewMotion[], fps: number): number[] {
  const frames = Math.max(...motions.map((m) => m.frames));
  const step = FPS / fps;
  return Array.from({ length: Math.max(1, Math.floor((frames - 1) / step) + 1) }, (_, k) => Math.round(k * step));
}

function renderGif(
  motions: ViewMotion[],
  file: string,
  panel: { w: number; h: number },
  fps: number,
  text: boolean
): Size {
  const times = frameSchedule(motions, fps);
  const bitmap = PImage.make(panel.w * motions.length, panel.h);
  // One palette for the whole animation (from a few frames), so colours do not flicker between frames.
  const samples = [0, 0.33, 0.66, 1].map((q) => times[Math.round(q * (times.length - 1))]);
  const pooled = new Uint8Array(bitmap.data.length * samples.length);
  samples.forEach((t, k) => {
    drawStrip(bitmap, motions, t, panel, text);
    pooled.set(bitmap.data, k * bitmap.data.length);
  });
  const palette = quantize(pooled, 256);
  const gif = GIFEncoder();
  for (const t of times) {
    drawStrip(bitmap, motions, t, panel, text);
    gif.writeFrame(applyPalette(bitmap.data, palette), bitmap.width, bitmap.height, {
      palette,
      delay: Math.round(1000 / fps),
    });
  }
  gif.finish();
  writeFileSync(file, gif.bytes());
  return { frames: times.length, width: bitmap.width, height: bitmap.height };
}

async function renderMp4(
  motions: ViewMotion[],
  file: string,
  panel: { w: number; h: number },
  fps: number,
  text: boolean,
  ffmpeg: string
): Promise<Size> {
  const times = frameSchedule(motions, fps);
  const bitmap = PImage.make(panel.w * motions.length, panel.h);
  // H.264 in yuv420p wants even sizes: pad rather than scale.
  const args = [
    '-y',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    '-s',
    `${bitmap.width}x${bitmap.height}`,
    '-r',
    String(fps),
    '-i',
    '-',
    '-vf',
    'pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    file,
  ];
  const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // Settles once: a failed start, or ffmpeg's exit (early, if it rejects the stream).
  let ended = false;
  const exited = new Promise<{ code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      ended = true;
      resolve({ code: null, error });
    });
    child.on('close', (code) => {
      ended = true;
      resolve({ code });
    });
  });
  child.stdin.on('error', () => {}); // EPIPE after an early exit: reported from the exit status below
  let count = 0;
  for (const t of times) {
    if (ended) break;
    drawStrip(bitmap, motions, t, panel, text);
    count++;
    if (!child.stdin.write(bitmap.data))
      await Promise.race([new Promise<void>((r) => child.stdin.once('drain', r)), exited]);
  }
  child.stdin.end();
  const { code, error } = await exited;
  if (error?.code === 'ENOENT') {
    throw new TorchmotionError(
      `MP4 needs ffmpeg, and '${ffmpeg}' was not found: install it (Debian/Ubuntu: ` +
        `sudo apt-get install ffmpeg) or render a .gif`
    );
  }
  if (error) throw error;
  if (code !== 0)
    throw new TorchmotionError(
      `ffmpeg failed writing ${file} (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`
    );
  return { frames: count, width: bitmap.width, height: bitmap.height };
}

// Rows = motions, columns = key frames spread evenly over each motion.
function renderSheet(
  motions: ViewMotion[],
  file: string,
  panel: { w: number; h: number },
  columns: number,
  text: boolean
): Size {
  const header = text ? 26 : 0;
  const bitmap = PImage.make(panel.w * columns, (panel.h + header) * motions.length);
  bitmap.data.fill(255);
  const ctx = bitmap.getContext('2d');
  motions.forEach((m, row) => {
    const top = row * (panel.h + header);
    if (text) {
      ctx.fillStyle = '#222222';
      ctx.font = `15px '${FONT_FAMILY}'`;
      ctx.fillText(m.caption, 8, top + 18);
    }
    for (let c = 0; c < columns; c++) {
      const f = columns === 1 ? 0 : Math.round((c * (m.frames - 1)) / (columns - 1));
      drawFigure(ctx, m, f, { x: c * panel.w, y: top + header, w: panel.w, h: panel.h }, { caption: false, text });
    }
    if (row > 0) {
      ctx.fillStyle = '#bbbbbb';
      ctx.fillRect(0, top, bitmap.width, 1);
    }
  });
  writePng(file, bitmap);
  return { frames: columns * motions.length, width: bitmap.width, height: bitmap.height };
}

export async function renderMotions(motions: ViewMotion[], file: string, o: RenderOptions = {}): Promise<RenderResult> {
  const ext = extname(file).toLowerCase();
  if (!FORMATS.includes(ext))
    throw new TorchmotionError(`render: cannot write '${file}': the output must end in ${FORMATS.join(', ')}`);
  check(motions, o);
  const text = await loadFont();
  mkdirSync(dirname(file) || '.', { recursive: true });
  const given = { width: o.width, height: o.height, fps: o.fps, keyframes: o.keyframes, ffmpeg: o.ffmpeg };
  const format = ext.slice(1) as RenderResult['format'];
  let size: Size;
  if (format === 'png') {
    const s = renderSettings.png.parse(given);
    size = renderSheet(motions, file, { w: s.width, h: s.height }, s.keyframes, text);
  } else if (format === 'gif') {
    const s = renderSettings.gif.parse(given);
    size = renderGif(motions, file, { w: s.width, h: s.height }, s.fps, text);
  } else {
    const s = renderSettings.mp4.parse(given);
    size = await renderMp4(motions, file, { w: s.width, h: s.height }, s.fps, text, s.ffmpeg);
  }
  return { file, format, ...size, bytes: statSync(file).size };
}
