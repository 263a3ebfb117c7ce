// Where one MotionMillion tokenizer training step (batch 64 × 96, fp32, CPU) spends its time, from LibTorch's own
// trace of the step (TokenizerModel.step's `profile` option): self time by ATen op, and every convolution call with its
// GFLOP/s. Usage (pin threads as the benchmark does; PROFILE_TOP=n lists n ops instead of 10):
//   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 npx tsx scripts/bench/tokenizer-profile.ts [threads]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { measureThroughput, setThreads } from '../../ts/runtime.js';
import { Rng } from '../../ts/rng.js';
import { resolveModel } from '../../ts/tokenizer/config.js';
import { TokenizerModel } from '../../ts/tokenizer/model.js';

const threads = Number(process.argv[2] ?? 1);
const [B, T] = [64, 96];
setThreads(threads);
const model = new TokenizerModel(resolveModel({ preset: 'motionmillion' }), {
  seed: 0,
  optimizer: { lr: 5e-5, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
});
const rng = new Rng(1);
const x = { data: new Float32Array(B * T * 272).map(() => rng.uniform(-2, 2)), shape: [B, T, 272] };
for (let i = 0; i < 3; i++) await model.step(x, { lr: 5e-5, threads });
const trace = join(mkdtempSync(join(tmpdir(), 'tm-profile-')), 'step.json');
const t0 = performance.now();
await model.step(x, { lr: 5e-5, threads, profile: trace });
const stepMs = performance.now() - t0;

interface Event {
  name: string;
  ph: string;
  ts: number;
  dur: number;
}
const events = (JSON.parse(readFileSync(trace, 'utf8')) as Event[])
  .filter((e) => e.ph === 'X')
  .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
// Self time: an event's duration less that of the events directly inside it (events nest by time on one thread).
const self = new Map<string, number>();
const stack: Event[] = [];
for (const e of events) {
  while (stack.length && stack.at(-1)!.ts + stack.at(-1)!.dur <= e.ts) stack.pop();
  if (stack.length) self.set(stack.at(-1)!.name, (self.get(stack.at(-1)!.name) ?? 0) - e.dur);
  self.set(e.name, (self.get(e.name) ?? 0) + e.dur);
  stack.push(e);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(
  `profiled step: ${(stepMs / 1000).toFixed(2)} s on ${threads} thread(s); traced ops ${(total / 1e6).toFixed(2)} s`
);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 10))) {
  console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`);
}

// The MotionMillion convolutions in forward order (width 512, down_t 1, depth 3; FSQ's projections to and from its 6
// levels are 1×1 convolutions): [name, in, out, kernel, output length].
const half = T / 2;
const res = Array.from({ length: 3 }, (_, i) => [
  [`res${i} k3`, 512, 512, 3, half],
  [`res${i} k1`, 512, 512, 1, half],
]).flat();
const layers = [
  ['enc in', 272, 512, 3, T],
  ['enc down k4 s2', 512, 512, 4, half],
  ...res.map((l) => [`enc ${l[0]}`, ...l.slice(1)]),
  ['enc out', 512, 512, 3, half],
  ['fsq in k1', 512, 6, 1, half],
  ['fsq out k1', 6, 512, 1, half],
  ['dec in', 512, 512, 3, half],
  ...res.map((l) => [`dec ${l[0]}`, ...l.slice(1)]),
  ['dec up k3', 512, 512, 3, T],
  ['dec k3', 512, 512, 3, T],
  ['dec out', 512, 272, 3, T],
] as [string, number, number, number, number][];
// Convolutions run in native/kernels/conv1d_cpu.cc's kernels (torchmotion::conv1d…) or, for the stride-2 layer and on
// CPUs without AVX-512, in LibTorch's oneDNN (aten::…); events are in time order, so both kinds interleave as the
// layers do.
const fwd = events
  .filter((e) => e.name === 'aten::mkldnn_convolution' || e.name === 'torchmotion::conv1d')
  .map((e) => e.dur / 1000);
const bwd = events
  .filter((e) => e.name === 'aten::convolution_backward' || e.name === 'torchmotion::conv1d_backward')
  .map((e) => e.dur / 1000)
  .reverse();
if (fwd.length !== layers.length || bwd.length !== layers.length) {
  throw new Error(
    `expected ${layers.length} convolutions each way, the trace has ${fwd.length} forward and ${bwd.length} backward`
  );
}
let flops = 0;
console.log('  layer               fwd ms  GFLOP/s   bwd ms  GFLOP/s');
layers.forEach(([name, cin, cout, k, len], i) => {
  const f = 2 * B * len * cin * cout * k;
  const fb = i === 0 ? f : 2 * f; // the first layer's input needs no gradient
  flops += f + fb;
  console.log(
    `  ${name.padEnd(18)} ${fwd[i].toFixed(1).padStart(7)} ${(f / fwd[i] / 1e6).toFixed(0).padStart(8)} ` +
      `${bwd[i].toFixed(1).padStart(8)} ${(fb / bwd[i] / 1e6).toFixed(0).padStart(8)}`
  );
});
const convMs = [...fwd, ...bwd].reduce((a, b) => a + b, 0);
// The peak: the faster of LibTorch's convolution and torchmotion's kernel on the 512→512 k3 layer, measured now.
const libtorch = (await measureThroughput({ op: 'conv1d', seconds: 3, threads })).gflops;
const own = (await measureThroughput({ op: 'conv1d-torchmotion', seconds: 3, threads }).catch(() => null))?.gflops ?? 0;
const peak = Math.max(libtorch, own);
const rate = flops / convMs / 1e6;
console.log(
  `convolutions: ${(convMs / 1000).toFixed(2)} s of the step at ${rate.toFixed(0)} GFLOP/s = ` +
    `${((100 * rate) / peak).toFixed(0)} % of ` +
    `the conv1d peak measured now (${peak.toFixed(0)} GFLOP/s; LibTorch ${libtorch.toFixed(0)}, ` +
    `torchmotion ${own.toFixed(0)}); ` +
    `the whole step would be at ${((100 * flops) / stepMs / 1e6 / peak).toFixed(0)} %`
);
