// `torchmotion plot`: the curves of one or more training runs overlaid, from their metrics.jsonl — loss and
// learning rate, held-out MPJPE and codebook usage (tokenizer runs with train.evalEvery), next-token accuracy
// (text-to-motion runs), retrieval accuracy (evaluator runs), the PFNN's output error, each training curve beside its
// held-out one.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';

import * as PImage from 'pureimage';

import { TorchmotionError } from '../errors.js';
import { loadFont } from '../render/font.js';
import { writePng } from '../render/png.js';
import { MetricsLog } from '../train/metrics.js';
import { drawLineChart, smooth, type ChartOptions, type Series } from './chart.js';
import { CanvasPainter, SvgPainter, type Painter } from './painter.js';

interface Run {
  name: string;
  steps: Array<Record<string, number>>;
  evals: Array<Record<string, number>>;
}

// A panel draws one or more lines per run; a training line and its held-out twin share a panel, so over-fitting
// shows as the two parting.
interface Line {
  source: 'steps' | 'evals';
  key: string;
  label?: string;
  smoothed?: boolean;
}
interface Panel {
  lines: Line[];
  title: string;
  yLabel: string;
  logY?: boolean;
}

// A training metric (smoothed) against its held-out counterpart.
const trainVsHeldOut = (step: string, evaluation: string, train = 'train'): Line[] => [
  { source: 'steps', key: step, label: train, smoothed: true },
  { source: 'evals', key: evaluation, label: 'held-out' },
];

const PANELS: Panel[] = [
  {
    lines: trainVsHeldOut('loss', 'loss'),
    title: 'Loss',
    yLabel: 'loss',
    logY: true,
  },
  { lines: [{ source: 'steps', key: 'lr' }], title: 'Learning rate', yLabel: 'lr' },
  { lines: [{ source: 'evals', key: 'mpjpeMm' }], title: 'Held-out MPJPE', yLabel: 'mm' },
  { lines: [{ source: 'evals', key: 'usagePercent' }], title: 'Held-out codebook usage', yLabel: '% of codes' },
  { lines: [{ source: 'steps', key: 'codesUsed', smoothed: true }], title: 'Codes used per batch', yLabel: 'codes' },
  {
    lines: trainVsHeldOut('accuracy', 'accuracy'),
    title: 'Next-token accuracy',
    yLabel: 'accuracy',
  },
  {
    lines: trainVsHeldOut('inBatchAccuracy', 'batchR1'),
    title: 'Retrieval top-1 in batches of 32',
    yLabel: 'share',
  },
  {
    lines: trainVsHeldOut('mse', 'mse', 'train (dropout)'),
    title: 'PFNN output MSE (normalised)',
    yLabel: 'mse',
    logY: true,
  },
];

const CHART = { w: 640, h: 340 };

function readRun(path: string): { file: string; run: Omit<Run, 'name'> } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'metrics.jsonl') : path;
  if (!existsSync(file))
    throw new TorchmotionError(
      `${path}: no metrics.jsonl found (give a training run folder, e.g. runs/main/tokenizer)`
    );
  let rows: Array<Record<string, number | string>>;
  try {
    rows = MetricsLog.read(file) as Array<Record<string, number | string>>;
  } catch (err) {
    throw new TorchmotionError(`${file}: not valid JSON lines (${(err as Error).message})`);
  }
  if (rows.length === 0) throw new TorchmotionError(`${file}: no metrics yet (the run has not finished a step)`);
  const numeric = (r: Record<string, number | string>) => r as Record<string, number>;
  return {
    file,
    run: {
      steps: rows.filter((r) => r.kind === undefined).map(numeric),
      evals: rows.filter((r) => r.kind === 'eval').map(numeric),
    },
  };
}

// Short distinct names: the run folder, with its parent when two runs share a folder name.
function names(files: string[]): string[] {
  const dirs = files.map((f) => dirname(resolve(f)));
  const short = dirs.map((d) => basename(d));
  return dirs.map((d, i) =>
    short.filter((s) => s === short[i]).length > 1 ? `${basename(dirname(d))}/${short[i]}` : short[i]
  );
}

export function readRuns(paths: string[]): Run[] {
  if (paths.length === 0) throw new TorchmotionError('plot: give at least one run folder');
  const read = paths.map(readRun);
  const labels = names(read.map((r) => r.file));
  return read.map((r, i) => ({ name: labels[i], ...r.run }));
}

function seriesOf(runs: Run[], panel: Panel): Series[] {
  return runs
    .flatMap((run) =>
      panel.lines.map((line) => {
        const points = run[line.source]
          .filter((r) => typeof r[line.key] === 'number')
          .map((r): [number, number] => [r.step + 1, r[line.key]]);
        const name = line.label && panel.lines.length > 1 ? `${run.name} ${line.label}` : run.name;
        return { name, points: line.smoothed ? smooth(points, Math.max(1, Math.round(points.length / 40))) : points };
      })
    )
    .filter((s) => s.points.length > 0);
}

export interface PlotResult {
  file: string;
  panels: string[];
  runs: string[];
}

export async function plotRuns(paths: string[], out: string): Promise<PlotResult> {
  const ext = extname(out).toLowerCase();
  if (ext !== '.svg' && ext !== '.png')
    throw new TorchmotionError(`plot: cannot write '${out}': the output must end in .svg or .png`);
  const runs = readRuns(paths);
  const charts = PANELS.map((panel) => ({ panel, series: seriesOf(runs, panel) })).filter((c) => c.series.length > 0);
  const cols = Math.min(2, charts.length);
  const width = CHART.w * cols;
  const height = CHART.h * Math.ceil(charts.length / cols);
  const draw = (p: Painter) =>
    charts.forEach(({ panel, series }, i) => {
      const o: ChartOptions = { title: panel.title, xLabel: 'step', yLabel: panel.yLabel, logY: panel.logY };
      drawLineChart(p, series, o, {
        x: (i % cols) * CHART.w,
        y: Math.floor(i / cols) * CHART.h,
        w: CHART.w,
        h: CHART.h,
      });
    });
  mkdirSync(dirname(out) || '.', { recursive: true });
  if (ext === '.svg') {
    const svg = new SvgPainter();
    draw(svg);
    writeFileSync(out, svg.document(width, height));
  } else {
    const bitmap = PImage.make(width, height);
    bitmap.data.fill(255);
    draw(new CanvasPainter(bitmap.getContext('2d'), await loadFont()));
    writePng(out, bitmap);
  }
  return { file: out, panels: charts.map((c) => c.panel.title), runs: runs.map((r) => r.name) };
}
