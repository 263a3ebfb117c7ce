// One stick figure in one panel: a perspective camera that follows the pelvis over the ground, a grid, the root
// trajectory, bones sorted far to near, and the caption. Drawn with the Canvas 2D API (pureimage in Node).
import type { Context } from 'pureimage';

import { CHAINS, JOINTS } from '../motion/skeleton.js';
import { FPS } from '../motion/repr272.js';
import { cross, dot, type Vec3 } from '../motion/rotation.js';
import type { ViewMotion } from '../view/motions.js';
import { FONT_FAMILY } from './font.js';

export const COLORS = {
  right: '#d62728',
  left: '#1f77b4',
  spine: '#3a3a3a',
  grid: '#d5d5d5',
  path: '#f0b27a',
  pathDone: '#e67e22',
  text: '#222222',
  faint: '#888888',
};

// Chains 0 and 3 are the right leg and arm, 1 and 4 the left ones (ts/motion/skeleton.ts).
const CHAIN_COLOR = [COLORS.right, COLORS.left, COLORS.spine, COLORS.right, COLORS.left];

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface FigureOptions {
  caption: boolean;
  text: boolean;
}

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const unit = (a: Vec3): Vec3 => {
  const n = Math.hypot(...a);
  return [a[0] / n, a[1] / n, a[2] / n];
};

// Seen from the front-left (the character starts facing +Z, its left is +X), slightly from above.
const AZIMUTH = (30 * Math.PI) / 180;
const ELEVATION = (18 * Math.PI) / 180;
const DISTANCE = 3.9;
const LOOK_HEIGHT = 0.85;
const CAPTION_HEIGHT = 40;

export class FollowCamera {
  private readonly eye: Vec3;
  private readonly right: Vec3;
  private readonly up: Vec3;
  private readonly forward: Vec3;
  private readonly focal: number;
  private readonly cx: number;
  private readonly cy: number;

  constructor(target: Vec3, view: Rect) {
    const dir: Vec3 = [
      Math.sin(AZIMUTH) * Math.cos(ELEVATION),
      Math.sin(ELEVATION),
      Math.cos(AZIMUTH) * Math.cos(ELEVATION),
    ];
    this.eye = [target[0] + DISTANCE * dir[0], target[1] + DISTANCE * dir[1], target[2] + DISTANCE * dir[2]];
    this.forward = unit(sub(target, this.eye));
    this.right = unit(cross(this.forward, [0, 1, 0]));
    this.up = cross(this.right, this.forward);
    this.focal = Math.min(view.w * 1.9, view.h * 1.25);
    this.cx = view.x + view.w / 2;
    this.cy = view.y + view.h * 0.5;
  }

  // Screen position and depth; depth ≤ 0 is behind the camera.
  project(p: Vec3): { x: number; y: number; depth: number } {
    const d = sub(p, this.eye);
    const depth = dot(d, this.forward);
    const s = this.focal / Math.max(depth, 1e-3);
    return { x: this.cx + dot(d, this.right) * s, y: this.cy - dot(d, this.up) * s, depth };
  }

  pixelsPerMetre(depth: number): number {
    return this.focal / Math.max(depth, 1e-3);
  }
}

const joint = (m: ViewMotion, t: number, j: number): Vec3 => {
  const o = (t * JOINTS + j) * 3;
  return [m.joints[o], m.joints[o + 1], m.joints[o + 2]];
};

function strokeLine(
  ctx: Context,
  a: { x: number; y: number },
  b: { x: number; y: number },
  color: string,
  width: number
): void {
  // pureimage cannot stroke a point (and says so on stdout)
  if (Math.abs(a.x - b.x) < 1e-6 && Math.abs(a.y - b.y) < 1e-6) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(a.x, a.y);
  ctx.lineTo(b.x, b.y);
  ctx.stroke();
}

function disc(ctx: Context, p: { x: number; y: number }, r: number, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
  ctx.fill();
}

function drawGrid(ctx: Context, cam: FollowCamera, centre: Vec3): void {
  const step = 0.5;
  const reach = 3;
  const x0 = Math.round(centre[0] / step) * step;
  const z0 = Math.round(centre[2] / step) * step;
  for (let k = -reach / step; k <= reach / step; k++) {
    const lines: Array<[Vec3, Vec3]> = [
      [
        [x0 + k * step, 0, z0 - reach],
        [x0 + k * step, 0, z0 + reach],
      ],
      [
        [x0 - reach, 0, z0 + k * step],
        [x0 + reach, 0, z0 + k * step],
      ],
    ];
    for (const [a, b] of lines) {
      const pa = cam.project(a);
      const pb = cam.project(b);
      if (pa.depth > 0.3 && pb.depth > 0.3) strokeLine(ctx, pa, pb, COLORS.grid, 1);
    }
  }
}

