// The peak resident memory of a child process: the parent polls /proc/<pid>/status every ~50 ms and keeps the last
// VmHWM it read (the kernel's resident-set high-water mark, which only grows, so the last successful read is the peak).
// Limitations: growth in the last < 50 ms before the child exits is missed (once it has exited its status has no VmHWM
// left to read); VmHWM counts every resident page, mapped libraries included; Linux only (peakMB is undefined
// elsewhere).
import { closeSync, openSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';

export const POLL_MS = 50;

export const statusKb = (pid: number, field: string): number | undefined => {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};

export interface Measured {
  rc: number | null;
  signal: string | null;
  seconds: number;
  peakMB?: number;
  timedOut: boolean;
  logFile: string;
  tail: string;
}

// Runs `node <args…>` in cwd with stdout and stderr into logFile; SIGTERM after timeoutS (SIGKILL 10 s later).
export function measurePeak(
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; timeoutS: number }
): Promise<Measured> {
  const fd = openSync(o.logFile, 'w');
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let peakKb: number | undefined;
  let timedOut = false;
  const poll = () => {
    const v = statusKb(child.pid!, 'VmHWM');
    if (v !== undefined) peakKb = v;
  };
  poll();
  const timer = setInterval(poll, POLL_MS);
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, o.timeoutS * 1000);
  return new Promise((done) => {
    child.on('exit', (rc, signal) => {
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(timer);
      clearTimeout(killer);
      const text = readFileSync(o.logFile, 'utf8');
      done({
        rc,
        signal,
        seconds,
        peakMB: peakKb === undefined ? undefined : peakKb / 1024,
        timedOut,
        logFile: o.logFile,
        tail: text.trim().split('\n').slice(-4).join('\n'),
      });
    });
  });
}
