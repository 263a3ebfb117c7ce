// The shape of the code itself: the whole tree type-checks against the typed addon, no module casts its way to the
// addon, and every command's numeric options refuse bad text by naming it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repo = join(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []
  );
}

test('ts/, test/ and scripts/ type-check (tsconfig.check.json)', () => {
  const r = spawnSync(join(repo, 'node_modules', '.bin', 'tsc'), ['-p', join(repo, 'tsconfig.check.json')], {
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test('no module in ts/ reaches the addon through a cast', () => {
  const offenders = tsFiles(join(repo, 'ts')).filter((f) => /native\(\)\s*as\b/.test(readFileSync(f, 'utf8')));
  assert.equal(offenders, []);
});

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(repo, 'bin', 'torchmotion.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });

test('a numeric option given text names the option and what was typed', () => {
  const generate = cli('t2m', 'generate', '--ckpt', 'nowhere', '-t', 'a person walks', '--threads', 'abc');
  assert.is(generate.status, 1);
  assert.match(generate.stderr, "option '--threads <n>' argument 'abc' is invalid. expected a positive integer");
  const global = cli('--threads', '0', 'info');
  assert.match(global.stderr, "option '--threads <n>' argument '0' is invalid. expected a positive integer");
  const topP = cli('t2m', 'generate', '--ckpt', 'nowhere', '-t', 'x', '--top-p', '1.5');
  assert.match(topP.stderr, "option '--top-p <p>' argument '1.5' is invalid. expected a number in (0, 1]");
  const fps = cli('data', 'convert', 'smpl', 'x.npz', '--rest-skeleton', 'r.npy', '-o', 'out', '--fps', '-5');
  assert.match(fps.stderr, "option '--fps <n>' argument '-5' is invalid. expected a positive number");
  const pfnn = cli('export', 'pfnn', 'data/demo', '--split', 'train', '-o', 'nowhere', '--median-window', 'x');
  assert.match(pfnn.stderr, "option '--median-window <frames>' argument 'x' is invalid. expected a positive integer");
});

test('an error quoting a name with terminal escapes prints them escaped', () => {
  // A checkpoint path from a hostile file name: ESC [2J would clear the screen, \r would overwrite the line.
  const r = cli(
    'tokenizer',
    'encode',
    '--ckpt',
    'nowhere\u001b[2J\rALL CHECKS PASSED',
    '--data',
    'nowhere',
    '-o',
    'out'
  );
  assert.is(r.status, 1);
  assert.not.match(r.stderr, /\u001b|\r/);
  assert.match(r.stderr, 'nowhere\\x1b[2J\\x0dALL CHECKS PASSED');
});

test('renamed commands keep their old names, which say the new ones', () => {
  const runtime = cli('pfnn', 'export', 'nowhere', '-o', 'nowhere-out');
  assert.match(runtime.stderr, 'torchmotion: `pfnn export` is now `pfnn runtime` (it writes the runtime files)');
  assert.match(runtime.stderr, 'nowhere');
  const database = cli('export', 'pfnn', 'nowhere', '--split', 'train', '-o', 'nowhere-out');
  assert.match(database.stderr, 'torchmotion: `export pfnn` is now `pfnn database` (it makes the PFNN database)');
  assert.is(database.status, 1);
  assert.match(cli('pfnn', 'database', '--help').stdout, 'a split → the SMPL-22 PFNN database');
});

// The CLI is a thin layer over the public API: what its commands run is importable from the package.
test('ts/index.ts exports the functions the commands run, PFNN, import/export and launch included', async () => {
  const api: Record<string, unknown> = await import('../ts/index.js');
  const used = [
    'prepareDataset',
    'buildIndex',
    'computeMeanStd',
    'buildDemoDataset',
    'bvhTo272',
    'smplTo272',
    'trainTokenizer',
    'evaluateTokenizer',
    'encodeDataset',
    'compareQuantizers',
    'compareByGeneration',
    'trainT2M',
    'generateMotions',
    'evaluateT2M',
    'buildEmbeddingCache',
    'trainEvaluator',
    'testEvaluator',
    'buildPfnnDatabase',
    'trainPfnn',
    'loadPfnn',
    'writePfnnRuntime',
    'pfnnQuality',
    'importCheckpoint',
    'exportRun',
    'launch',
    'renderMotions',
    'plotRuns',
    'serveViewer',
    'runPipeline',
  ];
  assert.equal(
    used.filter((name) => typeof api[name] !== 'function'),
    []
  );
});

test.run();
