// Line charts of training curves: several series overlaid, optional log scale, nice ticks and a legend. Used by
// `tokenizer compare` and `torchmotion plot`.
import type { Painter } from './painter.js';
import { SvgPainter } from './painter.js';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}
export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  width?: number;
  height?: number;
}
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function ticks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / n));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-12; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

const label = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3)));

export function drawLineChart(p: Painter, series: Series[], o: ChartOptions, box: Box): void {
  const m = { l: 64, r: 150, t: 44, b: 40 };
  const usable = (y: number) => Number.isFinite(y) && (!o.logY || y > 0);
  const pts = series.flatMap((s) => s.points).filter(([, y]) => usable(y));
  const xs = pts.map((q) => q[0]);
  const ys = pts.map((q) => (o.logY ? Math.log10(q[1]) : q[1]));
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!Number.isFinite(y0)) [y0, y1] = [0, 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const margin = (y1 - y0) * 0.05; // keep the extreme points off the frame
  [y0, y1] = [y0 - margin, y1 + margin];
  const left = box.x + m.l;
  const right = box.x + box.w - m.r;
  const top = box.y + m.t;
  const bottom = box.y + box.h - m.b;
  const X = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * (right - left);
  const Y = (y: number) => bottom - (((o.logY ? Math.log10(y) : y) - y0) / (y1 - y0)) * (bottom - top);
  p.rect(box.x, box.y, box.w, box.h, '#ffffff');
  p.text((left + right) / 2, box.y + 20, o.title, { anchor: 'middle', size: 15 });
  p.text(left - 8, top - 10, `${o.yLabel}${o.logY ? ' (log)' : ''}`, { size: 11, color: '#555' });
  for (const t of ticks(x0, x1)) p.text(X(t), bottom + 15, label(t), { anchor: 'middle', size: 11 });
  p.text((left + right) / 2, bottom + 32, o.xLabel, { anchor: 'middle', size: 12 });
  for (const t of ticks(y0, y1)) {
    const v = o.logY ? 10 ** t : t;
    p.line(left, Y(v), right, Y(v), '#eeeeee');
    p.text(left - 6, Y(v) + 4, label(v), { anchor: 'end', size: 11 });
  }
  p.line(left, bottom, right, bottom, '#333333');
  p.line(left, top, left, bottom, '#333333');
  series.forEach((s, i) => {
    const c = SERIES_COLORS[i % SERIES_COLORS.length];
    p.polyline(
      s.points.filter(([, y]) => usable(y)).map(([x, y]) => [X(x), Y(y)]),
      c,
      1.5
    );
    p.rect(right + 12, top + i * 18 - 2, 12, 3, c);
    p.text(right + 30, top + i * 18 + 3, s.name, { size: 12 });
  });
}

// One chart as an SVG document.
export function lineChart(series: Series[], o: ChartOptions): string {
  const w = o.width ?? 720;
  const h = o.height ?? 420;
  const p = new SvgPainter();
  drawLineChart(p, series, o, { x: 0, y: 0, w, h });
  return p.document(w, h);
}

// Moving average, for noisy per-step losses.
export function smooth(points: Array<[number, number]>, window: number): Array<[number, number]> {
  if (window <= 1) return points;
  return points.map(([x], i) => {
    const a = Math.max(0, i - window + 1);
    const slice = points.slice(a, i + 1);
    return [x, slice.reduce((s, q) => s + q[1], 0) / slice.length];
  });
}
