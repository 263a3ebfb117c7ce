// What every model wrapper shares over its native class (ts/native.ts's NativeModel, native/binding/model_binding.h):
// the parameter table, state dicts, checkpoints and joining a data-parallel group, each with the caller's stack on a
// native error; and how a wrapper's constructor fills seed, device and AdamW settings left out from its training
// schema's defaults. Each model's wrapper adds the validation of its own calls.
import type { DistributedGroup } from './distributed/group.js';
import { withCallerStack } from './errors.js';
import type { AdamWOptions, NativeModel, ParameterRow, ThreadOptions } from './native.js';
import { checkDevice } from './runtime.js';
import type { HostTensor, TensorOut } from './tensor.js';
import { verifyModelFile } from './train/checkpoint.js';

// Seed, device and optimiser settings a caller may give a model; what it leaves out comes from the training schema.
export interface BuildOptions {
  seed?: number;
  device?: string;
  optimizer?: Partial<AdamWOptions>;
}

// The parts of a training schema's parsed defaults a model's constructor reads (PFNN's Adam has no weight decay).
export interface TrainingDefaults {
  seed: number;
  device: string;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay?: number;
}

// The AdamW settings of a training config.
export function adamWSettings(t: TrainingDefaults): AdamWOptions {
  return { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay ?? 0, eps: t.eps };
}

// The native constructor's seed, device and AdamW options: the caller's, else the training schema's.
export function nativeSettings(
  defaults: TrainingDefaults,
  o: BuildOptions
): AdamWOptions & { seed: number; device: string } {
  return {
    ...adamWSettings(defaults),
    ...o.optimizer,
    seed: o.seed ?? defaults.seed,
    device: checkDevice(o.device ?? defaults.device),
  };
}

// A call's thread count, when given.
export const threadOptions = (threads?: number): ThreadOptions => (threads ? { threads } : {});

export abstract class ModelBase<N extends NativeModel> {
  protected constructor(protected readonly net: N) {}

  parameterTable(): ParameterRow[] {
    return this.net.parameterTable();
  }
  stateDict(): Record<string, TensorOut> {
    return this.net.stateDict();
  }
  // Every parameter and buffer at once (all or nothing); `partial` loads a subset (an import streamed in parts).
  loadStateDict(tensors: Record<string, HostTensor>, o: { partial?: boolean } = {}): void {
    this.net.loadStateDict(tensors, o);
  }
  // Data parallel from now on: weights from rank 0 (checked by checksum), gradients averaged over the ranks each
  // update.
  joinProcessGroup(group: DistributedGroup): void {
    this.net.joinProcessGroup(group.native);
  }
  save(file: string): Promise<void> {
    return withCallerStack(() => this.net.save(file));
  }
  // The archive is checked first (verifyModelFile): LibTorch's reader can crash the process on a damaged file.
  async load(file: string): Promise<void> {
    await verifyModelFile(file);
    return withCallerStack(() => this.net.load(file));
  }
}
