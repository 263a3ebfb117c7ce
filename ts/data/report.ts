// `torchmotion data report`: one self-contained HTML page per dataset root, a section per subset — clips and hours,
// length histogram, root speed / pelvis height / turning distributions, motion types, example captions and a small
// contact-sheet render of a few clips. Everything is inline (SVG charts, PNG renders as data URIs): no network.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { renderMotions } from '../render/render.js';
import { loadViewMotion } from '../view/motions.js';
import { clipFeatures, type ClipFeatures } from './clip-features.js';
import { captionsFor } from './dataset.js';
import { motionDir, motionFile } from './layout.js';
import { explainTyping, MOTION_TYPES, typeClip } from './motion-types.js';
import { barChart, hbarChart } from './report-charts.js';
import { datasetStats, type Distribution, type StatsOptions, type SubsetStats } from './stats.js';

export interface ReportOptions extends StatsOptions {
  renders?: number;
  title?: string;
}
export const reportSettings = z
  .object({
    renders: z.number().int().nonnegative().default(3), // example clips rendered per subset
  })
  .strict();
export interface DatasetReport {
  root: string;
  subsets: Record<string, SubsetStats>;
  renders: Record<string, string[]>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const DISTRIBUTIONS: Array<{ key: Distribution; title: string; unit: string }> = [
  { key: 'rootSpeed', title: 'Root speed (clip mean)', unit: 'm/s' },
  { key: 'pelvisHeight', title: 'Pelvis height (clip mean)', unit: 'm' },
  { key: 'turningDegPerSec', title: 'Turning rate (clip mean)', unit: '°/s' },
];

// Up to n example clips, one per motion type in order of how common the type is, then seconds of the same types.
function pickRenders(s: SubsetStats, n: number): Array<{ name: string; type: string }> {
  const byType = [...MOTION_TYPES].sort((a, b) => s.motionTypes.counts[b] - s.motionTypes.counts[a]);
  const queues = byType.map((t) => s.examples.filter((e) => e.type === t));
  const out: Array<{ name: string; type: string }> = [];
  for (let round = 0; out.length < n && queues.some((q) => q.length > round); round++) {
    for (const q of queues) if (q[round] && out.length < n) out.push(q[round]);
  }
  return out;
}

async function renderExamples(root: string, clips: Array<{ name: string; type: string }>): Promise<string | undefined> {
  if (clips.length === 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tm-report-'));
  try {
    const motions = clips.map((c) => loadViewMotion(motionFile(root, c.name), {}, `${c.name} (${c.type})`));
    const file = join(dir, 'examples.png');
    await renderMotions(motions, file, { width: 110, height: 140, keyframes: 6 });
    return `data:image/png;base64,${readFileSync(file).toString('base64')}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function buildDatasetReport(
  root: string,
  o: ReportOptions = {}
): Promise<DatasetReport & { images: Record<string, string> }> {
  const subsets = datasetStats(root, o);
  if (Object.keys(subsets).length === 0)
    throw new TorchmotionError(`${motionDir(root)}: no .npy motions found to report on`);
  const renders: Record<string, string[]> = {};
  const images: Record<string, string> = {};
  for (const [name, s] of Object.entries(subsets)) {
    const picked = pickRenders(s, reportSettings.parse({ renders: o.renders }).renders);
    renders[name] = picked.map((p) => p.name);
    const image = await renderExamples(root, picked);
    if (image) images[name] = image;
  }
  return { root, subsets, renders, images };
}

function subsetSection(name: string, s: SubsetStats, image: string | undefined, index: number): string {
  const id = `s${index}`;
  const types = MOTION_TYPES.filter((t) => s.motionTypes.counts[t] > 0).sort(
    (a, b) => s.motionTypes.counts[b] - s.motionTypes.counts[a]
  );
  const lengths = Object.entries(s.lengthHistogram);
  const charts = [
    barChart(
      `${id}-length`,
      'Clip length',
      lengths.map(([k]) => k.replace(/s$/, '')),
      lengths.map(([, v]) => v),
      'seconds'
    ),
    ...DISTRIBUTIONS.map((d) => {
      const h = s.distributions[d.key];
      const labels = h.edges.map((e, i) => (i === h.edges.length - 1 ? `${e}+` : String(e)));
      return barChart(`${id}-${d.key}`, d.title, labels, h.counts, d.unit);
    }),
    hbarChart(
      `${id}-types`,
      `Motion types (${s.motionTypes.fromCaptions} from captions, ${s.motionTypes.fromMotion} from motion)`,
      types,
      types.map((t) => s.motionTypes.counts[t])
    ),
  ];
  const captions = s.exampleCaptions.length
    ? `<ul class="captions">${s.exampleCaptions.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>`
    : '<p class="note">No captions in this subset: motion types come from motion features alone.</p>';
  const rejected = s.rejected.count
    ? `<p class="note">${s.rejected.count} file(s) not counted (unreadable or NaN/Inf), e.g. ` +
      `${esc(s.rejected.examples[0].name)}: ${esc(s.rejected.examples[0].reason)}</p>`
    : '';
  return `<section id="${id}" data-subset="${esc(name)}">
<h2>${esc(name)}</h2>
<p class="facts">${s.clips.toLocaleString('en')} clips · ${s.hours.toFixed(2)} h · \
${s.motion.mirrored.toLocaleString('en')} mirrored ·
${s.captionsPerClip.mean.toFixed(1)} captions per captioned clip, ${s.captionsPerClip.withoutCaptions} clips \
without · vocabulary ${s.vocabulary} words ·
mean root speed ${s.motion.rootSpeed.toFixed(2)} m/s, pelvis ${s.motion.pelvisHeight.toFixed(2)} m, \
turning ${s.motion.turningDegPerSec.toFixed(1)} °/s</p>
${rejected}
<div class="charts">${charts.join('\n')}</div>
<h3>Example captions</h3>
${captions}
${image ? `<h3>Example clips</h3>${exampleImage(name, image)}` : ''}
</section>`;
}

// The key frames of a subset's example clips.
function exampleImage(name: string, image: string): string {
  return `<img class="render" alt="key frames of example clips of ${esc(name)}" src="${image}">`;
}

export function reportHtml(r: DatasetReport & { images: Record<string, string> }, title?: string): string {
  const names = Object.keys(r.subsets);
  const clips = names.map((n) => r.subsets[n].clips);
  const hours = names.map((n) => r.subsets[n].hours);
  const data = JSON.stringify({ root: r.root, subsets: r.subsets, renders: r.renders }).replace(/</g, '\\u003c');
  const total = clips.reduce((a, b) => a + b, 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(title ?? `Dataset report: ${r.root}`)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1180px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts svg { border: 1px solid #e3e3e3; }
.facts, .note { color: #444; } .note { font-style: italic; }
.captions li { margin: 2px 0; } .render { max-width: 100%; border: 1px solid #e3e3e3; }
section { border-top: 1px solid #ccc; margin-top: 24px; }
</style></head><body>
<h1>${esc(title ?? 'Dataset report')}</h1>
<p class="facts">${esc(r.root)} · ${names.length} subset(s) · ${total.toLocaleString('en')} clips ·
${hours.reduce((a, b) => a + b, 0).toFixed(2)} h. Motion types: a lexicon over the captions, \
rules over motion features where a clip has
none (docs/datasets.md; <code>torchmotion data report &lt;root&gt; --explain &lt;clip&gt;</code> \
says why a clip got its type).</p>
<div class="charts" id="overview">
${hbarChart('overview-clips', 'Clips per subset', names, clips)}
${hbarChart('overview-hours', 'Hours per subset', names, hours, (v) => v.toFixed(2))}
</div>
${names.map((n, i) => subsetSection(n, r.subsets[n], r.images[n], i)).join('\n')}
<script type="application/json" id="report-data">${data}</script>
</body></html>
`;
}

// Why one clip got its motion type: the matched words of each caption and the votes, or the feature rule.
export function explainClip(root: string, name: string): string {
  const file = motionFile(root, name);
  if (!existsSync(file))
    throw new TorchmotionError(
      `--explain ${name}: no ${file}; give a clip name as the split files list it (e.g. MotionGV/folder1/000001)`
    );
  const f = clipFeatures(file);
  if ('reason' in f) throw new TorchmotionError(`${file}: cannot be typed: ${f.reason}`);
  const captions = (captionsFor(root, name) ?? []).map((c) => c.text);
  return explainTyping(name, typeClip(captions, f as ClipFeatures), f as ClipFeatures);
}
