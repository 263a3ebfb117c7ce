// The PyTorch reference scripts run on Debian's python3-torch (set-up installs it for the tests).
import { spawn, spawnSync } from 'node:child_process';

let found: string | undefined;

export function pythonWithTorch(): string {
  if (found) return found;
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(candidate, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return (found = candidate);
  }
  throw new Error(
    'no python3 with torch and numpy: run `bash scripts/setup.sh --with-python-torch` (installs python3-torch)'
  );
}

export function runPython(args: string[]): string {
  const r = spawnSync(pythonWithTorch(), args, {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

// runPython without blocking: several scripts that write different files can run side by side.
export function runPythonAsync(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const p = spawn(pythonWithTorch(), args, {
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', fail);
    p.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`python ${args.join(' ')} failed:\n${err}`))));
  });
}
