// The lock of a run folder: the process that writes a run (the single process, or rank 0) holds `<run>/run.lock`,
// made with O_EXCL so that two processes never both believe they hold it, and naming its holder (pid, host, when,
// and on Linux the process's start time, which tells a live process from a later one given the same pid). A second
// writer is refused; a lock whose process is gone (kill -9, a power cut) is taken over with a line saying so, so that
// `--resume` after kill -9 goes on as before. A lock from another host is refused: this host cannot see whether that
// process runs, and taking it over while it does would interleave two runs' metrics and checkpoints.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { TorchmotionError } from '../errors.js';
import { fileError } from '../files.js';

interface Holder {
  pid: number;
  host: string;
  started: string; // when the lock was taken (ISO time)
  processStart?: string; // /proc/<pid>/stat's starttime (Linux): a pid reused by a later process differs here
  token: string; // this lock's own identity: a release never removes another holder's lock
}

// Clock ticks after boot at which `pid` started (field 22 of /proc/<pid>/stat, counted after the command name,
// which may hold spaces and parentheses); undefined where there is no /proc.
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

// Whether the holder's process still runs on this host: signal 0 probes it (EPERM: it runs, as another user), and a
// start time that differs means the pid now belongs to another process.
function running(h: Holder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = h.processStart === undefined ? undefined : processStart(h.pid);
  return now === undefined || now === h.processStart;
}

function readHolder(file: string): Holder | string {
  let h: Partial<Holder>;
  try {
    h = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is gone' : (err as Error).message.split('\n')[0];
  }
  // A pid of 0 or below would probe a process group: only a plain pid is one.
  if (!(Number.isInteger(h?.pid) && h.pid! > 0) || typeof h.host !== 'string' || typeof h.token !== 'string') {
    return 'it does not name a pid, host and token';
  }
  return h as Holder;
}

// The locks this process holds, by file, and whether their Run is training. A Run that failed between opening and
// training leaves its lock while the process goes on (a library's caller may try again): the next Run of this process
// in that folder takes it back. Whatever is held when the process exits is removed then (an error, a return).
const mine = new Map<string, { token: string; training: boolean }>();
const releaseAll = () => {
  for (const [file, { token }] of mine) remove(file, token);
};

function remove(file: string, token: string): void {
  const h = readHolder(file);
  if (typeof h !== 'string' && h.token === token) rmSync(file, { force: true });
}

export class RunLock {
  private constructor(
    readonly file: string,
    private readonly token: string
  ) {}

  // Takes the lock of `dir` or throws a sentence naming the folder, the holder and what to do; `log` gets the line of
  // a takeover.
  static acquire(dir: string, log: (line: string) => void): RunLock {
    const file = join(dir, 'run.lock');
    const own = mine.get(file);
    if (own?.training) {
      throw new TorchmotionError(
        `${dir} is being trained by another run of this process (${process.pid}): wait for ` +
          'it to end or choose another --out'
      );
    }
    if (own) {
      const h = readHolder(file);
      if (typeof h !== 'string' && h.token === own.token) return new RunLock(file, own.token);
    }
    const me: Holder = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
      processStart: processStart(process.pid),
      token: randomBytes(8).toString('hex'),
    };
    // A second try follows a takeover; a third would mean another process is taking it over at the same moment.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (create(file, me)) {
        if (mine.size === 0) process.on('exit', releaseAll);
        mine.set(file, { token: me.token, training: false });
        return new RunLock(file, me.token);
      }
      const h = readHolder(file);
      if (h === 'it is gone') continue;
      if (typeof h === 'string') {
        throw new TorchmotionError(
          `${dir} is locked by ${file}, which cannot be read (${h}): if no run is writing ` +
            `this folder, delete ${file} and run again`
        );
      }
      const since = `since ${h.started}`;
      if (h.host !== me.host) {
        throw new TorchmotionError(
          `${dir} is locked by process ${h.pid} on ${h.host} (${since}), and this host ` +
            `(${me.host}) cannot tell whether it still runs: if that run is really gone, delete ${file} and run again`
        );
      }
      // A lock naming this process's pid that it does not hold is an earlier process's, which had the same pid.
      if (h.pid !== process.pid && running(h)) {
        throw new TorchmotionError(
          `${dir} is in use by process ${h.pid} on ${h.host} (${since}, lock ${file}): ` +
            'wait for that run to end or stop it, or choose another --out'
        );
      }
      if (takeOver(file, h)) {
        log(`${dir}: taking over the lock of process ${h.pid} on ${h.host} (${since}), which is no longer running`);
      }
    }
    throw new TorchmotionError(`${dir}: another process took over its lock ${file} at the same time: run again`);
  }

  // The Run holding the lock trains: another Run of this process is refused the folder until it ends.
  training(): void {
    mine.set(this.file, { token: this.token, training: true });
  }

  // Removes the lock if it is still this one's.
  release(): void {
    if (mine.get(this.file)?.token === this.token) mine.delete(this.file);
    if (mine.size === 0) process.removeListener('exit', releaseAll);
    remove(this.file, this.token);
  }
}

// Creates the lock file holding `me` unless one exists: O_EXCL makes one of two processes win. A reader may meet the
// file empty for the moment before it is written, and is refused as by an unreadable lock.
function create(file: string, me: Holder): boolean {
  let fd;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fileError(err, 'locking the run folder with', file);
  }
  try {
    writeSync(fd, JSON.stringify(me, null, 2) + '\n');
  } catch (err) {
    rmSync(file, { force: true });
    throw fileError(err, 'locking the run folder with', file);
  } finally {
    closeSync(fd);
  }
  return true;
}

// Removes the lock of `stale` unless another process replaced it meanwhile: the file is first moved to a private name
// (atomic: of two processes taking it over, one moves it), and if what was moved is not the stale holder's lock it is
// put back. False when there was nothing to take over.
function takeOver(file: string, stale: Holder): boolean {
  const aside = `${file}.stale-${randomBytes(8).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fileError(err, 'taking over the lock', file);
  }
  const moved = readHolder(aside);
  if (typeof moved === 'string' || moved.token !== stale.token) {
    renameSync(aside, file);
    return false;
  }
  rmSync(aside);
  return true;
}
