// Data-parallel training on this machine, torchmotion against PyTorch's own DDP, side by side in one run: the
// MotionMillion tokenizer at a fixed global batch as 1 process × 2 threads, as 2 ranks × 1 thread over c10d/Gloo
// (torchmotion: bucketed all-reduce on its flat gradients; PyTorch: DistributedDataParallel), and as the same two
// halves trained side by side without any communication ("alone", same cores, same contention). A side's
// communication overhead per step is its 2-rank step minus its alone step; torchmotion's must not exceed DDP's.
// Rounds alternate the sides (this VM's speed drifts); each figure is the median over rounds.
// Usage: npx tsx scripts/bench/distributed.ts [--reference <MotionMillion checkout> [--standins <dir>]] [--batch 32]
//        [--window 96] [--steps 6] [--rounds 3] [--no-doc]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { cpuDescription, findPython, parseReferenceArgs, root, writeDocBlock, writeResultJson } from './results.js';

const { o, reference, standins } = parseReferenceArgs({
  batch: { type: 'string', default: '32' },
  window: { type: 'string', default: '96' },
  steps: { type: 'string', default: '6' },
});
const [batch, window, steps, rounds] = [o.batch, o.window, o.steps, o.rounds].map(Number);
if (batch % 2 !== 0) throw new Error(`--batch ${batch}: the global batch must split over 2 ranks`);
if (reference && !existsSync(join(standins, 'einops')))
  throw new Error(`--standins ${standins}: no einops stand-in there (see ../shared/refbench)`);
const python = findPython();

