// PFNN training throughput (rows/s), torchmotion against the PyTorch reference script of the same network
// (scripts/reference/pfnn.py) side by side on this machine: 240 → 512 → 512 → 296 with 4 control points, batch 32,
// Adam, dropout 0.7, one and two threads. The reference runs the phase function twice: as the original and public
// ports do (every sample's weights blended, then a batched product) and with torchmotion's arithmetic (one product
// against the stacked control points, each sample's 4 outputs mixed). Rounds alternate the sides; medians.
// Usage: npx tsx scripts/bench/pfnn.ts [--steps 300] [--rounds 3] [--no-doc]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { PfnnModel } from '../../ts/pfnn/model.js';
import { Rng } from '../../ts/rng.js';
import { setThreads } from '../../ts/runtime.js';
import { cpuDescription, findPython, root, writeDocBlock, writeResultJson } from './results.js';

const { values: o } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const [steps, rounds] = [Number(o.steps), Number(o.rounds)];
const BATCH = 32;
const python = findPython();

async function torchmotion(threads: number): Promise<number> {
  setThreads(threads);
  const model = new PfnnModel({ input: 240, output: 296, hidden: 512, keep: 0.7 }, { seed: 0 });
  const rng = new Rng(1);
  const rows = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  const batch = {
    x: { data: rows(BATCH * 240), shape: [BATCH, 240] },
    y: { data: rows(BATCH * 296), shape: [BATCH, 296] },
    phase: { data: Float32Array.from({ length: BATCH }, () => rng.next()), shape: [BATCH] },
  };
  for (let i = 0; i < 5; i++) await model.step(batch, { lr: 1e-4, seed: i, threads });
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await model.step(batch, { lr: 1e-4, seed: i, threads });
  return (BATCH * steps) / ((performance.now() - t0) / 1000);
}

function pytorch(threads: number, mode: 'mix' | 'blend'): number {
  const n = mode === 'blend' ? 3 : steps; // the per-sample blend takes seconds a step
  const t = String(threads);
  const r = spawnSync(
    python,
    [join(root, 'scripts', 'reference', 'pfnn.py'), 'bench', t, String(n), String(BATCH), mode],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t } }
  );
  if (r.status !== 0) throw new Error(`pfnn.py bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!).rowsPerSecond;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const rows: string[] = [];
const raw: Record<string, number[]> = {};
for (const threads of [1, 2]) {
  const tm: number[] = [];
  const mix: number[] = [];
  const blend: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      tm.push(await torchmotion(threads));
      mix.push(pytorch(threads, 'mix'));
    } else {
      mix.push(pytorch(threads, 'mix'));
      tm.push(await torchmotion(threads));
    }
  }
  blend.push(pytorch(threads, 'blend'));
  Object.assign(raw, { [`torchmotion-${threads}`]: tm, [`mix-${threads}`]: mix, [`blend-${threads}`]: blend });
  const [a, b, c] = [median(tm), median(mix), median(blend)];
  rows.push(
    `| ${threads} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(1)}× | ` +
      `${c.toFixed(1)} | ${(a / c).toFixed(0)}× |`
  );
}
const lines = [
  `Command: \`npx tsx scripts/bench/pfnn.ts --steps ${steps} --rounds ${rounds}\` ` +
    `(${new Date().toISOString().slice(0, 10)}). Machine: ${cpuDescription()}; ` +
    'LibTorch 1.13.1 (Debian) + OpenBLAS; reference: python3-torch 1.13.1 running scripts/reference/pfnn.py. ' +
    'The network 240 → 512 → 512 → 296 ' +
    `(4 control points, 2.15 M parameters), batch ${BATCH}, dropout keep 0.7, Adam lr 1e-4, training rows per second ` +
    `(median of ${rounds} alternating rounds of ${steps} steps; ` +
    'the per-sample blend: 3 steps, once).',
  '',
  '| threads | torchmotion rows/s | PyTorch, same arithmetic (control-point mix) | torchmotion ÷ it | PyTorch, ' +
    'per-sample blend (as the original) | torchmotion ÷ it |',
  '|---:|---:|---:|---:|---:|---:|',
  ...rows,
];
console.log(lines.join('\n'));
writeResultJson('pfnn', { machine: cpuDescription(), steps, rounds, raw });
if (!o['no-doc']) writeDocBlock('pfnn', 'PFNN training throughput', lines);
