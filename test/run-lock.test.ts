// The run folder's lock and the launcher's ends (issue 30, cases 3 and 12): a rank stopped with SIGSTOP is killed
// after --grace and the launcher ends; kill -9 of the launcher stops its ranks (with a checkpoint), and while they run
// a second writer is refused naming the holder; a lock whose process is gone (or whose pid was given to another
// process) is taken over with a line saying so, one left by this process is taken back, one from another host is
// refused; kill -9 of a single process, then a resume, continues exactly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { constants, hostname } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { trainTokenizer } from '../ts/tokenizer/train.js';
import { errorOf, tempDir } from './helpers.js';

const repo = join(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'torchmotion.js');
const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TORCHMOTION_THREADS: '1' };
const root = tempDir('tm-lock-data-');
writeSyntheticDataset(root, 4);
const dir = tempDir('tm-lock-');
const config = (steps: number) => ({
  preset: 'tiny' as const,
  data: { root },
  train: { steps, batch: 2, window: 32, checkpointEvery: 4, logEvery: 1, threads: 1, device: 'cpu' },
});
const configFile = (steps: number) => {
  const file = join(dir, `steps-${steps}.json`);
  writeFileSync(file, JSON.stringify(config(steps)));
  return file;
};
const tokArgs = (out: string, steps: number) => ['tokenizer', 'train', '--config', configFile(steps), '--out', out];
const lockOf = (run: string) => join(run, 'run.lock');
const metricLines = (run: string) =>
  existsSync(join(run, 'metrics.jsonl')) ? readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n').length - 1 : 0;
const losses = (metrics: string) =>
  readFileSync(metrics, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).loss as number);

async function until(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) {
      throw new assert.Assertion({ message: `${what()}: not within ${ms / 1000} s` } as never);
    }
    await new Promise((wake) => setTimeout(wake, 25));
  }
}

// A process of this machine as /proc shows it: its parent, whether it still runs (a zombie has ended) and its RANK.
function proc(pid: number): { ppid: number; running: boolean; rank?: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rank = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((v) => v.startsWith('RANK='));
    return { ppid: Number(ppid), running: state !== 'Z' && state !== 'X', rank: rank?.slice(5) };
  } catch {
    return undefined;
  }
}
const ranksOf = (launcher: number) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => proc(p)?.ppid === launcher)
    .sort((a, b) => Number(proc(a)!.rank) - Number(proc(b)!.rank));
const running = (pid: number) => proc(pid)?.running === true;
const hasProc = existsSync('/proc/self/stat');

function start(args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repo, env });
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const exit = new Promise<number | null>((done) => child.on('exit', done));
  return { child, output: () => output, exit };
}

// Two ranks of `launch` (with `flags`) training into `run`, once the first step is in metrics.jsonl: the launcher, and
// the pids of rank 0 and rank 1.
async function launched(run: string, flags: string[]) {
  const l = start(['launch', '--nproc-per-node', '2', ...flags, '--', ...tokArgs(run, 100000)]);
  await until(
    () => metricLines(run) >= 1,
    60000,
    () => `a step\n${l.output()}`
  );
  return { ...l, ranks: ranksOf(l.child.pid!) };
}

test(`a rank stopped with SIGSTOP is killed after --grace, when the other rank fails and on Ctrl-C, \
and launch ends`, async () => {
  if (!hasProc) return void console.log('  (skipped: finding the ranks needs /proc)');
  const [failing, interrupted] = await Promise.all([
    launched(join(dir, 'stopped'), ['--grace', '0.5']),
    launched(join(dir, 'stopped-int'), ['--grace', '0.5']),
  ]);
  const launchers = [failing, interrupted];
  try {
    for (const l of launchers) {
      assert.is(l.ranks.length, 2);
      process.kill(l.ranks[1], 'SIGSTOP');
    }
    process.kill(failing.ranks[0], 'SIGKILL'); // as rank 0 ends when the stopped rank makes it time out, sooner
    interrupted.child.kill('SIGINT');
    const late = new Promise((wake) => setTimeout(wake, 15000, 'still running'));
    const codes = await Promise.all(launchers.map((l) => Promise.race([l.exit, late])));
    const sigkill = 128 + constants.signals.SIGKILL;
    assert.equal(codes, [sigkill, sigkill], launchers.map((l) => l.output()).join('\n'));
  } finally {
    for (const l of launchers) {
      for (const p of l.ranks) if (running(p)) process.kill(p, 'SIGKILL');
      l.child.kill('SIGKILL');
    }
  }
  const killed = (l: typeof failing, signal: string) =>
    `launch: rank 1 (pid ${l.ranks[1]}) has not ended 0.5 s ` +
    `after ${signal} (stopped or hung); killing it with SIGKILL (--grace sets the wait)`;
  assert.match(failing.output(), 'launch: rank 0 exited with SIGKILL; stopping the other ranks');
  assert.match(failing.output(), killed(failing, 'SIGTERM'));
  assert.match(interrupted.output(), killed(interrupted, 'SIGINT'));
  assert.not.match(interrupted.output(), 'stopping the other ranks', 'ranks it killed are not taken for failures');
});