interface Result {
  medianSeconds: number;
  medianCommSeconds?: number;
  buckets?: number;
  bucketsEarly?: number;
  model?: string;
  params?: number;
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

// One process pinned to `cores`, its thread pools pinned to `threads`; resolves with its JSON line.
function process1(
  side: 'torchmotion' | 'pytorch',
  cores: string,
  threads: number,
  perProcess: number,
  env: NodeJS.ProcessEnv
): Promise<Result> {
  const args =
    side === 'torchmotion'
      ? [join(root, 'node_modules', '.bin', 'tsx'), join(root, 'scripts', 'bench', 'dist-worker.ts')]
      : [python, join(root, 'scripts', 'reference', 'ddp_tokenizer.py')];
  const tail = [
    String(perProcess),
    String(window),
    String(steps),
    String(threads),
    ...(side === 'pytorch' && reference ? ['--reference', reference, '--standins', standins] : []),
  ];
  const t = String(threads);
  const child = spawn('taskset', ['-c', cores, ...args, ...tail], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      OMP_NUM_THREADS: t,
      OPENBLAS_NUM_THREADS: t,
      TORCHMOTION_THREADS: t,
      MKL_NUM_THREADS: t,
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((done, fail) =>
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        fail(new Error(`${side} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else done(JSON.parse(line));
    })
  );
}

async function measure(side: 'torchmotion' | 'pytorch') {
  const single = await process1(side, '0,1', 2, batch, {});
  const alone = await Promise.all([0, 1].map((r) => process1(side, String(r), 1, batch / 2, {})));
  const port = await freePort();
  const ranks = await Promise.all(
    [0, 1].map((r) =>
      process1(side, String(r), 1, batch / 2, {
        RANK: String(r),
        WORLD_SIZE: '2',
        LOCAL_RANK: String(r),
        LOCAL_WORLD_SIZE: '2',
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
      })
    )
  );
  const aloneS = Math.max(...alone.map((a) => a.medianSeconds));
  const ddpS = Math.max(...ranks.map((a) => a.medianSeconds));
  return {
    single: single.medianSeconds,
    alone: aloneS,
    ddp: ddpS,
    overhead: ddpS - aloneS,
    commWait: ranks[0].medianCommSeconds,
    buckets: ranks[0].buckets,
    bucketsEarly: ranks[0].bucketsEarly,
    model: ranks[0].model ?? single.model,
  };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const all: Record<'torchmotion' | 'pytorch', Awaited<ReturnType<typeof measure>>[]> = { torchmotion: [], pytorch: [] };
for (let r = 0; r < rounds; r++) {
  const order: Array<'torchmotion' | 'pytorch'> = r % 2 === 0 ? ['torchmotion', 'pytorch'] : ['pytorch', 'torchmotion'];
  for (const side of order) {
    const m = await measure(side);
    all[side].push(m);
    console.error(`round ${r + 1} ${side}: ${JSON.stringify(m)}`);
  }
}
const summary = (side: 'torchmotion' | 'pytorch') => {
  const rows = all[side];
  const pick = (k: 'single' | 'alone' | 'ddp' | 'overhead') => median(rows.map((x) => x[k]));
  return {
    single: pick('single'),
    alone: pick('alone'),
    ddp: pick('ddp'),
    overhead: pick('overhead'),
    commWait: side === 'torchmotion' ? median(rows.map((x) => x.commWait ?? 0)) : undefined,
    model: rows[0].model,
  };
};
const tm = summary('torchmotion');
const pt = summary('pytorch');
const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
const share = (x: ReturnType<typeof summary>) => `${((100 * x.overhead) / x.ddp).toFixed(1)} %`;
const against = reference
  ? "MotionMillion-Codes' own HumanVQVAE (models/vqvae.py of a --reference checkout; usage logged with bincount)"
  : 'scripts/reference/tokenizer.py (no --reference checkout given)';
const lines = [
  `Command: \`npx tsx scripts/bench/distributed.ts${reference ? ' --reference <checkout>' : ''} --batch ${batch} ` +
    `--window ${window} --steps ${steps} --rounds ${rounds}\` ` +
    `(${new Date().toISOString().slice(0, 10)}). Machine: ${cpuDescription()}; LibTorch 1.13.1 (Debian) + Gloo; ` +
    `PyTorch side: python3-torch 1.13.1 ` +
    `DistributedDataParallel (Gloo, bucket_cap_mb 25) on ${against}. Global batch ${batch} × ${window}, ` +
    `fp32; each process pinned with taskset, ` +
    `its threads with OMP/OPENBLAS_NUM_THREADS; medians of ${steps} steps after 2 warm-ups, ` +
    `then of ${rounds} alternating rounds.`,
  '',
  '| side | 1 process × 2 threads | 2 ranks × 1 thread | the two halves alone (no communication) | ' +
    'communication overhead per step | its share of the 2-rank step |',
  '|---|---:|---:|---:|---:|---:|',
  `| torchmotion (c10d Gloo, buckets of 25 MB started during backward) | ${ms(tm.single)} | ${ms(tm.ddp)} | ` +
    `${ms(tm.alone)} | ${ms(tm.overhead)} | ${share(tm)} |`,
  `| PyTorch DDP | ${ms(pt.single)} | ${ms(pt.ddp)} | ${ms(pt.alone)} | ${ms(pt.overhead)} | ${share(pt)} |`,
  '',
  `torchmotion's communication overhead per step: ${ms(tm.overhead)} against DDP's ${ms(pt.overhead)} (ratio ` +
    `${(tm.overhead / pt.overhead).toFixed(2)}; ` +
    `target ≤ 1; per-round differences of medians, so a few tens of ms either way are this VM's noise). ` +
    `Per round: torchmotion ` +
    `${all.torchmotion.map((x) => ms(x.overhead)).join(', ')}; ` +
    `DDP ${all.pytorch.map((x) => ms(x.overhead)).join(', ')}. ` +
    `torchmotion's ranks spent a median ${ms(tm.commWait ?? 0)} a step after backward ` +
    `until the gradients were averaged ` +
    `(${((100 * (tm.commWait ?? 0)) / tm.ddp).toFixed(1)} % of its 2-rank step; this includes waiting for ` +
    `the slower rank to finish its backward); ` +
    `${all.torchmotion[0].bucketsEarly?.toFixed(0)} of ${all.torchmotion[0].buckets?.toFixed(0)} ` +
    `buckets started during backward.`,
];
console.log(lines.join('\n'));
writeResultJson('distributed', {
  machine: cpuDescription(),
  batch,
  window,
  steps,
  rounds,
  reference: against,
  torchmotion: all.torchmotion,
  pytorch: all.pytorch,
});
if (!o['no-doc']) writeDocBlock('distributed', 'Data-parallel training (c10d), torchmotion against PyTorch DDP', lines);
