// PFNN configs: the network (its widths come from the database; hidden width and dropout are settings) and the
// original's training (Adam lr 1e-4, batch 32, weight penalty 0.01 · mean |W|), on the shared run settings.
import { z } from 'zod';

import { runSettings } from '../train/settings.js';

export const pfnnModel = z
  .object({
    hidden: z.number().int().positive().default(512),
    keep: z.number().gt(0).max(1).default(0.7), // dropout keep probability before each layer (the original's 0.7)
  })
  .strict();

export const pfnnTraining = z
  .object({
    steps: z.number().int().positive().default(20000),
    batch: z.number().int().positive().default(32),
    lr: z.number().positive().default(1e-4),
    gamma: z.number().nonnegative().default(0.01), // weight of the mean |W| penalty
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.999),
    eps: z.number().positive().max(1).default(1e-8),
    heldOut: z.number().min(0).lt(1).default(0.1), // share of clips (with their mirrors) kept out of training
    evalRows: z.number().int().positive().default(8192), // held-out rows evaluated every evalEvery steps
    ...runSettings,
    checkpointEvery: z.number().int().positive().default(2000),
    logEvery: z.number().int().positive().default(100),
    evalEvery: z.number().int().nonnegative().default(2000),
  })
  .strict();

export const pfnnConfig = z
  .object({
    model: pfnnModel.prefault({}),
    train: pfnnTraining.prefault({}),
    data: z
      .object({
        root: z.string().default('runs/pfnn-db'), // a folder written by `torchmotion pfnn database`
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type PfnnConfig = z.output<typeof pfnnConfig>;
export type PfnnTraining = z.output<typeof pfnnTraining>;
