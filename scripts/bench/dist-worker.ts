// One process of scripts/bench/distributed.ts on torchmotion's side: the MotionMillion tokenizer trained for a few
// steps on a fixed random batch, alone or (with RANK/WORLD_SIZE/MASTER_* set) as one rank of a c10d/Gloo group.
// Prints one JSON line: the median step and, in a group, the median time spent after backward until the gradients
// were averaged (the part of the all-reduce that backward did not hide).
// Usage: npx tsx scripts/bench/dist-worker.ts <batch per process> <window> <steps> <threads>
import { groupFromEnv } from '../../ts/distributed/group.js';
import { Rng } from '../../ts/rng.js';
import { setThreads } from '../../ts/runtime.js';
import { resolveModel } from '../../ts/tokenizer/config.js';
import { TokenizerModel } from '../../ts/tokenizer/model.js';

const [batch, window, steps, threads] = process.argv.slice(2, 6).map(Number);
setThreads(threads);
const group = groupFromEnv();
const model = new TokenizerModel(resolveModel({ preset: 'motionmillion' }), {
  seed: 0,
  device: 'cpu',
  optimizer: { lr: 5e-5, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
});
if (group) model.joinProcessGroup(group);
const rng = new Rng(1 + (group?.rank ?? 0));
const x = new Float32Array(batch * window * 272).map(() => rng.uniform(-2, 2));
const times: number[] = [];
const comm: number[] = [];
for (let i = 0; i < steps + 2; i++) {
  const before = group?.native.stats.waitMs ?? 0;
  const t0 = performance.now();
  await model.step({ data: x, shape: [batch, window, 272] }, { lr: 5e-5, threads });
  if (i < 2) continue;
  times.push((performance.now() - t0) / 1000);
  comm.push(((group?.native.stats.waitMs ?? 0) - before) / 1000);
}
const stats = group?.native.stats;
group?.native.barrier();
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(
  JSON.stringify({
    side: 'torchmotion',
    rank: group?.rank ?? 0,
    world: group?.worldSize ?? 1,
    threads,
    batch,
    medianSeconds: median(times),
    medianCommSeconds: median(comm),
    buckets: stats ? stats.allReduces / (steps + 2) - 1 : 0,
    bucketsEarly: stats ? stats.early / (steps + 2) : 0,
  })
);
