// npm run bench:tokenizer — torchmotion vs the PyTorch reference (scripts/reference/tokenizer.py) on the
// MotionMillion tokenizer, batch 64 × 96, fp32 CPU, 1 and 2 threads (OpenMP and OpenBLAS pinned alike): median of
// 5 steps after 2 warm-up steps, peak RSS, achieved GFLOP/s next to this machine's measured conv1d and matmul peaks.
// Writes bench-results/tokenizer.json and the table between the tokenizer markers in docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { findPython, root, TOKENIZER_GFLOP_PER_STEP, writeDocBlock, writeResultJson } from './results.js';

const steps = Number(process.env.BENCH_STEPS ?? 5);
const python = findPython();
const tsx = join(root, 'node_modules', '.bin', 'tsx');

// Threads are pinned three ways for both sides: OpenMP, OpenBLAS's own pool, and CPU affinity (taskset) so that
// n threads really get n cores and nothing more.
const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
function run(cmd: string, args: string[], threads: number): Record<string, number | null> {
  const env = {
    ...process.env,
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    TORCHMOTION_THREADS: String(threads),
  };
  const [c, a] = taskset
    ? ['taskset', ['-c', Array.from({ length: threads }, (_, i) => i).join(','), cmd, ...args]]
    : [cmd, args];
  const r = spawnSync(c, a, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

type Measured = Record<string, number | null>;
const rows: Array<{
  threads: number;
  peaks: Measured & { convPeak: number };
  ours: Measured;
  interleaved: Measured;
  refOneHot: Measured;
  refFixed: Measured;
}> = [];
for (const threads of [1, 2]) {
  const measured = run(tsx, ['scripts/bench/peaks.ts', String(threads)], threads);
  // The conv1d peak is the faster of LibTorch's convolution and torchmotion's own kernel on the same layer.
  const peaks = {
    ...measured,
    convPeak: Math.max(measured.conv as number, (measured.convTorchmotion as number | null) ?? 0),
  };
  const ours = run(tsx, ['scripts/bench/tokenizer-step.ts', String(threads), String(steps)], threads);
  // Again with the conv1d peak measured after every step in the same process (not the run above: its measurements
  // add to the process's peak RSS): this VM drifts over minutes, and a step is best compared with a peak taken beside
  // it.
  const interleaved = run(
    tsx,
    ['scripts/bench/tokenizer-step.ts', String(threads), String(steps), 'cpu', 'none', 'peaks'],
    threads
  );
  const refOneHot = run(
    python,
    ['scripts/reference/tokenizer.py', 'bench', String(threads), String(steps), 'onehot'],
    threads
  );
  const refFixed = run(
    python,
    ['scripts/reference/tokenizer.py', 'bench', String(threads), String(steps), 'bincount'],
    threads
  );
  rows.push({ threads, peaks, ours, interleaved, refOneHot, refFixed });
  console.log(JSON.stringify(rows.at(-1)));
}

const machine =
  `${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores; LibTorch 1.13.1 + OpenBLAS (Debian); ` +
  `reference: python3-torch 1.13.1`;
const f = (x: number, d = 2) => x.toFixed(d);
const table = [
  `Command: \`npm run bench:tokenizer\` (${new Date().toISOString().slice(0, 10)}). Machine: ${machine}.`,
  `MotionMillion tokenizer (11,349,782 parameters), batch 64 × 96 frames, fp32, AdamW; ` +
    `median of ${steps} steps after 2 warm-up steps;`,
  `one step = ${f(TOKENIZER_GFLOP_PER_STEP, 1)} GFLOP. "reference as shipped" fills the dense tokens × 64,000 ` +
    `one-hot used only to log codebook`,
  'usage; "reference fixed" logs the same numbers with bincount. torchmotion always counts ' +
    'with bincount. Threads pinned with',
  'OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and taskset on both sides.',
  '',
  '| threads | run | s / step | × reference as shipped | × reference fixed | GFLOP/s | % of conv1d peak | ' +
    '% of conv1d peak, interleaved | peak RSS (MB) |',
  '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const n = (v: number | null) => v as number;
  const line = (name: string, s: number, rss: number, interleaved: string) =>
    `| ${r.threads} | ${name} | ${f(s)} | ${f(n(r.refOneHot.medianSeconds) / s)} | ` +
    `${f(n(r.refFixed.medianSeconds) / s)} | ` +
    `${f(TOKENIZER_GFLOP_PER_STEP / s, 1)} | ${f((100 * TOKENIZER_GFLOP_PER_STEP) / s / r.peaks.convPeak, 0)} % | ` +
    `${interleaved} | ${f(rss, 0)} |`;
  const fraction = r.interleaved as unknown as { peakFractionMedian: number; medianSeconds: number };
  table.push(
    line(
      'torchmotion',
      n(r.ours.medianSeconds),
      n(r.ours.peakRssMB),
      `${f(100 * fraction.peakFractionMedian, 0)} % (${f(fraction.medianSeconds)} s)`
    )
  );
  table.push(line('reference as shipped (one-hot)', n(r.refOneHot.medianSeconds), n(r.refOneHot.peakRssMB), '—'));
  table.push(line('reference fixed (bincount)', n(r.refFixed.medianSeconds), n(r.refFixed.peakRssMB), '—'));
}
const own = (r: (typeof rows)[number]) =>
  r.peaks.convTorchmotion === null ? 'not available' : `${f(r.peaks.convTorchmotion as number, 1)} GFLOP/s`;
table.push(
  '',
  '"% of conv1d peak": against the faster conv1d of the peaks measured just before (below); ' +
    '"interleaved": the median over ' +
    "the steps of a second run of torchmotion's step (its median s / step in brackets) of each step's " +
    'GFLOP/s over the faster conv1d measured ' +
    'right after that step in the same process.',
  '',
  'Measured peaks (`measureThroughput`, same thread pinning): ' +
    rows
      .map(
        (r) =>
          `${r.threads} thread(s): conv1d 512→512 k3 forward ${f(r.peaks.conv as number, 1)} GFLOP/s ` +
          `with LibTorch's convolution, ` +
          `${own(r)} with torchmotion's kernel; matmul 1024³ ${f(r.peaks.matmul as number, 1)} GFLOP/s`
      )
      .join('; ') +
    '.'
);

writeResultJson('tokenizer', { machine, gflopPerStep: TOKENIZER_GFLOP_PER_STEP, rows });
writeDocBlock('tokenizer', 'Tokenizer training step (issue 5)', table);
console.log(table.join('\n'));
