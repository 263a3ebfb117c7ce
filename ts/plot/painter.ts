// Charts draw through this small interface, so one layout gives both an SVG file and a PNG (pureimage's canvas).
import type { Context } from 'pureimage';

import { FONT_FAMILY } from '../render/font.js';

export type Anchor = 'start' | 'middle' | 'end';

export interface Painter {
  rect(x: number, y: number, w: number, h: number, fill: string): void;
  line(x1: number, y1: number, x2: number, y2: number, stroke: string, width?: number): void;
  polyline(points: Array<[number, number]>, stroke: string, width?: number): void;
  text(x: number, y: number, s: string, o?: { anchor?: Anchor; size?: number; color?: string }): void;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const n = (v: number) => Number(v.toFixed(1));

export class SvgPainter implements Painter {
  readonly parts: string[] = [];

  rect(x: number, y: number, w: number, h: number, fill: string): void {
    this.parts.push(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="${fill}"/>`);
  }

  line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1): void {
    this.parts.push(
      `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${stroke}" stroke-width="${width}"/>`
    );
  }

  polyline(points: Array<[number, number]>, stroke: string, width = 1.5): void {
    if (points.length === 0) return;
    const d = points.map(([x, y], k) => `${k ? 'L' : 'M'}${n(x)},${n(y)}`).join(' ');
    this.parts.push(`<path d="${d}" fill="none" stroke="${stroke}" stroke-width="${width}"/>`);
  }

  text(x: number, y: number, s: string, o: { anchor?: Anchor; size?: number; color?: string } = {}): void {
    this.parts.push(
      `<text x="${n(x)}" y="${n(y)}" text-anchor="${o.anchor ?? 'start'}" font-size="${o.size ?? 12}" ` +
        `fill="${o.color ?? '#222'}">${esc(s)}</text>`
    );
  }

  document(width: number, height: number): string {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
      ...this.parts,
      '</svg>',
    ].join('\n');
  }
}

export class CanvasPainter implements Painter {
  constructor(
    private readonly ctx: Context,
    private readonly hasFont: boolean
  ) {}

  rect(x: number, y: number, w: number, h: number, fill: string): void {
    this.ctx.fillStyle = fill;
    this.ctx.fillRect(x, y, w, h);
  }

  line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1): void {
    this.polyline(
      [
        [x1, y1],
        [x2, y2],
      ],
      stroke,
      width
    );
  }

  polyline(points: Array<[number, number]>, stroke: string, width = 1.5): void {
    if (points.length < 2) return;
    this.ctx.strokeStyle = stroke;
    this.ctx.lineWidth = width;
    this.ctx.beginPath();
    points.forEach(([x, y], k) => (k ? this.ctx.lineTo(x, y) : this.ctx.moveTo(x, y)));
    this.ctx.stroke();
  }

  text(x: number, y: number, s: string, o: { anchor?: Anchor; size?: number; color?: string } = {}): void {
    if (!this.hasFont) return;
    this.ctx.font = `${o.size ?? 12}px '${FONT_FAMILY}'`;
    this.ctx.fillStyle = o.color ?? '#222222';
    const w = this.ctx.measureText(s).width;
    this.ctx.fillText(s, o.anchor === 'middle' ? x - w / 2 : o.anchor === 'end' ? x - w : x, y);
  }
}
