// npm run bench:tokenizer-cuda on a CUDA machine (scripts/gpu-check.sh runs it): torchmotion vs the PyTorch
// reference on the MotionMillion tokenizer, batch 64 × 96, fp32 and bf16 autocast: median of 20 steps after 2 warm-up
// steps, the process's peak GPU memory as nvidia-smi sees it (CUDA context included, same for both sides), and the
// achieved TFLOP/s next to the card's measured fp32 conv1d rate. Writes bench-results/tokenizer-cuda.json and the table
// between the tokenizer-cuda markers in docs/benchmarks.md.
import { spawn, spawnSync } from 'node:child_process';

import { findPython, root, TOKENIZER_GFLOP_PER_STEP, writeDocBlock, writeResultJson } from './results.js';

const steps = Number(process.env.BENCH_STEPS ?? 20);
const python = findPython('import torch; assert torch.cuda.is_available()', ['python3', '/usr/bin/python3']);
// node --import tsx rather than the tsx launcher, which would run the script in a child process whose GPU
// memory nvidia-smi lists under another pid.
const node = process.execPath;
const tsx = (script: string) => ['--import', 'tsx', script];

// Peak memory of one process on the GPU, polled every 100 ms (nvidia-smi has no per-process high-water mark).
function gpuMB(pid: number): number {
  const r = spawnSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], {
    encoding: 'utf8',
  });
  const row = r.stdout
    .split('\n')
    .map((l) => l.split(',').map((x) => x.trim()))
    .find(([p]) => Number(p) === pid);
  return row ? Number(row[1]) : 0;
}

async function run(cmd: string, args: string[]): Promise<Record<string, number | string>> {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, OMP_NUM_THREADS: '4', OPENBLAS_NUM_THREADS: '4' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, gpuMB(child.pid!))), 100);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${err}`);
  return { ...JSON.parse(out.trim().split('\n').pop()!), nvidiaSmiPeakMB: peak };
}

const card = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], {
  encoding: 'utf8',
}).stdout.trim();
const peaks = await run(node, [...tsx('scripts/bench/peaks.ts'), '4', 'cuda']);
const rows: { name: string; r: Record<string, number | string> }[] = [];
for (const precision of ['fp32', 'bf16']) {
  const add = async (name: string, cmd: string, args: string[]) => {
    rows.push({ name: `${name}, ${precision}`, r: await run(cmd, args) });
    console.log(rows.at(-1)!.name, JSON.stringify(rows.at(-1)!.r));
  };
  await add('torchmotion', node, [
    ...tsx('scripts/bench/tokenizer-step.ts'),
    '4',
    String(steps),
    'cuda',
    precision === 'bf16' ? 'bf16' : 'none',
  ]);
  await add('reference as shipped (one-hot)', python, [
    'scripts/reference/tokenizer.py',
    'bench',
    '4',
    String(steps),
    'onehot',
    'cuda',
    precision,
  ]);
  await add('reference fixed (bincount)', python, [
    'scripts/reference/tokenizer.py',
    'bench',
    '4',
    String(steps),
    'bincount',
    'cuda',
    precision,
  ]);
}

const torchVersion = rows.find((x) => x.r.torch)?.r.torch ?? '?';
const f = (x: number, d = 2) => x.toFixed(d);
const table = [
  `Command: \`npm run bench:tokenizer-cuda\` (${new Date().toISOString().slice(0, 10)}). Card: ` +
    `${card}; torchmotion built against`,
  `the same Python torch ${torchVersion} the reference runs on. MotionMillion tokenizer, batch 64 × 96 frames, ` +
    `AdamW; median of ${steps} steps`,
  'after 2 warm-up steps. fp32 leaves cuDNN/cuBLAS at their defaults on both sides (cuDNN ' +
    'may use TF32 for convolutions);',
  "bf16 is autocast around forward and loss. GPU memory is the process's peak in nvidia-smi (CUDA context included).",
  '',
  '| precision | run | ms / step | × reference as shipped | × reference fixed | TFLOP/s | peak GPU memory (MB) |',
  '|---|---|---:|---:|---:|---:|---:|',
];
for (const precision of ['fp32', 'bf16']) {
  const of = (name: string) => rows.find((x) => x.name === `${name}, ${precision}`)!.r;
  const shipped = of('reference as shipped (one-hot)').medianSeconds as number;
  const fixed = of('reference fixed (bincount)').medianSeconds as number;
  for (const name of ['torchmotion', 'reference as shipped (one-hot)', 'reference fixed (bincount)']) {
    const r = of(name);
    const s = r.medianSeconds as number;
    table.push(
      `| ${precision} | ${name} | ${f(1000 * s, 1)} | ${f(shipped / s)} | ${f(fixed / s)} | ` +
        `${f(TOKENIZER_GFLOP_PER_STEP / s / 1000, 1)} | ${f(r.nvidiaSmiPeakMB as number, 0)} |`
    );
  }
}
table.push(
  '',
  `Measured on the same card (\`measureThroughput\`, fp32): conv1d 512→512 k3 ` +
    `${f((peaks.conv as number) / 1000, 1)} TFLOP/s, ` +
    `matmul 4096³ ${f((peaks.matmul as number) / 1000, 1)} TFLOP/s.`
);

writeResultJson('tokenizer-cuda', { card, gflopPerStep: TOKENIZER_GFLOP_PER_STEP, peaks, rows });
writeDocBlock('tokenizer-cuda', 'Tokenizer training step on CUDA (issue 5)', table);
console.log(table.join('\n'));
