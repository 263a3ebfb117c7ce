// The report's bar charts as inline SVG. The geometry is exported so the browser test can check that the pixels of
// each bar sit where its count says.
import { SvgPainter } from '../plot/painter.js';

export const CHART = { width: 360, height: 218, left: 44, right: 10, top: 36, bottom: 42 } as const;
export const HCHART = { width: 360, rowHeight: 18, left: 118, right: 46, top: 26, bottom: 8 } as const;
export const BAR_COLOR = '#1f77b4';
export const BACKGROUND = '#ffffff';

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v >= 10 ? v.toFixed(0) : v.toFixed(2));

// Bar i of n over the plot box: [x, y, w, h] in the chart's own pixels (y down).
export function barRect(i: number, n: number, value: number, max: number): [number, number, number, number] {
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  const slot = plotW / n;
  const h = max > 0 ? (value / max) * plotH : 0;
  return [CHART.left + i * slot + slot * 0.1, CHART.top + plotH - h, slot * 0.8, h];
}

export function hbarRect(i: number, value: number, max: number): [number, number, number, number] {
  const plotW = HCHART.width - HCHART.left - HCHART.right;
  const w = max > 0 ? (value / max) * plotW : 0;
  return [HCHART.left, HCHART.top + i * HCHART.rowHeight + 2, w, HCHART.rowHeight - 4];
}

function svg(p: SvgPainter, width: number, height: number, chart: string): string {
  return p.document(width, height).replace('<svg ', `<svg data-chart="${chart}" `);
}

// Vertical bars with a label under each (every other one when crowded) and the count above non-empty ones.
export function barChart(id: string, title: string, labels: string[], values: number[], unit: string): string {
  const p = new SvgPainter();
  p.rect(0, 0, CHART.width, CHART.height, BACKGROUND);
  p.text(CHART.left, 16, title, { size: 13 });
  const max = Math.max(0, ...values);
  const base = CHART.height - CHART.bottom;
  p.line(CHART.left, base + 0.5, CHART.width - CHART.right, base + 0.5, '#888888');
  const every = labels.length > 9 ? 2 : 1;
  values.forEach((v, i) => {
    const [x, y, w, h] = barRect(i, values.length, v, max);
    if (h > 0) p.rect(x, y, w, h, BAR_COLOR);
    if (v > 0 && values.length <= 16) p.text(x + w / 2, y - 3, fmt(v), { anchor: 'middle', size: 9, color: '#444444' });
    if (i % every === 0) p.text(x + w / 2, base + 13, labels[i], { anchor: 'middle', size: 9, color: '#444444' });
  });
  p.text(CHART.left + (CHART.width - CHART.left - CHART.right) / 2, CHART.height - 6, unit, {
    anchor: 'middle',
    size: 10,
    color: '#666666',
  });
  return svg(p, CHART.width, CHART.height, id);
}

// Horizontal bars, one row per label, the value at the end of each.
export function hbarChart(
  id: string,
  title: string,
  labels: string[],
  values: number[],
  format: (v: number) => string = fmt
): string {
  const height = HCHART.top + labels.length * HCHART.rowHeight + HCHART.bottom;
  const p = new SvgPainter();
  p.rect(0, 0, HCHART.width, height, BACKGROUND);
  p.text(8, 16, title, { size: 13 });
  const max = Math.max(0, ...values);
  values.forEach((v, i) => {
    const [x, y, w, h] = hbarRect(i, v, max);
    p.text(x - 6, y + h - 3, labels[i], { anchor: 'end', size: 11, color: '#333333' });
    if (w > 0) p.rect(x, y, w, h, BAR_COLOR);
    p.text(x + w + 4, y + h - 3, format(v), { size: 10, color: '#444444' });
  });
  return svg(p, HCHART.width, height, id);
}
