// The tokenizer's training step on AVX2 (or on an AVX-512 CPU capped at AVX2), torchmotion against the reference in
// the same run: the MotionMillion tokenizer, batch 64 × 96, fp32, one and two pinned threads. Both sides are capped
// the same way — LibTorch's own kernels (ATEN_CPU_CAPABILITY=avx2), OpenBLAS (OPENBLAS_CORETYPE=Haswell) and oneDNN
// (ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA=AVX2) — and torchmotion takes its AVX2 convolution kernels
// (TORCHMOTION_NO_AVX512=1); on a CPU without AVX-512 the caps change nothing. The reference is MotionMillion's own
// HumanVQVAE from a checkout (--reference, with the einops stand-in of --standins) or, without one,
// scripts/reference/tokenizer.py; "fixed" logs codebook usage with bincount, "as shipped" with its dense one-hot.
// The step's GFLOP/s is held against OpenBLAS's sgemm (2048³) on the same threads under the same caps. Rounds
// alternate the sides; each figure is the median over rounds.
// Usage: npx tsx scripts/bench/tokenizer-avx2.ts [--reference <checkout> [--standins <dir>]] [--steps 3] [--rounds 3]
// [--no-doc]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import {
  cpuDescription,
  findPython,
  parseReferenceArgs,
  root,
  TOKENIZER_GFLOP_PER_STEP as GFLOP,
  writeDocBlock,
  writeResultJson,
} from './results.js';

const { o, reference, standins } = parseReferenceArgs({
  steps: { type: 'string', default: '3' },
});
const [steps, rounds] = [Number(o.steps), Number(o.rounds)];
const python = findPython();
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const CAPS = {
  ATEN_CPU_CAPABILITY: 'avx2',
  OPENBLAS_CORETYPE: 'Haswell',
  ONEDNN_MAX_CPU_ISA: 'AVX2',
  DNNL_MAX_CPU_ISA: 'AVX2',
};

function run(cmd: string, args: string[], threads: number, extra: NodeJS.ProcessEnv = {}): Record<string, number> {
  const t = String(threads);
  const env = {
    ...process.env,
    ...CAPS,
    ...extra,
    OMP_NUM_THREADS: t,
    OPENBLAS_NUM_THREADS: t,
    TORCHMOTION_THREADS: t,
  };
  const r = spawnSync('taskset', ['-c', Array.from({ length: threads }, (_, i) => i).join(','), cmd, ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const ours = (threads: number) =>
  run(tsx, ['scripts/bench/tokenizer-step.ts', String(threads), String(steps)], threads, { TORCHMOTION_NO_AVX512: '1' })
    .medianSeconds;
const ref = (threads: number, shipped: boolean) =>
  (reference
    ? run(
        python,
        [
          join('scripts', 'reference', 'ddp_tokenizer.py'),
          '64',
          '96',
          String(steps),
          String(threads),
          '--reference',
          reference,
          '--standins',
          standins,
          ...(shipped ? ['--shipped'] : []),
        ],
        threads
      )
    : run(
        python,
        [
          join('scripts', 'reference', 'tokenizer.py'),
          'bench',
          String(threads),
          String(steps),
          shipped ? 'onehot' : 'bincount',
        ],
        threads
      )
  ).medianSeconds;
const sgemm = (threads: number) =>
  run(tsx, ['scripts/bench/peaks.ts', String(threads), 'cpu', '2048'], threads, { TORCHMOTION_NO_AVX512: '1' });

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const rows: string[] = [];
const raw: Record<string, unknown> = {};
for (const threads of [1, 2]) {
  const m = {
    ours: [] as number[],
    fixed: [] as number[],
    shipped: [] as number[],
    sgemm: [] as number[],
    conv: [] as number[],
    convOwn: [] as number[],
  };
  for (let r = 0; r < rounds; r++) {
    const peaks = sgemm(threads);
    m.sgemm.push(peaks.matmul);
    m.conv.push(peaks.conv);
    m.convOwn.push(peaks.convTorchmotion);
    if (r % 2 === 0) {
      m.ours.push(ours(threads));
      m.fixed.push(ref(threads, false));
    } else {
      m.fixed.push(ref(threads, false));
      m.ours.push(ours(threads));
    }
    m.shipped.push(ref(threads, true));
    console.error(
      `threads ${threads} round ${r + 1}: ` +
        `${JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.at(-1)])))}`
    );
  }
  raw[`threads-${threads}`] = m;
  const [s, fixed, shipped, peak] = [median(m.ours), median(m.fixed), median(m.shipped), median(m.sgemm)];
  rows.push(
    `| ${threads} | ${s.toFixed(2)} | ${fixed.toFixed(2)} | ${shipped.toFixed(2)} | ${(fixed / s).toFixed(2)}× | ` +
      `${(shipped / s).toFixed(2)}× | ` +
      `${(GFLOP / s).toFixed(1)} | ${peak.toFixed(1)} | ${((100 * GFLOP) / s / peak).toFixed(0)} % | ` +
      `${median(m.convOwn).toFixed(1)} / ${median(m.conv).toFixed(1)} |`
  );
}
const against = reference
  ? "MotionMillion-Codes' own HumanVQVAE (models/vqvae.py of a --reference checkout)"
  : 'scripts/reference/tokenizer.py (no --reference checkout given)';
const lines = [
  `Command: \`npx tsx scripts/bench/tokenizer-avx2.ts${reference ? ' --reference <checkout>' : ''} --steps ${steps} ` +
    `--rounds ${rounds}\` (${new Date().toISOString().slice(0, 10)}). ` +
    `Machine: ${cpuDescription()}, capped at AVX2 on both sides (ATEN_CPU_CAPABILITY=avx2, ` +
    `OPENBLAS_CORETYPE=Haswell, ONEDNN_MAX_CPU_ISA=DNNL_MAX_CPU_ISA=AVX2; ` +
    `torchmotion with TORCHMOTION_NO_AVX512=1, its AVX2 convolution kernels). LibTorch 1.13.1 + OpenBLAS (Debian); ` +
    `reference: python3-torch 1.13.1 running ${against}. ` +
    `MotionMillion tokenizer, batch 64 × 96, fp32, one step = ${GFLOP.toFixed(1)} GFLOP; ` +
    `medians of ${steps} steps after 2 warm-ups, then of ${rounds} alternating rounds; ` +
    `threads pinned with taskset and OMP/OPENBLAS_NUM_THREADS.`,
  '',
  '| threads | torchmotion s / step | reference fixed (bincount) | reference as shipped (one-hot) | ' +
    '× fixed | × as shipped | torchmotion GFLOP/s | sgemm 2048³ GFLOP/s | of sgemm | conv1d 512→512 k3: ' +
    'torchmotion / LibTorch GFLOP/s |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
];
console.log(lines.join('\n'));
writeResultJson('tokenizer-avx2', { machine: cpuDescription(), caps: CAPS, steps, rounds, reference: against, raw });
if (!o['no-doc']) writeDocBlock('tokenizer-avx2', 'Tokenizer training step on AVX2 CPUs (issue 23)', lines);
