// npm run bench:t2m — the 44M text-to-motion decoder (vocabulary 64,002, text width 2048) against the PyTorch
// reference (scripts/reference/t2m.py bench), both on one pinned thread: a training step on batch 8 × 301, greedy
// generation of 50 and 150 tokens for one prompt, and 8 prompts in one batch. Writes bench-results/t2m.json and the
// table between the t2m markers in docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { findPython, root, writeDocBlock, writeResultJson } from './results.js';

const python = findPython();
const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TORCHMOTION_THREADS: '1' };
function run(cmd: string, args: string[]): Record<string, number> {
  const [c, a] = taskset ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  console.log(JSON.stringify(out));
  return out;
}
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const ref = {
  train: run(python, ['scripts/reference/t2m.py', 'bench', 'train', '3']),
  gen50: run(python, ['scripts/reference/t2m.py', 'bench', 'generate', '50']),
  gen150: run(python, ['scripts/reference/t2m.py', 'bench', 'generate', '150']),
};
const ours = {
  train: run(tsx, ['scripts/bench/t2m-run.ts', 'train', '3']),
  trainRecompute: run(tsx, ['scripts/bench/t2m-run.ts', 'train', '3', 'recompute']),
  gen50: run(tsx, ['scripts/bench/t2m-run.ts', 'generate', '1', '50']),
  gen150: run(tsx, ['scripts/bench/t2m-run.ts', 'generate', '1', '150']),
  batch8: run(tsx, ['scripts/bench/t2m-run.ts', 'generate', '8', '150']),
};
const f = (x: number, d = 2) => x.toFixed(d);
const perPrompt = ref.gen150.seconds;
const lines = [
  `Command: \`npm run bench:t2m\` (${new Date().toISOString().slice(0, 10)}). Machine: ${cpus()[0]?.model ?? 'CPU'}, ` +
    `one pinned thread (taskset, OMP and OpenBLAS = 1);`,
  'LibTorch 1.13.1 + OpenBLAS; reference: python3-torch 1.13.1 running scripts/reference/t2m.py. ' +
    '44M config (93,858,304 parameters),',
  'vocabulary 64,002, text width 2048. The reference computes the 64,001-way head and ' +
    'cross-entropy on all 300 positions and',
  'generates without a KV cache; torchmotion runs the head only on code and END positions, ' +
    'a chunk of rows at a time, and',
  'generates with the cache, packed-panel projections (AVX-512 here) and a single-query attention kernel.',
  '',
  '| measurement | reference | torchmotion | speed-up | peak RSS reference / torchmotion (MB) |',
  '|---|---:|---:|---:|---:|',
  `| training step, batch 8 × 301 (median of 3) | ${f(ref.train.medianSeconds)} s | ` +
    `${f(ours.train.medianSeconds)} s | ${f(ref.train.medianSeconds / ours.train.medianSeconds)}× | ` +
    `${f(ref.train.peakRssMB, 0)} / ${f(ours.train.peakRssMB, 0)} |`,
  `| training step with \`train.recompute\` (activations recomputed in backward) | ` +
    `${f(ref.train.medianSeconds)} s | ${f(ours.trainRecompute.medianSeconds)} s | ` +
    `${f(ref.train.medianSeconds / ours.trainRecompute.medianSeconds)}× | ${f(ref.train.peakRssMB, 0)} / ` +
    `${f(ours.trainRecompute.peakRssMB, 0)} |`,
  `| greedy, 1 prompt, 50 tokens | ${f(ref.gen50.seconds)} s | ${f(ours.gen50.seconds)} s | ` +
    `${f(ref.gen50.seconds / ours.gen50.seconds)}× | ${f(ref.gen50.peakRssMB, 0)} / ${f(ours.gen50.peakRssMB, 0)} |`,
  `| greedy, 1 prompt, 150 tokens | ${f(ref.gen150.seconds)} s | ${f(ours.gen150.seconds)} s | ` +
    `${f(ref.gen150.seconds / ours.gen150.seconds)}× | ${f(ref.gen150.peakRssMB, 0)} / ` +
    `${f(ours.gen150.peakRssMB, 0)} |`,
  `| 8 prompts in one batch, 150 tokens each | ${f(8 * perPrompt)} s (8 × one prompt) | ${f(ours.batch8.seconds)} s ` +
    `| ${f((8 * perPrompt) / ours.batch8.seconds)}× per-prompt throughput | — / ${f(ours.batch8.peakRssMB, 0)} |`,
];
writeResultJson('t2m', { ref, ours });
writeDocBlock('t2m', 'Text-to-motion decoder (issue 6)', lines);
console.log(lines.join('\n'));
