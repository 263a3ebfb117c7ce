// Data-parallel training as a trainer sees it: the rank and world read from the variables torchrun, SLURM and
// `torchmotion launch` set, a c10d process group in the addon (Gloo over TCP, rendezvous through c10d's TCPStore),
// the small agreements a run needs (mean losses, "does any rank stop", same config and data) and the model joining it.
import { createHash } from 'node:crypto';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { native, type NativeProcessGroup } from '../native.js';

export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
  timeoutMs: number;
  bucketBytes: number;
}

// What TORCHMOTION_DIST_TIMEOUT and TORCHMOTION_DIST_BUCKET_MB give when unset (checked where they are read).
export const distDefaults = z
  .object({
    timeoutS: z.number().default(300),
    bucketMB: z.number().default(25), // PyTorch DDP's bucket_cap_mb
  })
  .strict();

function intVar(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new TorchmotionError(`${name}=${raw}: expected an integer ≥ ${min}`);
  return v;
}

// torchrun's variables first, then SLURM's (srun sets SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID per task); undefined
// for a process started without them. A world of one still makes a group (as torchrun's single process gets one):
// its collectives do nothing, and on CUDA it is how the NCCL path is checked on one GPU. A world of one without
// MASTER_ADDR (a plain single SLURM task) is a single process.
export function distEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | undefined {
  const worldSize = intVar(env, 'WORLD_SIZE', 1) ?? intVar(env, 'SLURM_NTASKS', 1);
  if (worldSize === undefined || (worldSize === 1 && !env.MASTER_ADDR)) return undefined; // e.g. a single srun task
  const rank = intVar(env, 'RANK', 0) ?? intVar(env, 'SLURM_PROCID', 0);
  if (rank === undefined)
    throw new TorchmotionError(`WORLD_SIZE=${worldSize} but no RANK (or SLURM_PROCID): each process needs its rank`);
  if (rank >= worldSize)
    throw new TorchmotionError(`RANK=${rank} does not fit WORLD_SIZE=${worldSize} (ranks are 0 … ${worldSize - 1})`);
  const masterAddr = env.MASTER_ADDR;
  if (!masterAddr)
    throw new TorchmotionError(
      'WORLD_SIZE is set but MASTER_ADDR is not: give the address of the rank-0 machine (torchrun ' +
        'and `torchmotion launch` set it)'
    );
  const masterPort = intVar(env, 'MASTER_PORT', 1) ?? 29500;
  if (masterPort > 65535) throw new TorchmotionError(`MASTER_PORT=${masterPort}: expected a port 1 … 65535`);
  const defaults = distDefaults.parse({});
  const timeoutS = env.TORCHMOTION_DIST_TIMEOUT ? Number(env.TORCHMOTION_DIST_TIMEOUT) : defaults.timeoutS;
  if (!(timeoutS > 0))
    throw new TorchmotionError(`TORCHMOTION_DIST_TIMEOUT=${env.TORCHMOTION_DIST_TIMEOUT}: expected seconds > 0`);
  const bucketMb = env.TORCHMOTION_DIST_BUCKET_MB ? Number(env.TORCHMOTION_DIST_BUCKET_MB) : defaults.bucketMB;
  if (!(bucketMb >= 0))
    throw new TorchmotionError(
      `TORCHMOTION_DIST_BUCKET_MB=${env.TORCHMOTION_DIST_BUCKET_MB}: expected megabytes ≥ 0 (0 ` +
        `averages the gradients after backward)`
    );
  return {
    rank,
    worldSize,
    masterAddr,
    masterPort,
    timeoutMs: Math.round(timeoutS * 1000),
    bucketBytes: Math.round(bucketMb * 2 ** 20),
    localRank: intVar(env, 'LOCAL_RANK', 0) ?? intVar(env, 'SLURM_LOCALID', 0) ?? rank,
    localWorldSize: intVar(env, 'LOCAL_WORLD_SIZE', 1) ?? worldSize,
  };
}

// Plain settings flattened to dotted leaves, for naming the one that differs between ranks.
function leaves(v: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const k of Object.keys(v).sort()) leaves((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out);
  } else {
    out.set(path, JSON.stringify(v));
  }
  return out;
}

