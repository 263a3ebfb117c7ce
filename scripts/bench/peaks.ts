// This machine's fp32 throughput at a pinned thread count: conv1d (the tokenizer's 512→512 k3 layer, forward) and
// matmul (1024³ on CPU, 4096³ on CUDA, where 1024³ is too small to fill the card; or the size given).
// Usage: peaks.ts <threads> [cpu|cuda] [matmul size].
import { measureThroughput, setThreads } from '../../ts/runtime.js';

setThreads(Number(process.argv[2] ?? 1));
const device = process.argv[3] ?? 'cpu';
const conv = await measureThroughput({ op: 'conv1d', seconds: 3, device });
// The same layer with torchmotion's own CPU kernels (native/kernels/conv1d_kernels.inc), where they run: the faster of
// the two is the machine's conv1d peak that a training step is held to.
const convOwn =
  device === 'cpu' ? await measureThroughput({ op: 'conv1d-torchmotion', seconds: 3 }).catch(() => null) : null;
const matmul = await measureThroughput({
  op: 'matmul',
  seconds: 3,
  device,
  size: Number(process.argv[4] ?? (device === 'cpu' ? 1024 : 4096)),
});
console.log(
  JSON.stringify({ device, conv: conv.gflops, convTorchmotion: convOwn?.gflops ?? null, matmul: matmul.gflops })
);
