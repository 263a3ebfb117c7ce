import type { ParameterRow } from './model.js';

const n = (x: number) => x.toLocaleString('en-US');

export function formatParameterTable(rows: ParameterRow[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map(
    (r) =>
      `${r.name.padEnd(width)}  ${`(${r.shape.join(', ')})`.padEnd(16)} ` +
      `${n(r.count).padStart(11)}${r.trainable ? '' : '  frozen'}`
  );
  const total = rows.reduce((s, r) => s + r.count, 0);
  const trainable = rows.filter((r) => r.trainable).reduce((s, r) => s + r.count, 0);
  return [...lines, '', `total      ${n(total)}`, `trainable  ${n(trainable)}`].join('\n');
}
