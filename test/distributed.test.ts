// Data parallelism over c10d/Gloo on 127.0.0.1: 2 ranks × B equal 1 rank × 2B (losses and weights, tokenizer and
// text-to-motion decoder, 5 steps), ranks with different settings refuse to start naming the setting, and a rank that
// dies makes the other exit with an error within the timeout.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadTextToMotion } from '../ts/t2m/model.js';
import { requireCheckpoint } from '../ts/train/checkpoint.js';
import { loadTokenizer } from '../ts/tokenizer/model.js';
import { maxRelErr, tempDir } from './helpers.js';

const repo = join(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'torchmotion.js');
const dir = tempDir('tm-dist-');
const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TORCHMOTION_THREADS: '1' };
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [bin, ...args], { cwd: repo, env: { ...env, ...extra }, encoding: 'utf8' });
const losses = (run: string) => readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.loss !== undefined).map((m) => m.loss as number);
const rank = (r: number, port: number, extra: NodeJS.ProcessEnv = {}) => ({ RANK: String(r), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), ...extra });

writeFileSync(join(dir, 'tiny.yaml'), 'preset: tiny\ntrain: { steps: 5, batch: 8, window: 64, checkpointEvery: 5, logEvery: 1 }\n');
const tokArgs = (out: string) => ['tokenizer', 'train', '--config', join(dir, 'tiny.yaml'), '--data', 'data/demo', '--out', out];

async function weightsEqual(a: Record<string, { data: unknown }>, b: Record<string, { data: unknown }>) {
  let worst = 0;
  for (const k of Object.keys(a)) worst = Math.max(worst, maxRelErr(b[k].data as Float32Array, a[k].data as Float32Array));
  return worst;
}

test('tokenizer: `launch --nproc-per-node 2` × batch 4 each = one process × batch 8 (losses and weights within 1e-5), one set of checkpoints', async () => {
  const one = cli(tokArgs(join(dir, 'tok-1')));
  assert.is(one.status, 0, one.stderr);
  const two = cli(['launch', '--nproc-per-node', '2', '--', ...tokArgs(join(dir, 'tok-2'))]);
  assert.is(two.status, 0, two.stderr);
  assert.is(two.stdout.match(/trained to step 5/g)?.length, 1, 'rank 0 alone reports');
  const a = losses(join(dir, 'tok-1'));
  const b = losses(join(dir, 'tok-2'));
  assert.is(b.length, 5);
  assert.ok(maxRelErr(b, a) < 1e-5, `losses ${a} vs ${b}`);
  const { model: m1 } = await loadTokenizer(requireCheckpoint(join(dir, 'tok-1')));
  const { model: m2 } = await loadTokenizer(requireCheckpoint(join(dir, 'tok-2')));
  const worst = await weightsEqual(m1.stateDict(), m2.stateDict());
  assert.ok(worst < 1e-5, `weights ${worst}`);
});

test('text-to-motion: 2 ranks × 2 = 1 × 4 over 5 steps, token-weighted (losses and weights within 1e-5)', async () => {
  const enc = cli(['tokenizer', 'encode', '--ckpt', join(dir, 'tok-1'), '--data', 'data/demo', '--out', join(dir, 'codes')]);
  assert.is(enc.status, 0, enc.stderr);
  const args = (out: string) => ['t2m', 'train', '--codes', join(dir, 'codes'), '--data', 'data/demo', '--out', out, '--set', 'model.preset=tiny',
    '--set', 'model.text=builtin', '--set', 'train.steps=5', '--set', 'train.batch=4', '--set', 'train.checkpointEvery=5', '--set', 'train.warmup=1'];
  const one = cli(args(join(dir, 't2m-1')));
  assert.is(one.status, 0, one.stderr);
  const two = cli(['launch', '--nproc-per-node', '2', '--', ...args(join(dir, 't2m-2'))]);
  assert.is(two.status, 0, two.stderr);
  const a = losses(join(dir, 't2m-1'));
  const b = losses(join(dir, 't2m-2'));
  assert.ok(maxRelErr(b, a) < 1e-5, `losses ${a} vs ${b}`);
  const { model: m1 } = await loadTextToMotion(requireCheckpoint(join(dir, 't2m-1')));
  const { model: m2 } = await loadTextToMotion(requireCheckpoint(join(dir, 't2m-2')));
  const worst = await weightsEqual(m1.stateDict(), m2.stateDict());
  assert.ok(worst < 1e-5, `weights ${worst}`);
});

test('ranks started with different settings refuse to start, naming the setting', async () => {
  const port = 29000 + Math.floor(Math.random() * 900);
  const run = (r: number, extra: string[]) => new Promise<{ code: number | null; err: string }>((done) => {
    const c = spawn(process.execPath, [bin, ...tokArgs(join(dir, 'odd')), ...extra], { cwd: repo, env: { ...env, ...rank(r, port) } });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => done({ code, err }));
  });
  const [r0, r1] = await Promise.all([run(0, []), run(1, ['--set', 'train.lr=0.001'])]);
  assert.is(r0.code, 1);
  assert.is(r1.code, 1);
  assert.match(r0.err, 'torchmotion: rank(s) 1 were started with other settings or data than rank 0: settings.train.lr');
});

test('a rank that dies makes the other exit non-zero within the timeout, saying why', async () => {
  const port = 29000 + Math.floor(Math.random() * 900);
  writeFileSync(join(dir, 'long.yaml'), 'preset: tiny\ntrain: { steps: 100000, batch: 8, window: 64, checkpointEvery: 100000 }\n');
  const args = ['tokenizer', 'train', '--config', join(dir, 'long.yaml'), '--data', 'data/demo', '--out', join(dir, 'dies')];
  const start = (r: number) => spawn(process.execPath, [bin, ...args], { cwd: repo, env: { ...env, ...rank(r, port, { TORCHMOTION_DIST_TIMEOUT: '15' }) } });
  const r0 = start(0);
  const r1 = start(1);
  let err = '';
  r0.stderr.on('data', (d) => { err += d; });
  await new Promise((done) => setTimeout(done, 8000));   // rendezvous and a few steps
  const killedAt = performance.now();
  r1.kill('SIGKILL');
  const code = await new Promise<number | null>((done) => r0.on('exit', done));
  const seconds = (performance.now() - killedAt) / 1000;
  assert.is(code, 1);
  assert.ok(seconds < 30, `rank 0 took ${seconds.toFixed(1)} s to stop`);
  assert.match(err, /c10d (all-reduce|broadcast|all-gather|barrier) failed on rank 0 of 2/);
});

test.run();