const hash48 = (s: string) => parseInt(createHash('sha256').update(s).digest('hex').slice(0, 12), 16);

export class DistributedGroup {
  private constructor(
    readonly env: DistEnv,
    private readonly pg: NativeProcessGroup
  ) {}

  // On CUDA each rank trains on GPU LOCAL_RANK and the group is NCCL's; on the CPU it is Gloo's.
  static open(env: DistEnv, device = 'cpu'): DistributedGroup {
    const addon = native();
    if (!addon.ProcessGroup.available) {
      throw new TorchmotionError(
        'WORLD_SIZE > 1 but this addon was built without c10d/Gloo: install libgloo-dev and run `npm run build:native`'
      );
    }
    const cuda = device.startsWith('cuda');
    if (cuda && !addon.ProcessGroup.nccl) {
      throw new TorchmotionError(
        `train.device ${device} with WORLD_SIZE > 1 needs c10d's NCCL, which this LibTorch lacks: ` +
          `build the addon against a CUDA LibTorch with NCCL`
      );
    }
    return new DistributedGroup(
      env,
      new addon.ProcessGroup({ ...env, backend: cuda ? 'nccl' : 'gloo', cudaDevice: env.localRank })
    );
  }

  // The device this rank trains on: with several ranks per node, 'cuda' means this rank's own GPU (LOCAL_RANK).
  device(device: string): string {
    return device === 'cuda' ? `cuda:${this.env.localRank}` : device;
  }

  get rank(): number {
    return this.env.rank;
  }
  get worldSize(): number {
    return this.env.worldSize;
  }
  get isMain(): boolean {
    return this.env.rank === 0;
  }
  get native(): NativeProcessGroup {
    return this.pg;
  }

  mean(values: number[]): number[] {
    return this.pg.allReduceMean(values);
  }
  any(flag: boolean): boolean {
    return this.pg.allReduceMean([flag ? 1 : 0])[0] > 0;
  }

  // Every rank must train the same thing: the settings (as dotted leaves) and a description of the data are compared
  // by hash; a difference names the ranks and the first settings that differ.
  checkSame(settings: unknown, data: string): void {
    const mine = leaves({ settings, data }, '', new Map());
    const counts = this.pg.allGather([mine.size, hash48([...mine].join('\n'))]);
    const odd = counts
      .map((c, r) => [r, c] as const)
      .filter(([, c]) => c[1] !== counts[0][1])
      .map(([r]) => r);
    if (odd.length === 0) return;
    let detail = '';
    if (counts.every((c) => c[0] === counts[0][0])) {
      const names = [...mine.keys()];
      const all = this.pg.allGather(names.map((k) => hash48(`${k}=${mine.get(k)}`)));
      const differ = names.filter((_, i) => all.some((h) => h[i] !== all[0][i]));
      detail =
        `: ${differ.slice(0, 5).join(', ')}${differ.length > 5 ? ', …' : ''}` +
        (this.isMain
          ? ''
          : ` (this rank has ${differ
              .slice(0, 3)
              .map((k) => `${k}=${mine.get(k)}`)
              .join(', ')})`);
    }
    throw new TorchmotionError(
      `rank(s) ${odd.join(', ')} were started with other settings or data than rank 0${detail}: ` +
        `every rank must run the same command on the same data`
    );
  }
}

// The process group of this process, when it was started as one rank of several; undefined otherwise.
export function groupFromEnv(device = 'cpu', env: NodeJS.ProcessEnv = process.env): DistributedGroup | undefined {
  const d = distEnv(env);
  return d ? DistributedGroup.open(d, device) : undefined;
}

// The settings ranks must share: all but those that may differ per process (threads, device).
export function trainingSettings(config: { train?: object; [key: string]: unknown }): unknown {
  const { threads: _threads, device: _device, ...train } = (config.train ?? {}) as Record<string, unknown>;
  return { ...config, train };
}

// The data a run trains on, as clip names and lengths (what the index read), hashed.
export function dataSignature(names: ArrayLike<string>, frames: ArrayLike<number>): string {
  const h = createHash('sha256');
  for (let i = 0; i < names.length; i++) h.update(`${names[i]}\t${frames[i]}\n`);
  return `${names.length} clips ${h.digest('hex').slice(0, 16)}`;
}
