// A training run: what every trainer does around its steps, so a trainer is only its model, its batch source and
// its step. openRun locks the folder (./lock.ts: one writer at a time, a dead one's lock taken over), refuses one that
// holds checkpoints unless resuming and reads the checkpoint to resume from; Run.train restores the model and
// optimiser, writes config.json, runs the steps with the metrics log and progress bar, evaluates every `evalEvery`
// steps, checkpoints every `checkpointEvery` steps, at the end and on Ctrl-C (or after `stopAfter` steps of this call,
// as an interruption would), and unlocks the folder however it ends. In a data-parallel run (`group`) every rank
// restores from the same checkpoint and runs the same steps; rank 0 alone locks and writes config.json, metrics,
// checkpoints and the progress bar, and the ranks stop together when any of them is asked to.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';
import { fileError } from '../files.js';
import { readCheckpointState, resolveCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { RunLock } from './lock.js';
import { MetricsLog } from './metrics.js';
import type { DistributedGroup } from '../distributed/group.js';
import type { NonFinite } from '../native.js';
import { createProgress } from './progress.js';

const NON_FINITE: Record<NonFinite, string> = {
  input: 'the batch holds NaN or Inf',
  loss: 'the loss is NaN or Inf',
  gradients: 'the gradient norm is NaN or Inf',
};

export interface RunOptions {
  out: string;
  resume?: boolean;
  log?: (line: string) => void; // plain lines instead of a progress bar
  stopAfter?: number; // end (with a checkpoint) after this many steps in this call
  group?: DistributedGroup; // data parallel: this process is one rank of the group
}

// What the run saves and restores of a model: its weights with the optimiser state (the addon's model.pt).
export interface Checkpointable {
  save(file: string): Promise<void>;
  load(file: string): Promise<void>;
}

export interface StepReport {
  metrics: Record<string, number | string>; // one metrics.jsonl line (the run adds `step`)
  progress: Record<string, string>; // the progress bar's fields
  // The step applied no update because its input, loss or gradient norm was not finite; `clips` names its batch.
  nonFinite?: { reason: NonFinite; clips: string[] };
}

export interface TrainLoop<S extends CheckpointState> {
  model: Checkpointable;
  config: unknown; // written to <run>/config.json
  steps: number; // the run's total
  checkpointEvery: number;
  logEvery: number;
  evalEvery?: number; // 0 or absent: no held-out evaluation
  onNonFinite?: 'stop' | 'skip'; // a step that applied no update (StepReport.nonFinite): end the run (default) or go on
  step(step: number): Promise<StepReport>;
  evaluate?(step: number): Promise<Record<string, number | string>>; // a metrics line with kind 'eval'
  state(step: number): S; // what state.json records after `step` steps (kind, loader/RNG positions, …)
}

// The part of a loop a trainer's `train` settings (./settings.ts's runSettings with `steps`) fill as they are.
type Schedule = Pick<
  TrainLoop<CheckpointState>,
  'steps' | 'checkpointEvery' | 'logEvery' | 'evalEvery' | 'onNonFinite'
>;

export function schedule(t: Schedule): Schedule {
  const { steps, checkpointEvery, logEvery, evalEvery, onNonFinite } = t;
  return { steps, checkpointEvery, logEvery, evalEvery, onNonFinite };
}

export interface RunResult {
  steps: number; // the step the run reached
  interrupted: boolean;
  checkpoint: string;
  metrics: string;
  main?: boolean; // false on the ranks other than 0 of a data-parallel run (they write nothing)
}

// The line a train command ends with (none on ranks other than 0).
export function runSummary(r: RunResult): string | undefined {
  if (r.main === false) return undefined;
  return r.interrupted
    ? `interrupted at step ${r.steps}: checkpoint ${r.checkpoint}; continue with --resume`
    : `trained to step ${r.steps}: checkpoint ${r.checkpoint}, metrics ${r.metrics}`;
}

export class Run<S extends CheckpointState> {
  readonly metrics: MetricsLog;

  // `saved` is the checkpoint being resumed (its state.json), undefined for a new run.
  private constructor(
    readonly dir: string,
    readonly checkpoint: string | undefined,
    readonly saved: S | undefined,
    private readonly options: RunOptions,
    private readonly lock: RunLock | undefined
  ) {
    this.metrics = new MetricsLog(join(dir, 'metrics.jsonl'));
  }

  static open<S extends CheckpointState>(kind: string, options: RunOptions): Run<S> {
    const dir = options.out;
    mkdirSync(dir, { recursive: true });
    // Locked before the checkpoints are looked at, so that no other writer moves them on meanwhile.
    const main = !options.group || options.group.isMain;
    const lock = main ? RunLock.acquire(dir, options.log ?? console.error) : undefined;
    try {
      const existing = resolveCheckpoint(dir);
      if (existing && !options.resume) {
        throw new TorchmotionError(
          `${dir} already holds checkpoints: pass --resume to continue it, or choose another ` + '--out'
        );
      }
      const saved = existing ? readCheckpointState<S>(existing) : undefined;
      if (saved && saved.kind !== kind) {
        throw new TorchmotionError(
          `${existing} is a ${String(saved.kind)} checkpoint, not a ${kind} run: choose ` + 'another --out'
        );
      }
      return new Run<S>(dir, existing, saved, options, lock);
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  // The step to start from: the resumed checkpoint's, or 0.
  get start(): number {
    return this.saved?.step ?? 0;
  }

  // Trains, holding the run folder's lock (rank 0 or the single process) until the run ends, however it ends.
  async train(loop: TrainLoop<S>): Promise<RunResult> {
    this.lock?.training();
    try {
      return await this.steps(loop);
    } finally {
      this.lock?.release();
    }
  }

  private async steps(loop: TrainLoop<S>): Promise<RunResult> {
    const group = this.options.group;
    const main = !group || group.isMain;
    if (group) {
      // every rank resumes from the same step, or none trains
      const starts = group.native.allGather([this.start]).map((v) => v[0]);
      const odd = starts.map((s, r) => [r, s]).filter(([, s]) => s !== starts[0]);
      if (odd.length > 0) {
        throw new TorchmotionError(
          `rank(s) ${odd.map(([r, s]) => `${r} (step ${s})`).join(', ')} would resume from another step than rank 0 ` +
            `(step ${starts[0]}) in ${this.dir}: every rank must see the same run folder (on several nodes, ` +
            `a filesystem they share)`
        );
      }
    }
    if (this.checkpoint) {
      await loop.model.load(join(this.checkpoint, 'model.pt'));
      if (main) this.metrics.truncateAfter(this.start);
    }
    const configFile = join(this.dir, 'config.json');
    try {
      if (main) writeFileSync(configFile, JSON.stringify(loop.config, null, 2));
    } catch (err) {
      throw fileError(err, 'writing', configFile);
    }
    const progress = createProgress(loop.steps, this.start, 'step', main ? this.options.log : () => {}, loop.logEvery);
    let checkpoint = this.checkpoint ?? '';
    let interrupted = false;
    // Every Ctrl-C only asks for a stop: a second one during the checkpoint write must not kill the process.
    const onSigint = () => {
      interrupted = true;
    };
    process.on('SIGINT', onSigint);
    const evalEvery = loop.evalEvery ?? 0;
    let step = this.start;
    let previous = group?.native.stats;
    try {
      while (step < loop.steps) {
        const report = await loop.step(step);
        if (report.nonFinite) {
          const { reason, clips } = report.nonFinite;
          const batch = `${clips.slice(0, 8).join(', ')}${clips.length > 8 ? ` and ${clips.length - 8} more` : ''}`;
          if ((loop.onNonFinite ?? 'stop') === 'stop') {
            throw new TorchmotionError(
              `step ${step + 1}: ${NON_FINITE[reason]} (batch: ${batch}); no update was applied, and the last ` +
                `checkpoint is ${checkpoint || 'not written yet'}. Find NaN/Inf clips with \`torchmotion ` +
                `data index <root> --scan-values\`, ` +
                'or set train.onNonFinite=skip to pass over such batches'
            );
          }
          if (main) this.metrics.append({ step, kind: 'skipped', reason, clips: clips.join(' ') });
          this.options.log?.(`step ${step + 1} skipped: ${NON_FINITE[reason]} (batch: ${batch})`);
        } else if (main) {
          this.metrics.append({ step, ...report.metrics, ...(group && communication(group, previous)) });
        }
        if (group) previous = group.native.stats;
        progress.update(step + 1, report.progress);
        step++;
        if (loop.evaluate && evalEvery > 0 && (step % evalEvery === 0 || step === loop.steps)) {
          const evaluated = await loop.evaluate(step); // every rank evaluates, so none waits for rank 0 at a collective
          if (main) this.metrics.append({ step: step - 1, kind: 'eval', ...evaluated });
        }
        const asked =
          interrupted || (this.options.stopAfter !== undefined && step - this.start >= this.options.stopAfter);
        const stop = group ? group.any(asked) : asked;
        if (main && (step % loop.checkpointEvery === 0 || step === loop.steps || stop)) {
          checkpoint = await saveCheckpoint(this.dir, loop.state(step), (file) => loop.model.save(file));
        }
        if (stop) return { steps: step, interrupted: true, checkpoint, metrics: this.metrics.file, main };
      }
      return { steps: step, interrupted: false, checkpoint, metrics: this.metrics.file, main };
    } finally {
      process.removeListener('SIGINT', onSigint);
      progress.stop();
    }
  }
}

export const openRun = Run.open;

// This step's gradient averaging on this rank (metrics of a data-parallel run): the milliseconds spent waiting for it
// after backward, and the buckets whose all-reduce started during backward.
function communication(
  group: DistributedGroup,
  before: DistributedGroup['native']['stats'] | undefined
): Record<string, number> {
  const now = group.native.stats;
  return {
    commMs: now.waitMs - (before?.waitMs ?? 0),
    bucketsEarly: now.early - (before?.early ?? 0),
    buckets: now.allReduces - (before?.allReduces ?? 0) - 1,
  };
}

// Whether two plain settings objects (a model config, a native shape) are equal whatever their keys' order.
export function sameSettings(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canon((v as Record<string, unknown>)[k])])
        )
      : v;
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}
