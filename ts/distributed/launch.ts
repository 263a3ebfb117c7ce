// `torchmotion launch`: starts this node's ranks of a data-parallel run as child processes of the CLI, with the
// variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), the cores split
// between them, Ctrl-C passed on to every rank (they stop together with a checkpoint), and the other ranks stopped
// when one fails, as torchrun does: SIGTERM first, SIGKILL for a rank that has not ended after a grace period. Each
// rank holds an IPC channel to the launcher, which closes when the launcher dies however it dies (kill -9 included),
// and the rank then stops as on Ctrl-C (followLauncher): no orphan rank goes on writing the run folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants, cpus } from 'node:os';
import { dirname, join } from 'node:path';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';

// What a launch leaves out: one node (rank 0) meeting on this machine. graceS is how long ranks asked to stop may
// take before SIGKILL: torchrun's wait between SIGTERM and SIGKILL, and time for a rank to finish its step and write
// its checkpoint after Ctrl-C. A rank still there then is stopped (SIGSTOP: only SIGKILL acts on a stopped process)
// or stuck in a collective with one that is.
export const launchSettings = z
  .object({
    nnodes: z.number().int().positive().default(1),
    nodeRank: z.number().int().nonnegative().default(0),
    masterAddr: z.string().default('127.0.0.1'),
    graceS: z.number().positive().default(30),
  })
  .strict();

export interface LaunchOptions extends Partial<z.output<typeof launchSettings>> {
  nprocPerNode: number;
  masterPort?: number; // default: 29500 with several nodes, a free port on one
  timeoutS?: number; // TORCHMOTION_DIST_TIMEOUT for the ranks
  log?: (line: string) => void;
}

// A port nobody listens on right now (one node only: the ranks meet on this machine).
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

// bin/torchmotion.js of this package, from ts/distributed/ (tsx) or dist/ts/distributed/ (compiled).
function cliBin(): string {
  for (let dir = import.meta.dirname, i = 0; i < 4; i++, dir = dirname(dir)) {
    const bin = join(dir, 'bin', 'torchmotion.js');
    if (existsSync(bin)) return bin;
  }
  throw new TorchmotionError(`launch: bin/torchmotion.js not found above ${import.meta.dirname}`);
}

export async function launch(command: string[], options: LaunchOptions): Promise<number> {
  const { nnodes, nodeRank, masterAddr, graceS } = options;
  const o = { ...options, ...launchSettings.parse({ nnodes, nodeRank, masterAddr, graceS }) };
  if (command.length === 0)
    throw new TorchmotionError(
      'launch: give the command after --, e.g. `torchmotion launch --nproc-per-node 2 -- tokenizer train …`'
    );
  if (o.nodeRank >= o.nnodes)
    throw new TorchmotionError(
      `--node-rank ${o.nodeRank} does not fit --nnodes ${o.nnodes} (node ranks are 0 … ${o.nnodes - 1})`
    );
  const port = o.masterPort ?? (o.nnodes === 1 ? await freePort() : 29500);
  const world = o.nnodes * o.nprocPerNode;
  const threads =
    process.env.TORCHMOTION_THREADS ??
    process.env.OMP_NUM_THREADS ??
    String(Math.max(1, Math.floor(cpus().length / o.nprocPerNode)));
  const bin = cliBin();
  const log = o.log ?? (() => {});
  const live = new Map<ChildProcess, number>(); // the ranks still running, with their rank
  const killed = new Set<ChildProcess>(); // those the launcher killed (said so already)
  let failed: { rank: number; code: number } | undefined;
  // Asked to stop (by `signal`), every rank gets the grace period to end; one still there then is killed.
  let deadline: NodeJS.Timeout | undefined;
  const stopAll = (signal: NodeJS.Signals) => {
    for (const c of live.keys()) c.kill(signal);
    deadline ??= setTimeout(
      () => {
        for (const [c, rank] of live) {
          log(
            `launch: rank ${rank} (pid ${c.pid}) has not ended ${o.graceS} s after ${signal} (stopped or hung); ` +
              'killing it with SIGKILL (--grace sets the wait)'
          );
          killed.add(c);
          c.kill('SIGKILL');
        }
      },
      Math.min(o.graceS * 1000, 2 ** 31 - 1)
    ); // a longer delay would be taken as 1 ms
  };
  const exits = Array.from({ length: o.nprocPerNode }, (_, local) => {
    const rank = o.nodeRank * o.nprocPerNode + local;
    const env = {
      ...process.env,
      RANK: String(rank),
      WORLD_SIZE: String(world),
      LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(o.nprocPerNode),
      MASTER_ADDR: o.masterAddr,
      MASTER_PORT: String(port),
      TORCHMOTION_THREADS: threads,
      OMP_NUM_THREADS: threads,
      OPENBLAS_NUM_THREADS: threads,
      TORCHMOTION_LAUNCHER: String(process.pid),
      ...(o.timeoutS !== undefined && { TORCHMOTION_DIST_TIMEOUT: String(o.timeoutS) }),
    };
    const child = spawn(process.execPath, [bin, ...command], { env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    live.set(child, rank);
    return new Promise<number>((done) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        const rc = code ?? 128 + (signal ? constants.signals[signal] : 0);
        if (rc !== 0 && !failed) {
          failed = { rank, code: rc };
          if (!killed.has(child)) {
            log(`launch: rank ${rank} exited with ${signal ?? `code ${rc}`}; stopping the other ranks`);
            stopAll('SIGTERM');
          }
        }
        done(rc);
      });
    });
  });
  // Ctrl-C reaches the ranks through the terminal's process group; a SIGINT sent to the launcher alone is passed on.
  const onSignal = () => stopAll('SIGINT');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(exits);
  } finally {
    clearTimeout(deadline);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return failed?.code ?? 0;
}

// In a rank started by `launch`: when the launcher is gone its IPC channel closes ('disconnect'), and the rank stops
// as on Ctrl-C: a training run checkpoints and ends with the other ranks, a command that does not handle Ctrl-C exits.
// A pipe's end is seen on every platform and whatever killed the launcher (polling process.ppid is not: Windows keeps
// the dead parent's pid). The channel itself must not keep the rank alive.
export function followLauncher(log: (line: string) => void): void {
  const launcher = process.env.TORCHMOTION_LAUNCHER;
  if (!launcher || !process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => {
    log(`torchmotion: rank ${process.env.RANK}: its launcher (pid ${launcher}) is gone; stopping as on Ctrl-C`);
    if (!process.emit('SIGINT', 'SIGINT')) process.exit(128 + constants.signals.SIGINT);
  });
}
