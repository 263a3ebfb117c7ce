// Training settings every trainer shares: how it runs, not what it learns.
import { z } from 'zod';

export const runSettings = {
  seed: z.number().int().nonnegative().default(0),
  threads: z.number().int().positive().optional(),
  device: z.string().default('cpu'),
  autocast: z.enum(['none', 'bf16']).default('none'), // bf16 autocast on CUDA; ignored on CPU
  checkpointEvery: z.number().int().positive().default(500),
  logEvery: z.number().int().positive().default(10),
  evalEvery: z.number().int().nonnegative().default(0), // held-out evaluation into metrics.jsonl every N steps, 0 = off
  evalSplit: z.string().default('val'),
  // a step with NaN/Inf input, loss or gradients: end the run, or skip it
  onNonFinite: z.enum(['stop', 'skip']).default('stop'),
};
