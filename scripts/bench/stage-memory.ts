// Peak CPU memory (RSS) of every stage of the main job, per preset, for the README's "one consumer GPU, 32 GB RAM"
// reader: each stage runs as a child process of the real CLI (`node bin/torchmotion.js …`) with small step counts, on
// the demo dataset, in a temporary folder, with the threads pinned (--threads 2, OMP_NUM_THREADS=2,
// OPENBLAS_NUM_THREADS=2). Prints a Markdown table and writes the rows as JSON.
// Usage: npx tsx scripts/bench/stage-memory.ts [--out rows.json] [--data data/demo] [--only id,id] [--keep]
//
// How the peak is measured: scripts/bench/peak-rss.ts (VmHWM polled every ~50 ms). VmHWM counts every resident page,
// the mapped LibTorch/OpenBLAS libraries included (a floor of a few hundred MB that any stage pays), not only tensors;
// it is Linux-only (elsewhere the column reads n/a); and it is the CPU side only — on a GPU the model, gradients and
// AdamW state live in device memory instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { countParameters, type NativeT2MOptions } from '../../ts/t2m/config.js';
import { generateArgs, sets } from './cli-args.js';
import { measurePeak, POLL_MS, type Measured } from './peak-rss.js';

const repo = resolve(import.meta.dirname, '..', '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const outJson = process.argv.includes('--out') ? resolve(arg('out', '')) : undefined;
const data = arg('data', 'data/demo');
const only = process.argv.includes('--only') ? new Set(arg('only', '').split(',')) : undefined;
const keep = process.argv.includes('--keep');
const THREADS = 2;

const tmp = mkdtempSync(join(tmpdir(), 'tm-stage-memory-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  OMP_NUM_THREADS: String(THREADS),
  OPENBLAS_NUM_THREADS: String(THREADS),
  TORCHMOTION_THREADS: String(THREADS),
};
delete env.TORCHMOTION_DEBUG;
const cli = ['bin/torchmotion.js', '--threads', String(THREADS)];
const log = (line: string) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------- measuring

const measure = (id: string, args: string[], timeoutS: number): Promise<Measured> =>
  measurePeak([...cli, ...args], { cwd: repo, env, logFile: join(tmp, `${id}.log`), timeoutS });

// ---------------------------------------------------------------------------------------------------- the stages

const p = (name: string) => join(tmp, name);
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim()).length;
const fmt = (n: number) => n.toLocaleString('en-US');
const splitSize = (folder: string, split: string) => lines(join(data, 'split', 'version1', folder, `${split}.txt`));
// A training stage's arguments: the command, the demo data, its output folder p(id) and the `--set` overrides.
const train = (command: string[], id: string, values: Record<string, string | number>) => [
  ...command,
  '-d',
  data,
  '-o',
  p(id),
  ...sets(values),
];

function tokenizerParams(preset: string): string {
  const r = spawnSync(process.execPath, [...cli, 'tokenizer', 'params', '--config', preset, '--json'], {
    cwd: repo,
    env,
    encoding: 'utf8',
  });
  try {
    return fmt(JSON.parse(r.stdout).total);
  } catch {
    return '?';
  }
}

// The parameter count of a text-to-motion run, from the native options its checkpoint recorded (codebook and
// caption vocabulary as trained, not the preset's 64,000-code, embeddings-text reference shape).
function t2mParams(run: string): string {
  try {
    const dir = join(run, 'checkpoints');
    const last = readdirSync(dir)
      .filter((d) => d.startsWith('step-'))
      .sort()
      .pop()!;
    const state = JSON.parse(readFileSync(join(dir, last, 'state.json'), 'utf8')) as { native: NativeT2MOptions };
    return `${(countParameters(state.native).total / 1e6).toFixed(1)}M params`;
  } catch {
    return '? params';
  }
}

interface Stage {
  id: string;
  stage: string;
  args: string[];
  size: () => string; // evaluated after the run (parameter counts come from the checkpoint)
  timeoutS: number;
  needs?: string[]; // stage ids whose outputs this one reads
  why?: string; // what the timeout means, for the row
}

// What the main job (`torchmotion pipeline`, ts/pipeline.ts) runs, a few steps of each: evaluator small (batch 32,
// lr 5e-4), tokenizer small (batch 32 × 64, lr 4e-4, held-out evaluation on 60 clips), codes of every clip,
// text-to-motion small (batch 16, lr 6e-4, held-out evaluation), generation (4 s at most, 2 s at least, guidance 2),
// the evaluation on the test split (16 MultiModality captions × 5 samples, the untrained row). Then the larger presets.
const trainClips = () => splitSize('tokenizer_96', 'train');
const stages: Stage[] = [
  {
    id: 'index',
    stage: 'data index',
    timeoutS: 120,
    args: ['data', 'index', data, '--split', 'train', '--stage', 'tokenizer', '--report-dir', p('reports')],
    size: () => `demo, train split (${trainClips()} clips listed), headers only`,
  },
  {
    id: 'report',
    stage: 'data report',
    timeoutS: 300,
    args: ['data', 'report', data, '-o', p('report.html')],
    size: () => `demo, every clip, 3 renders per subset`,
  },
  {
    id: 'tok-small',
    stage: 'tokenizer train',
    timeoutS: 300,
    args: train(['tokenizer', 'train'], 'tok-small', {
      preset: 'small',
      'train.steps': 3,
      'train.batch': 32,
      'train.window': 64,
      'train.lr': '4e-4',
      'train.evalEvery': 3,
      'train.evalClips': 60,
    }),
    size: () =>
      `small (pipeline's; ${tokenizerParams('small')} params, 512 codes), batch 32 × 64, 3 steps + held-out eval`,
  },
  {
    id: 'tok-mm',
    stage: 'tokenizer train',
    timeoutS: 300,
    args: train(['tokenizer', 'train'], 'tok-mm', {
      preset: 'motionmillion',
      'train.steps': 3,
      'train.batch': 64,
      'train.window': 96,
    }),
    size: () => `motionmillion (${tokenizerParams('motionmillion')} params, 64,000 codes), batch 64 × 96, 3 steps`,
  },
  {
    id: 'ev',
    stage: 'evaluator train',
    timeoutS: 300,
    args: train(['evaluator', 'train'], 'ev', {
      'model.preset': 'small',
      'train.steps': 3,
      'train.batch': 32,
      'train.lr': '5e-4',
      'train.evalEvery': 3,
    }),
    size: () => `small (pipeline's), batch 32, 3 steps + held-out eval`,
  },
  // The pipeline evaluates every val clip (minFrames 0); the CLI takes a positive minimum, and 1 frame is the same set.
  {
    id: 'tok-eval',
    stage: 'tokenizer eval',
    timeoutS: 300,
    needs: ['tok-small', 'ev'],
    args: [
      'tokenizer',
      'eval',
      '--ckpt',
      p('tok-small'),
      '-d',
      data,
      '--split',
      'val',
      '--min-frames',
      '1',
      '--evaluator',
      p('ev'),
    ],
    size: () => `small, val split (${splitSize('tokenizer_96', 'val')} clips), + reconstruction FID`,
  },
  {
    id: 'encode',
    stage: 'tokenizer encode',
    timeoutS: 300,
    needs: ['tok-small'],
    args: ['tokenizer', 'encode', '--ckpt', p('tok-small'), '-d', data, '-o', p('codes'), '--split', 'all'],
    size: () => `small, all ${splitSize('t2m_60_300', 'all')} clips`,
  },
  {
    id: 't2m-small',
    stage: 't2m train',
    timeoutS: 300,
    needs: ['encode'],
    args: train(['t2m', 'train', '--codes', p('codes')], 't2m-small', {
      'model.preset': 'small',
      'model.text': 'builtin',
      'train.steps': 4,
      'train.batch': 16,
      'train.lr': '6e-4',
      'train.warmup': 0,
      'train.evalEvery': 4,
    }),
    size: () => `small (pipeline's; ${t2mParams(p('t2m-small'))}), builtin text, batch 16, 4 steps + held-out eval`,
  },
  {
    id: 't2m-44M',
    stage: 't2m train',
    timeoutS: 300,
    needs: ['encode'],
    args: train(['t2m', 'train', '--codes', p('codes')], 't2m-44M', {
      'model.preset': '44M',
      'model.text': 'builtin',
      'train.steps': 3,
      'train.batch': 8,
      'train.warmup': 0,
    }),
    size: () => `44M (${t2mParams(p('t2m-44M'))}), builtin text, batch 8, 3 steps`,
  },
  // One step took 36 s on the project's 2-core machine; 2 steps and the 3.8 GB checkpoint must end within 7 minutes.
  {
    id: 't2m-343M',
    stage: 't2m train',
    timeoutS: 420,
    needs: ['encode'],
    why: 'the 2 steps and the checkpoint did not end in 420 s',
    args: train(['t2m', 'train', '--codes', p('codes')], 't2m-343M', {
      'model.preset': '343M',
      'model.text': 'builtin',
      'train.steps': 2,
      'train.batch': 8,
      'train.warmup': 0,
    }),
    size: () => `343M (${t2mParams(p('t2m-343M'))}), builtin text, batch 8, 2 steps`,
  },
  {
    id: 'gen-small',
    stage: 't2m generate',
    timeoutS: 300,
    needs: ['t2m-small'],
    args: generateArgs(p('t2m-small'), p('gen-small'), ['--cfg', '2']),
    size: () => `small (pipeline's), 1 prompt, 2–4 s, guidance 2`,
  },
  {
    id: 'gen-343M',
    stage: 't2m generate',
    timeoutS: 300,
    needs: ['t2m-343M'],
    args: generateArgs(p('t2m-343M'), p('gen-343M'), ['--cfg', '2']),
    size: () => `343M, 1 prompt, 2–4 s, guidance 2`,
  },
  {
    id: 't2m-eval',
    stage: 't2m eval',
    timeoutS: 480,
    needs: ['t2m-small', 'ev'],
    args: [
      't2m',
      'eval',
      '--ckpt',
      p('t2m-small'),
      '--evaluator',
      p('ev'),
      '--split',
      'test',
      '--repeats',
      '2',
      '--mm-captions',
      '16',
      '--mm-samples',
      '5',
      '--untrained',
      '--seed',
      '0',
    ],
    size: () =>
      `small + evaluator small, test split (${splitSize('t2m_60_300', 'test')} clips), ` +
      `2 repeats, MM 16 × 5, + untrained row`,
  },
];

// ---------------------------------------------------------------------------------------------------- running

const machine =
  `${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ` +
  `${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, ` +
  `${process.platform}, Node ${process.versions.node}`;
const infoRun = spawnSync(process.execPath, [...cli, 'info', '--json'], { cwd: repo, env, encoding: 'utf8' });
let runtime: { torchVersion?: string; threads?: number; blasThreads?: number; blas?: string } = {};
try {
  runtime = JSON.parse(infoRun.stdout);
} catch {
  /* reported as unknown */
}
const threadsLine =
  `--threads ${THREADS}, OMP_NUM_THREADS=${THREADS}, OPENBLAS_NUM_THREADS=${THREADS} ` +
  `(LibTorch ${runtime.torchVersion ?? '?'} reports ${runtime.threads ?? '?'} intra-op, ` +
  `${runtime.blasThreads ?? '?'} BLAS threads; ${runtime.blas ?? 'BLAS ?'})`;

interface Row {
  id: string;
  stage: string;
  command: string;
  size: string;
  seconds?: number;
  peakMB?: number;
  status: string;
  note?: string;
}
const rows: Row[] = [];
const ok = new Set<string>();
const shown = (args: string[]) =>
  ['node', ...cli, ...args]
    .map((a) => a.split(tmp).join('$TMP'))
    .map((a) => (/[\s"'|]/.test(a) ? `"${a}"` : a))
    .join(' ');
const t0 = performance.now();
log(`machine: ${machine}\nthreads: ${threadsLine}\nwork folder: ${tmp}`);
for (const s of stages) {
  if (only && !only.has(s.id)) continue;
  const command = shown(s.args);
  const missing = (s.needs ?? []).filter((n) => !ok.has(n));
  if (missing.length) {
    rows.push({
      id: s.id,
      stage: s.stage,
      command,
      size: s.size(),
      status: 'skipped',
      note: `needs ${missing.join(', ')}, which did not complete`,
    });
    log(`[${s.id}] skipped: needs ${missing.join(', ')}`);
    continue;
  }
  log(`[${s.id}] ${command}`);
  const m = await measure(s.id, s.args, s.timeoutS);
  const passed = m.rc === 0 && !m.timedOut;
  if (passed) ok.add(s.id);
  const status = passed ? 'ok' : m.timedOut ? 'timed out' : 'failed';
  const note = passed
    ? undefined
    : m.timedOut
      ? `${s.why ?? 'did not end'}: stopped after ${s.timeoutS} s`
      : `exit ${m.rc ?? m.signal}: ${m.tail.split(tmp).join('$TMP')}`;
  rows.push({ id: s.id, stage: s.stage, command, size: s.size(), seconds: m.seconds, peakMB: m.peakMB, status, note });
  log(
    `[${s.id}] ${status}, ${m.seconds.toFixed(1)} s, peak RSS ${m.peakMB?.toFixed(0) ?? 'n/a'} ` +
      `MB${note ? `\n  ${note}` : ''}`
  );
}
const totalS = (performance.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------------- reporting

const cell = (s: string) => s.replace(/\|/g, '\\|');
const peakCell = (r: Row) => {
  if (r.status === 'skipped') return 'not measured (skipped)';
  const mb = r.peakMB === undefined ? 'n/a' : fmt(Math.round(r.peakMB));
  return r.status === 'ok' ? mb : `not measured (${r.status}; ${mb} MB when it ended)`;
};
const table = [
  '| stage | command (as run) | preset / size | wall s | peak RSS MB |',
  '|---|---|---|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.stage} | \`${cell(r.command)}\` | ${cell(r.size)} | ` +
      `${r.seconds === undefined ? '–' : r.seconds.toFixed(1)} | ${peakCell(r)} |`
  ),
].join('\n');
const notes = rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note!.replace(/\n/g, ' / ')}`);
console.log(
  [
    `Machine: ${machine}`,
    `Threads: ${threadsLine}`,
    `$TMP = a fresh folder under ${tmpdir()}; data = ${data}; peak RSS = last VmHWM read from ` +
      `/proc/<pid>/status every ${POLL_MS} ms`,
    '',
    table,
    '',
    ...(notes.length ? ['Not measured / failed:', ...notes, ''] : []),
    `Total wall time: ${totalS.toFixed(0)} s (${(totalS / 60).toFixed(1)} min)`,
  ].join('\n')
);

if (outJson) {
  mkdirSync(dirname(outJson), { recursive: true });
  writeFileSync(
    outJson,
    JSON.stringify(
      { machine, threads: threadsLine, runtime, data, pollMs: POLL_MS, totalSeconds: totalS, rows },
      null,
      2
    ) + '\n'
  );
  log(`rows: ${outJson}`);
}
if (keep) log(`kept: ${tmp}`);
else if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
