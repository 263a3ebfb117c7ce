// Small dependency-free SVG line charts: training curves for `tokenizer compare` and `torchmotion plot`.
export interface Series { name: string; points: Array<[number, number]> }
export interface ChartOptions { title: string; xLabel: string; yLabel: string; logY?: boolean; width?: number; height?: number }

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function ticks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / n));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-12; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 720;
  const H = o.height ?? 420;
  const m = { l: 70, r: 170, t: 40, b: 50 };
  const pts = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!o.logY || y > 0));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => (o.logY ? Math.log10(p[1]) : p[1]));
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!Number.isFinite(y0)) [y0, y1] = [0, 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const Y = (y: number) => H - m.b - (((o.logY ? Math.log10(y) : y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}${o.logY ? ' (log)' : ''}</text>`];
  for (const t of ticks(x0, x1)) parts.push(`<text x="${X(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  for (const t of ticks(y0, y1)) {
    const v = o.logY ? 10 ** t : t;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#eee"/>`,
      `<text x="${m.l - 6}" y="${Y(v) + 4}" text-anchor="end">${Number(v.toPrecision(3))}</text>`);
  }
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const d = s.points.filter(([, y]) => Number.isFinite(y) && (!o.logY || y > 0)).map(([x, y], k) => `${k ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.5"/>`,
      `<rect x="${W - m.r + 12}" y="${m.t + i * 18}" width="12" height="3" fill="${c}"/>`,
      `<text x="${W - m.r + 30}" y="${m.t + i * 18 + 5}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

// Moving average, for noisy per-step losses.
export function smooth(points: Array<[number, number]>, window: number): Array<[number, number]> {
  if (window <= 1) return points;
  return points.map(([x], i) => {
    const a = Math.max(0, i - window + 1);
    const slice = points.slice(a, i + 1);
    return [x, slice.reduce((s, p) => s + p[1], 0) / slice.length];
  });
}