function drawTrajectory(ctx: Context, cam: FollowCamera, m: ViewMotion, t: number): void {
  const ground = (f: number) => {
    const p = joint(m, f, 0);
    return cam.project([p[0], 0, p[2]]);
  };
  const stride = Math.max(1, Math.floor(m.frames / 150));
  for (const [to, color] of [
    [m.frames - 1, COLORS.path],
    [t, COLORS.pathDone],
  ] as const) {
    if (to <= 0) continue;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let drawing = false;
    let last = { x: NaN, y: NaN };
    for (let f = 0; f < to + stride; f += stride) {
      const p = ground(Math.min(f, to));
      // Points near or behind the camera would project to long stray lines: lift the pen there.
      if (p.depth < 0.5) {
        drawing = false;
        continue;
      }
      // a standing root: no zero-length piece
      if (drawing && Math.abs(p.x - last.x) < 1e-6 && Math.abs(p.y - last.y) < 1e-6) continue;
      if (drawing) ctx.lineTo(p.x, p.y);
      else ctx.moveTo(p.x, p.y);
      drawing = true;
      last = p;
    }
    ctx.stroke();
  }
}

// Caption wrapped to the panel width, at most two lines (an ellipsis marks a cut).
function drawCaption(ctx: Context, text: string, view: Rect): void {
  ctx.fillStyle = COLORS.text;
  ctx.font = `14px '${FONT_FAMILY}'`;
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (ctx.measureText(next).width > view.w - 12 && line) {
      lines.push(line);
      line = w;
    } else line = next;
  }
  if (line) lines.push(line);
  if (lines.length > 2) lines.splice(1, lines.length - 1, `${lines[1]}…`);
  lines.forEach((l, i) => ctx.fillText(l, view.x + 6, view.y + 17 + i * 17));
}

// Draws frame t of m into view (the panel's background is already cleared).
export function drawFigure(ctx: Context, m: ViewMotion, t: number, view: Rect, o: FigureOptions): FollowCamera {
  const f = Math.min(Math.max(0, Math.round(t)), m.frames - 1);
  const pelvis = joint(m, f, 0);
  const body: Rect = o.caption
    ? { x: view.x, y: view.y + CAPTION_HEIGHT, w: view.w, h: view.h - CAPTION_HEIGHT }
    : view;
  const cam = new FollowCamera([pelvis[0], LOOK_HEIGHT, pelvis[2]], body);
  // Clip to the panel: the grid and a long trajectory would otherwise run into the neighbours.
  ctx.save();
  ctx.beginPath();
  ctx.rect(view.x, view.y, view.w, view.h);
  ctx.clip();
  drawGrid(ctx, cam, pelvis);
  drawTrajectory(ctx, cam, m, f);
  const bones: Array<{
    a: ReturnType<FollowCamera['project']>;
    b: ReturnType<FollowCamera['project']>;
    color: string;
  }> = [];
  CHAINS.forEach((chain, c) => {
    for (let k = 1; k < chain.length; k++) {
      bones.push({
        a: cam.project(joint(m, f, chain[k - 1])),
        b: cam.project(joint(m, f, chain[k])),
        color: CHAIN_COLOR[c],
      });
    }
  });
  bones.sort((u, v) => v.a.depth + v.b.depth - u.a.depth - u.b.depth);
  for (const { a, b, color } of bones) {
    if (a.depth <= 0.1 || b.depth <= 0.1) continue;
    const width = Math.max(2, 0.045 * cam.pixelsPerMetre((a.depth + b.depth) / 2));
    strokeLine(ctx, a, b, color, width);
    disc(ctx, a, width * 0.55, color);
    disc(ctx, b, width * 0.55, color);
  }
  const head = cam.project(joint(m, f, 15));
  if (head.depth > 0.1) disc(ctx, head, 0.09 * cam.pixelsPerMetre(head.depth), COLORS.spine);
  ctx.restore();
  if (o.text) {
    if (o.caption) drawCaption(ctx, m.caption, view);
    ctx.fillStyle = COLORS.faint;
    ctx.font = `12px '${FONT_FAMILY}'`;
    ctx.fillText(`${(f / FPS).toFixed(1)} s`, view.x + 6, view.y + view.h - 8);
  }
  return cam;
}
