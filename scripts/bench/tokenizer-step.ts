// One process, one measurement: median training-step time of the MotionMillion tokenizer (batch 64 × 96, fp32)
// after warm-up, plus this process's peak RSS. Run by scripts/bench/tokenizer.ts with pinned thread counts.
// With a 6th argument `peaks` (CPU), every timed step is followed by the conv1d peak measured in the same process
// (LibTorch's and torchmotion's kernel, 1 s each), and the step's fraction of the faster one is reported per step:
// this machine is a VM whose speed drifts ±10–20 % over minutes, so a peak measured in another process a minute
// earlier can be from another regime than the step it is compared with.
import { info, measureThroughput, setThreads } from '../../ts/runtime.js';
import { resolveModel } from '../../ts/tokenizer/config.js';
import { TokenizerModel } from '../../ts/tokenizer/model.js';
import { Rng } from '../../ts/rng.js';
import { TOKENIZER_GFLOP_PER_STEP } from './results.js';

const [threads, steps, device] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? 'cpu'];
const autocast = process.argv[5] === 'bf16' ? 'bf16' : 'none';
const withPeaks = process.argv[6] === 'peaks';
setThreads(threads);
const rssBeforeModelMB = process.memoryUsage().rss / 2 ** 20;
const model = new TokenizerModel(resolveModel({ preset: 'motionmillion' }), {
  seed: 0,
  device,
  optimizer: { lr: 5e-5, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
});
const rng = new Rng(1);
const x = new Float32Array(64 * 96 * 272).map(() => rng.uniform(-2, 2));
const times: number[] = [];
const fractions: number[] = [];
for (let i = 0; i < steps + 2; i++) {
  const t0 = performance.now();
  await model.step({ data: x, shape: [64, 96, 272] }, { lr: 5e-5, threads, autocast });
  if (i < 2) continue;
  const seconds = (performance.now() - t0) / 1000;
  times.push(seconds);
  if (withPeaks) {
    const libtorch = (await measureThroughput({ op: 'conv1d', seconds: 1, threads })).gflops;
    const own =
      (await measureThroughput({ op: 'conv1d-torchmotion', seconds: 1, threads }).catch(() => null))?.gflops ?? 0;
    fractions.push(TOKENIZER_GFLOP_PER_STEP / seconds / Math.max(libtorch, own));
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(
  JSON.stringify({
    threads,
    device,
    autocast,
    medianSeconds: median(times),
    steps,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    rssBeforeModelMB,
    peakLiveMB: info().cpuCache.peakLiveMB,
    ...(withPeaks ? { peakFractionMedian: median(fractions), peakFractions: fractions } : {}),
  })
);
