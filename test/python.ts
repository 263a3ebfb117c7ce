// The PyTorch reference scripts run on Debian's python3-torch (set-up installs it for the tests).
import { spawnSync } from 'node:child_process';

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
