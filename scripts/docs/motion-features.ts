// The numbers behind the motion-type feature rules (docs/datasets.md): per content label of the demo's Bandai Namco
// clips, the median and range of each ClipFeatures value, the type the captions give and the type the features alone
// give, and how often the two agree. Usage: npx tsx scripts/docs/motion-features.ts [root (default data/demo)]
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { clipFeatures, type ClipFeatures } from '../../ts/data/clip-features.js';
import { captionsFor } from '../../ts/data/dataset.js';
import { typeClip } from '../../ts/data/motion-types.js';

const root = process.argv[2] ?? 'data/demo';
const base = join(root, 'motion_data', 'vector_272', 'BandaiNamco');
const KEYS = ['rootSpeed', 'handSpeed', 'footSpeed', 'pelvisHeightStd'] as const;
const rows: Array<{ content: string; f: ClipFeatures; byCaptions: string; byMotion: string }> = [];
for (const content of readdirSync(base).sort()) {
  for (const file of readdirSync(join(base, content)).sort()) {
    const name = `BandaiNamco/${content}/${file.replace(/\.npy$/, '')}`;
    const f = clipFeatures(join(base, content, file));
    if ('reason' in f) throw new Error(`${name}: ${f.reason}`);
    const captions = (captionsFor(root, name) ?? []).map((c) => c.text);
    rows.push({ content, f, byCaptions: typeClip(captions, f).type, byMotion: typeClip([], f).type });
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const tally = (v: string[]) =>
  Object.entries(v.reduce<Record<string, number>>((m, t) => ({ ...m, [t]: (m[t] ?? 0) + 1 }), {}))
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
console.log(
  `| content | clips | ${KEYS.map((k) => `${k} median [min–max]`).join(' | ')} | type from captions | ` +
    `type from motion alone |`
);
console.log(`|---|---:|${KEYS.map(() => '---').join('|')}|---|---|`);
for (const content of [...new Set(rows.map((r) => r.content))]) {
  const rs = rows.filter((r) => r.content === content);
  const cells = KEYS.map((k) => {
    const v = rs.map((r) => r.f[k]);
    return `${median(v).toFixed(2)} [${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}]`;
  });
  console.log(
    `| ${content} | ${rs.length} | ${cells.join(' | ')} | ${tally(rs.map((r) => r.byCaptions))} | ` +
      `${tally(rs.map((r) => r.byMotion))} |`
  );
}
const agree = rows.filter((r) => r.byCaptions === r.byMotion).length;
console.log(
  `\nfeature rules agree with the captions' type on ${agree} of ${rows.length} clips ` +
    `(${((100 * agree) / rows.length).toFixed(1)} %)`
);