test(
  'kill -9 of the launcher: meanwhile a second writer is refused, naming the holder; then its ranks stop with a ' +
    'checkpoint within seconds',
  async () => {
    if (!hasProc) return void console.log('  (skipped: finding the ranks needs /proc)');
    const run = join(dir, 'orphans');
    const l = start(['launch', '--nproc-per-node', '2', '--', ...tokArgs(run, 100000)]);
    let ranks: number[] = [];
    try {
      await until(
        () => metricLines(run) >= 1,
        60000,
        () => `a step\n${l.output()}`
      );
      ranks = ranksOf(l.child.pid!);
      const holder = JSON.parse(readFileSync(lockOf(run), 'utf8'));
      assert.is(holder.pid, ranks[0], 'rank 0 holds the lock');
      assert.is(
        await errorOf(() => trainTokenizer(config(100000), { out: run, resume: true, log: () => {} })),
        `${run} is in use by process ${ranks[0]} on ${hostname()} (since ${holder.started}, lock ${lockOf(run)}): ` +
          'wait for that run to end or stop it, or choose another --out'
      );
      l.child.kill('SIGKILL');
      const killed = performance.now();
      await until(
        () => !ranks.some(running),
        10000,
        () => `the ranks ending\n${l.output()}`
      );
      const seconds = (performance.now() - killed) / 1000;
      assert.ok(seconds < 5, `${seconds.toFixed(1)} s`);
    } finally {
      for (const p of ranks) if (running(p)) process.kill(p, 'SIGKILL');
    }
    assert.match(l.output(), `torchmotion: rank 0: its launcher (pid ${l.child.pid}) is gone; stopping as on Ctrl-C`);
    assert.match(l.output(), /interrupted at step \d+: checkpoint .*; continue with --resume/);
    assert.not.ok(existsSync(lockOf(run)), 'rank 0 unlocked the folder');
  }
);

test(
  'a lock whose process is gone, or whose pid now names another process, is taken over with a line; one of this ' +
    'process is taken back; one from another host is refused',
  async () => {
    const run = join(dir, 'stale');
    mkdirSync(run);
    const lock = (holder: object) =>
      writeFileSync(
        lockOf(run),
        JSON.stringify({ host: hostname(), started: '2024-05-01T10:00:00.000Z', token: 'feedfacefeedface', ...holder })
      );
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    lock({ pid: dead });
    const lines: string[] = [];
    assert.is((await trainTokenizer(config(1), { out: run, log: (line) => lines.push(line) })).steps, 1);
    assert.is(
      lines[0],
      `${run}: taking over the lock of process ${dead} on ${hostname()} ` +
        '(since 2024-05-01T10:00:00.000Z), which is no longer running'
    );
    assert.not.ok(existsSync(lockOf(run)), 'unlocked at the end');
    if (hasProc) {
      // the parent runs, but started at another time than the lock says
      lock({ pid: process.ppid, processStart: '1' });
      lines.length = 0;
      const resumed = await trainTokenizer(config(2), { out: run, resume: true, log: (line) => lines.push(line) });
      assert.is(resumed.steps, 2);
      assert.match(lines[0], `taking over the lock of process ${process.ppid} on ${hostname()}`);
    }
    // A run of this process that failed before training left its lock (the process goes on): the next one takes it
    // back.
    const early = await errorOf(() =>
      trainTokenizer(
        { ...config(3), train: { ...config(3).train, window: 33 } },
        { out: run, resume: true, log: () => {} }
      )
    );
    assert.match(early, 'train.window 33 must be a multiple');
    assert.is(JSON.parse(readFileSync(lockOf(run), 'utf8')).pid, process.pid);
    lines.length = 0;
    assert.is((await trainTokenizer(config(3), { out: run, resume: true, log: (line) => lines.push(line) })).steps, 3);
    assert.not.ok(
      lines.some((line) => line.includes('taking over')),
      lines.join('\n')
    );
    assert.not.ok(existsSync(lockOf(run)), 'unlocked at the end');
    lock({ pid: process.pid, host: 'elsewhere.example' });
    assert.is(
      await errorOf(() => trainTokenizer(config(3), { out: run, resume: true, log: () => {} })),
      `${run} is locked by process ${process.pid} on elsewhere.example (since ` +
        `2024-05-01T10:00:00.000Z), and this host ` +
        `(${hostname()}) cannot tell whether it still runs: if that run is really gone, ` +
        `delete ${lockOf(run)} and run ` +
        'again'
    );
  }
);

test('kill -9 of a single-process run leaves its lock; a resume takes it over and continues exactly', async () => {
  const run = join(dir, 'cut');
  const p = start(tokArgs(run, 100000));
  await until(
    () => existsSync(join(run, 'checkpoints', 'latest')),
    60000,
    () => `a checkpoint\n${p.output()}`
  );
  p.child.kill('SIGKILL');
  await p.exit;
  assert.is(JSON.parse(readFileSync(lockOf(run), 'utf8')).pid, p.child.pid, 'the lock is left behind');
  // The run resumes to 8 steps past its checkpoint (train.steps changes no step before it), and so does the whole one.
  const steps = Number(readFileSync(join(run, 'checkpoints', 'latest'), 'utf8').match(/\d+/)![0]) + 8;
  const lines: string[] = [];
  const resumed = await trainTokenizer(config(steps), { out: run, resume: true, log: (line) => lines.push(line) });
  assert.is(resumed.steps, steps);
  assert.match(lines[0], `${run}: taking over the lock of process ${p.child.pid} on ${hostname()}`);
  const whole = await trainTokenizer(config(steps), { out: join(dir, 'whole'), log: () => {} });
  assert.equal(losses(join(run, 'metrics.jsonl')), losses(whole.metrics), 'every loss, bit for bit');
});

test.run();
