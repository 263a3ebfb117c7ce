// The README's main job. Today: report the LibTorch runtime, measure this machine's matmul and conv1d
// throughput, and fit a small network natively. Later stages (data → tokenizer → text-to-motion) join here.
import { z } from 'zod';

import { regressorConfig, trainRegressor, type RegressorResult } from './regressor.js';
import { info, measureThroughput, setThreads, type RuntimeInfo } from './runtime.js';

export const pipelineConfig = z.object({
  threads: z.number().int().positive().optional(),
  throughputSeconds: z.number().positive().default(1),
  regressor: regressorConfig.prefault({}),
}).strict();

export type PipelineConfig = z.output<typeof pipelineConfig>;

export interface PipelineReport {
  runtime: RuntimeInfo;
  matmulGflops: number;
  conv1dGflops: number;
  regressor: RegressorResult;
}

export async function runPipeline(
  input: z.input<typeof pipelineConfig>,
  log: (line: string) => void = () => {},
): Promise<PipelineReport> {
  const config = pipelineConfig.parse(input);
  if (config.threads) setThreads(config.threads);
  const runtime = info();
  log(`LibTorch ${runtime.torchVersion}, CUDA ${runtime.cuda.available ? `yes (${runtime.cuda.deviceCount})` : 'no'}, ` +
    `${runtime.threads} thread(s), BLAS: ${runtime.blas}`);
  const mm = await measureThroughput({ op: 'matmul', seconds: config.throughputSeconds });
  const conv = await measureThroughput({ op: 'conv1d', seconds: config.throughputSeconds });
  log(`throughput: matmul 1024³ ${mm.gflops.toFixed(1)} GFLOP/s, conv1d 512→512 k3 ${conv.gflops.toFixed(1)} GFLOP/s`);
  const every = Math.max(1, Math.floor(config.regressor.steps / 8));
  const regressor = await trainRegressor(config.regressor, (step, loss) => {
    if (step % every === 0 || step === config.regressor.steps - 1) log(`  fit step ${String(step).padStart(5)}  loss ${loss.toFixed(5)}`);
  });
  log(`fitted a ${regressor.parameterCount}-parameter MLP at ${regressor.stepsPerSecond.toFixed(0)} steps/s: ` +
    `held-out MSE ${regressor.heldOutBefore.toFixed(4)} → ${regressor.heldOutAfter.toFixed(4)}`);
  return { runtime, matmulGflops: mm.gflops, conv1dGflops: conv.gflops, regressor };
}
