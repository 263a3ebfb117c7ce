// One measurement in its own process (fresh peak RSS): `train <steps> [recompute]` or `generate <prompts> <tokens>` on
// a decoder (44M unless BENCH_PRESET says otherwise) with vocabulary 64,002 and text width 2048 (precomputed-embedding
// mode, as the reference's Flan-T5-XL). BENCH_DEVICE (cpu | cuda), BENCH_PRESET (44M | 111M | 343M | …), BENCH_AUTOCAST
// (none | bf16, CUDA) and BENCH_THREADS (LibTorch's threads, 1 unless set; pin OMP_NUM_THREADS and OPENBLAS_NUM_THREADS
// to the same) pick the run.
import { setThreads } from '../../ts/runtime.js';
import { Rng } from '../../ts/rng.js';
import { nativeOptions, t2mModel } from '../../ts/t2m/config.js';
import { T2MModel } from '../../ts/t2m/model.js';

const [what, a, b] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const usage = 'usage: t2m-run.ts train <steps> [recompute] | generate <prompts> <tokens>';
if (!(what === 'train' && a >= 1) && !(what === 'generate' && a >= 1 && b >= 1))
  throw new Error(`${usage}; received ${process.argv.slice(2).join(' ')}`);
const device = process.env.BENCH_DEVICE ?? 'cpu';
const preset = process.env.BENCH_PRESET ?? '44M';
const autocast = process.env.BENCH_AUTOCAST === 'bf16' ? 'bf16' : 'none';
const threads = Number(process.env.BENCH_THREADS ?? 1);
if (!Number.isInteger(threads) || threads < 1)
  throw new Error(`BENCH_THREADS must be a whole number ≥ 1, received '${process.env.BENCH_THREADS}'`);
setThreads(threads);
const options = { ...nativeOptions(t2mModel.parse({ preset, text: 'embeddings' }), 64000, 0), maxLen: 512 };
const model = new T2MModel(options, { seed: 0, device });
const rng = new Rng(0);
const text = (rows: number) => ({
  data: new Float32Array(rows * 150 * 2048).map(() => rng.uniform(-1, 1)),
  shape: [rows, 150, 2048],
});
const lengths = (rows: number) => ({ data: new Int32Array(rows).fill(150), shape: [rows] });
let result: Record<string, number | string>;
if (what === 'train') {
  // Batch 8 × 301 as the reference: 150 text slots, 150 codes, END.
  const codes = new Int32Array(8 * 151).map(() => rng.int(64000));
  for (let r = 0; r < 8; r++) codes[r * 151 + 150] = 64000;
  const batch = { text: text(8), textLengths: lengths(8), codes: { data: codes, shape: [8, 151] } };
  const times: number[] = [];
  for (let k = 0; k <= a; k++) {
    const t0 = performance.now();
    await model.step(batch, { lr: 4e-4, clip: 0, threads, recompute: process.argv[4] === 'recompute', autocast });
    if (k > 0) times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  result = {
    what,
    recompute: process.argv[4] === 'recompute' ? 1 : 0,
    medianSeconds: times[Math.floor(times.length / 2)],
  };
} else {
  const prompts = a;
  const batch = { text: text(prompts), textLengths: lengths(prompts) };
  await model.generate(batch, { maxTokens: 4, minTokens: 4, threads }); // warm-up
  const t0 = performance.now();
  const out = await model.generate(batch, { maxTokens: b, minTokens: b, threads });
  result = { what, prompts, tokens: out.tokens.shape[1], seconds: (performance.now() - t0) / 1000 };
}
console.log(JSON.stringify({ ...result, device, preset, autocast, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
