import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { explainLoadError, loadAddon } from '../ts/native.js';
import { info } from '../ts/runtime.js';
import { errorOf, onCuda, tempDir } from './helpers.js';

test('a missing build says how to build it', async () => {
  const empty = tempDir('tm-nobuild-');
  writeFileSync(join(empty, 'package.json'), '{}');
  const msg = await errorOf(() => loadAddon(empty));
  assert.match(msg, /^the torchmotion addon is not built .*: run `npm run build:native`/);
});

test('a missing LibTorch library names the library and the fix', () => {
  const msg = explainLoadError(
    new Error('libtorch_cpu.so.1.13: cannot open shared object file: No such file or directory'),
    '/x'
  );
  assert.match(
    msg,
    new RegExp(
      String.raw`LibTorch library libtorch_cpu\.so\.1\.13 cannot be found at run time: install it \(\`sudo ` +
        String.raw`apt-get install libtorch-dev\`\)`
    )
  );
  assert.match(
    explainLoadError(new Error('The specified module could not be found. torch_cpu.dll'), '/x'),
    /torch_cpu\.dll cannot be found/
  );
});

test('an ABI or version mismatch says to rebuild', () => {
  for (const raw of [
    '/b/torchmotion.node: undefined symbol: _ZN3c105ErrorC2ENS_14SourceLocationESs',
    'was compiled against a different Node.js version using NODE_MODULE_VERSION 108',
  ]) {
    assert.match(
      explainLoadError(new Error(raw), '/x'),
      /ABI or version mismatch\): rebuild it with `npm run build:native`/
    );
  }
});

test('a corrupt binary (not a shared object) is reported with the fix', async () => {
  const root = tempDir('tm-corrupt-');
  writeFileSync(join(root, 'package.json'), '{}');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(root, 'build', 'Release'), { recursive: true });
  writeFileSync(join(root, 'build', 'Release', 'torchmotion.node'), 'not an ELF file');
  const msg = await errorOf(() => loadAddon(root));
  assert.match(msg, /rebuild it with `npm run build:native`/);
  assert.match(msg, /loader said: /);
});

test('info reports LibTorch, CUDA, threads, BLAS and where the addon came from', () => {
  const i = info();
  assert.match(i.torchVersion, /^\d+\.\d+\.\d+$/);
  assert.is(i.cuda.available, onCuda);
  assert.ok(i.threads >= 1);
  assert.match(i.addonPath, /torchmotion\.node$/);
  assert.is(i.node, process.versions.node);
});

test('`torchmotion info --json` prints the same facts from the CLI', () => {
  const run = spawnSync(
    process.execPath,
    [join(import.meta.dirname, '..', 'bin', 'torchmotion.js'), 'info', '--json'],
    { encoding: 'utf8' }
  );
  assert.is(run.status, 0, run.stderr);
  const j = JSON.parse(run.stdout);
  assert.is(j.torchVersion, info().torchVersion);
  assert.is(j.cuda.available, onCuda);
});

test('the CLI turns a bad option into one line on stderr and exit code 1', () => {
  const run = spawnSync(
    process.execPath,
    [join(import.meta.dirname, '..', 'bin', 'torchmotion.js'), 'pipeline', '--set', 'tokenizer.stepz=1'],
    { encoding: 'utf8' }
  );
  assert.is(run.status, 1);
  assert.is(
    run.stderr.trim(),
    "torchmotion: unknown config key 'tokenizer.stepz' in override 'tokenizer.stepz=1': " +
      'valid keys at tokenizer are steps, batch, window, lr'
  );
});

test.run();
