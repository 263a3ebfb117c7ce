// One process, one measurement: median training-step time of the MotionMillion tokenizer (batch 64 × 96, fp32)
// after warm-up, plus this process's peak RSS. Run by scripts/bench/tokenizer.ts with pinned thread counts.
import { info, setThreads } from '../../ts/runtime.js';
import { resolveModel } from '../../ts/tokenizer/config.js';
import { TokenizerModel } from '../../ts/tokenizer/model.js';
import { Rng } from '../../ts/rng.js';

const [threads, steps, device] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? 'cpu'];
const autocast = process.argv[5] ?? 'none';
setThreads(threads);
const rssBeforeModelMB = process.memoryUsage().rss / 2 ** 20;
const model = new TokenizerModel(resolveModel({ preset: 'motionmillion' }), { seed: 0, device, optimizer: { lr: 5e-5, beta1: 0.9, beta2: 0.99, weightDecay: 0 } });
const rng = new Rng(1);
const x = new Float32Array(64 * 96 * 272).map(() => rng.uniform(-2, 2));
const times: number[] = [];
for (let i = 0; i < steps + 2; i++) {
  const t0 = performance.now();
  await model.step({ data: x, shape: [64, 96, 272] }, { lr: 5e-5, threads, autocast });
  if (i >= 2) times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ threads, device, autocast, medianSeconds: times[Math.floor(times.length / 2)], steps,
  peakRssMB: process.resourceUsage().maxRSS / 1024, rssBeforeModelMB, peakLiveMB: info().cpuCache.peakLiveMB }));
