// The skeleton both training loops share: run steps until the total, checkpoint every N steps and at the end, and
// stop cleanly (with a checkpoint) on Ctrl-C or after `stopAfter` steps of this call.
export interface LoopOptions {
  start: number;
  total: number;
  checkpointEvery: number;
  stopAfter?: number;
  step: (step: number) => Promise<void>;  // runs step `step` (0-based)
  save: (stepsDone: number) => Promise<void>;
}

export async function runTrainingLoop(o: LoopOptions): Promise<{ steps: number; interrupted: boolean }> {
  let interrupted = false;
  // Every Ctrl-C only asks for a stop: a second one during the checkpoint write must not kill the process.
  const onSigint = () => { interrupted = true; };
  process.on('SIGINT', onSigint);
  let step = o.start;
  try {
    while (step < o.total) {
      await o.step(step);
      step++;
      const stop = interrupted || (o.stopAfter !== undefined && step - o.start >= o.stopAfter);
      if (step % o.checkpointEvery === 0 || step === o.total || stop) await o.save(step);
      if (stop) return { steps: step, interrupted: true };
    }
    return { steps: step, interrupted: false };
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
