// `torchmotion launch`: starts this node's ranks of a data-parallel run as child processes of the CLI, with the
// variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), the cores split
// between them, Ctrl-C passed on to every rank (they stop together with a checkpoint), and the other ranks stopped
// when one fails, as torchrun does.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants, cpus } from 'node:os';
import { dirname, join } from 'node:path';

import { TorchmotionError } from '../errors.js';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort?: number;     // default: 29500 with several nodes, a free port on one
  timeoutS?: number;       // TORCHMOTION_DIST_TIMEOUT for the ranks
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

export async function launch(command: string[], o: LaunchOptions): Promise<number> {
  if (command.length === 0) throw new TorchmotionError('launch: give the command after --, e.g. `torchmotion launch --nproc-per-node 2 -- tokenizer train …`');
  if (o.nodeRank >= o.nnodes) throw new TorchmotionError(`--node-rank ${o.nodeRank} does not fit --nnodes ${o.nnodes} (node ranks are 0 … ${o.nnodes - 1})`);
  const port = o.masterPort ?? (o.nnodes === 1 ? await freePort() : 29500);
  const world = o.nnodes * o.nprocPerNode;
  const threads = process.env.TORCHMOTION_THREADS ?? process.env.OMP_NUM_THREADS ?? String(Math.max(1, Math.floor(cpus().length / o.nprocPerNode)));
  const bin = cliBin();
  const children: ChildProcess[] = [];
  let failed: { rank: number; code: number } | undefined;
  const exits = Array.from({ length: o.nprocPerNode }, (_, local) => {
    const rank = o.nodeRank * o.nprocPerNode + local;
    const env = { ...process.env, RANK: String(rank), WORLD_SIZE: String(world), LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(o.nprocPerNode), MASTER_ADDR: o.masterAddr, MASTER_PORT: String(port),
      TORCHMOTION_THREADS: threads, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads,
      ...(o.timeoutS !== undefined && { TORCHMOTION_DIST_TIMEOUT: String(o.timeoutS) }) };
    const child = spawn(process.execPath, [bin, ...command], { env, stdio: 'inherit' });
    children.push(child);
    return new Promise<number>((done) => {
      child.on('exit', (code, signal) => {
        const rc = code ?? 128 + (signal ? constants.signals[signal] : 0);
        if (rc !== 0 && !failed) {
          failed = { rank, code: rc };
          o.log?.(`launch: rank ${rank} exited with ${signal ?? `code ${rc}`}; stopping the other ranks`);
          for (const c of children) if (c !== child && c.exitCode === null) c.kill('SIGTERM');
        }
        done(rc);
      });
    });
  });
  // Ctrl-C reaches the ranks through the terminal's process group; a SIGINT sent to the launcher alone is passed on.
  const onSignal = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGINT'); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(exits);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return failed?.code ?? 0;
}
