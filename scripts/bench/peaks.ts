// This machine's fp32 throughput at a pinned thread count: conv1d (the tokenizer's 512→512 k3 layer) and matmul.
import { measureThroughput, setThreads } from '../../ts/runtime.js';

setThreads(Number(process.argv[2] ?? 1));
const conv = await measureThroughput({ op: 'conv1d', seconds: 3 });
const matmul = await measureThroughput({ op: 'matmul', seconds: 3 });
console.log(JSON.stringify({ conv: conv.gflops, matmul: matmul.gflops }));
