// Runs every test/*.test.ts with uvu under tsx and ends with the plain line CI reads: "N passed, N failed".
// Each file runs in its own process, so a native crash in one file is counted, not fatal to the run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const only = process.argv.slice(2);
const files = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts') && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();

let passed = 0;
let failed = 0;
const times = [];
for (const file of files) {
  const started = performance.now();
  const run = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join('test', file)], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
    maxBuffer: 64 << 20,
  });
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  times.push([file, (performance.now() - started) / 1000]);
  const count = (label) => Number((run.stdout.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? NaN);
  const total = count('Total');
  const ok = count('Passed');
  const skipped = count('Skipped') || 0;
  if (Number.isNaN(total) || Number.isNaN(ok)) {
    console.log(`${file}: no uvu summary (exit ${run.status ?? run.signal}); counted as 1 failure`);
    failed += 1;
    continue;
  }
  passed += ok;
  failed += total - ok - skipped;
  if (run.status !== 0 && total - ok - skipped === 0) failed += 1; // crashed after its tests
}
// The slowest files, so that what makes the run long is in every log.
times.sort((a, b) => b[1] - a[1]);
console.log(
  `slowest: ${times
    .slice(0, 8)
    .map(([f, t]) => `${f} ${t.toFixed(0)} s`)
    .join(', ')}`
);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
