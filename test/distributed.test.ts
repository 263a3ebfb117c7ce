// Data parallelism over c10d/Gloo on 127.0.0.1: 2 ranks × B equal 1 rank × 2B (losses and weights, tokenizer and
// text-to-motion decoder, 5 steps, gradient buckets started during backward), accumulation of 2 × B equals one step
// of 2B, a 2-rank run stopped by Ctrl-C on the launcher and resumed equals the uninterrupted one, ranks with different
// settings or checkpoints refuse to start naming the difference, and a rank that dies makes the other exit with an
// error naming it within the timeout.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadT2M } from '../ts/t2m/model.js';
import { requireCheckpoint } from '../ts/train/checkpoint.js';
import { loadTokenizer } from '../ts/tokenizer/model.js';
import { maxRelErr, tempDir } from './helpers.js';

const repo = join(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'torchmotion.js');
const dir = tempDir('tm-dist-');
const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TORCHMOTION_THREADS: '1' };
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: repo, env: { ...env, ...extra }, encoding: 'utf8' });
// cli without blocking: runs that do not depend on each other go side by side (each rank uses one thread).
const cliAsync = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd: repo, env: { ...env, ...extra } });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    c.on('close', (status) => done({ status, stdout, stderr }));
  });
const metrics = (run: string) =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.loss !== undefined);
const losses = (run: string) => metrics(run).map((m) => m.loss as number);
// Buckets of about 20 kB: the tiny models' gradients make several, most of them started while backward runs.
const smallBuckets = { TORCHMOTION_DIST_BUCKET_MB: '0.02' };
const rank = (r: number, port: number, extra: NodeJS.ProcessEnv = {}) => ({
  RANK: String(r),
  WORLD_SIZE: '2',
  MASTER_ADDR: '127.0.0.1',
  MASTER_PORT: String(port),
  ...extra,
});

writeFileSync(
  join(dir, 'tiny.yaml'),
  'preset: tiny\ntrain: { steps: 5, batch: 8, window: 64, checkpointEvery: 5, logEvery: 1 }\n'
);
const tokArgs = (out: string) => [
  'tokenizer',
  'train',
  '--config',
  join(dir, 'tiny.yaml'),
  '--data',
  'data/demo',
  '--out',
  out,
];

const t2mArgs = (out: string, extra: string[]) => [
  't2m',
  'train',
  '--codes',
  join(dir, 'codes'),
  '--data',
  'data/demo',
  '--out',
  out,
  '--set',
  'model.preset=tiny',
  '--set',
  'model.text=builtin',
  '--set',
  'train.steps=5',
  '--set',
  'train.batch=4',
  '--set',
  'train.checkpointEvery=5',
  '--set',
  'train.warmup=1',
  ...extra,
];

async function weightsEqual(a: Record<string, { data: unknown }>, b: Record<string, { data: unknown }>) {
  let worst = 0;
  for (const k of Object.keys(a))
    worst = Math.max(worst, maxRelErr(b[k].data as Float32Array, a[k].data as Float32Array));
  return worst;
}

test(`tokenizer: \`launch --nproc-per-node 2\` × batch 4 each = one process × batch 8 (losses and weights within \
1e-5), one set of checkpoints`, async () => {
  const [one, two] = await Promise.all([
    cliAsync(tokArgs(join(dir, 'tok-1'))),
    cliAsync(['launch', '--nproc-per-node', '2', '--', ...tokArgs(join(dir, 'tok-2'))], smallBuckets),
  ]);
  assert.is(one.status, 0, one.stderr);
  assert.is(two.status, 0, two.stderr);
  assert.is(two.stdout.match(/trained to step 5/g)?.length, 1, 'rank 0 alone reports');
  const m = metrics(join(dir, 'tok-2'));
  assert.ok(
    m.every((l) => l.buckets > 1 && l.bucketsEarly > 0 && l.commMs >= 0),
    `buckets ${JSON.stringify(m.map((l) => [l.buckets, l.bucketsEarly]))}`
  );
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
  const enc = cli([
    'tokenizer',
    'encode',
    '--ckpt',
    join(dir, 'tok-1'),
    '--data',
    'data/demo',
    '--out',
    join(dir, 'codes'),
  ]);
  assert.is(enc.status, 0, enc.stderr);
  const args = (out: string) => t2mArgs(out, []);
  const [one, two] = await Promise.all([
    cliAsync(args(join(dir, 't2m-1'))),
    cliAsync(['launch', '--nproc-per-node', '2', '--', ...args(join(dir, 't2m-2'))], smallBuckets),
  ]);
  assert.is(one.status, 0, one.stderr);
  assert.is(two.status, 0, two.stderr);
  assert.ok(
    metrics(join(dir, 't2m-2')).every((l) => l.buckets > 1 && l.bucketsEarly > 0),
    'trunk buckets start during backward'
  );
  const a = losses(join(dir, 't2m-1'));
  const b = losses(join(dir, 't2m-2'));
  assert.ok(maxRelErr(b, a) < 1e-5, `losses ${a} vs ${b}`);
  const { model: m1 } = await loadT2M(requireCheckpoint(join(dir, 't2m-1')));
  const { model: m2 } = await loadT2M(requireCheckpoint(join(dir, 't2m-2')));
  const worst = await weightsEqual(m1.stateDict(), m2.stateDict());
  assert.ok(worst < 1e-5, `weights ${worst}`);
});

test(`accumulation: 2 micro-batches of B make the step of one batch of 2B (tokenizer and decoder, \
losses and weights within 1e-5)`, async () => {
  const [tok, t2m] = await Promise.all([
    cliAsync([...tokArgs(join(dir, 'tok-acc')), '--set', 'train.batch=4', '--set', 'train.accumulate=2']),
    cliAsync(t2mArgs(join(dir, 't2m-acc'), ['--set', 'train.batch=2', '--set', 'train.accumulate=2'])),
  ]);
  assert.is(tok.status, 0, tok.stderr);
  assert.ok(maxRelErr(losses(join(dir, 'tok-acc')), losses(join(dir, 'tok-1'))) < 1e-5, 'tokenizer losses');
  const { model: a } = await loadTokenizer(requireCheckpoint(join(dir, 'tok-1')));
  const { model: b } = await loadTokenizer(requireCheckpoint(join(dir, 'tok-acc')));
  assert.ok((await weightsEqual(a.stateDict(), b.stateDict())) < 1e-5, 'tokenizer weights');
  assert.is(t2m.status, 0, t2m.stderr);
  assert.ok(maxRelErr(losses(join(dir, 't2m-acc')), losses(join(dir, 't2m-1'))) < 1e-5, 'decoder losses');
  const { model: c } = await loadT2M(requireCheckpoint(join(dir, 't2m-1')));
  const { model: d } = await loadT2M(requireCheckpoint(join(dir, 't2m-acc')));
  assert.ok((await weightsEqual(c.stateDict(), d.stateDict())) < 1e-5, 'decoder weights');
});

test(`Ctrl-C on the launcher stops both ranks with one checkpoint; resumed, the run equals the \
uninterrupted 2-rank run`, async () => {
  writeFileSync(
    join(dir, 'resume.yaml'),
    'preset: tiny\ntrain: { steps: 120, batch: 8, window: 64, checkpointEvery: 1000, logEvery: 1 }\n'
  );
  const args = (out: string) => [
    'launch',
    '--nproc-per-node',
    '2',
    '--',
    'tokenizer',
    'train',
    '--config',
    join(dir, 'resume.yaml'),
    '--data',
    'data/demo',
    '--out',
    out,
  ];
  const uninterrupted = cliAsync(args(join(dir, 'whole')), smallBuckets); // side by side with the interrupted run
  const cut = join(dir, 'cut');
  const launcher = spawn(process.execPath, [bin, ...args(cut)], { cwd: repo, env: { ...env, ...smallBuckets } });
  let out = '';
  launcher.stdout.on('data', (d) => {
    out += d;
  });
  const lines = () =>
    existsSync(join(cut, 'metrics.jsonl'))
      ? readFileSync(join(cut, 'metrics.jsonl'), 'utf8').split('\n').length - 1
      : 0;
  while (lines() < 10 && launcher.exitCode === null) await new Promise((done) => setTimeout(done, 20));
  launcher.kill('SIGINT'); // the launcher alone: it passes the interrupt on to both ranks
  const code = await new Promise<number | null>((done) => launcher.on('exit', done));
  const whole = await uninterrupted;
  assert.is(whole.status, 0, whole.stderr);
  assert.is(code, 0);
  const stopped = Number(out.match(/interrupted at step (\d+)/)?.[1]);
  assert.ok(stopped >= 10 && stopped < 120, `stopped at step ${stopped}`);
  assert.is(out.match(/interrupted at step/g)?.length, 1, 'rank 0 alone reports');
  const resumed = cli([...args(cut), '--resume'], smallBuckets);
  assert.is(resumed.status, 0, resumed.stderr);
  assert.equal(losses(cut), losses(join(dir, 'whole')), 'every loss, bit for bit');
  const { model: a } = await loadTokenizer(requireCheckpoint(join(dir, 'whole')));
  const { model: b } = await loadTokenizer(requireCheckpoint(cut));
  assert.is(await weightsEqual(a.stateDict(), b.stateDict()), 0);
});

test('ranks that would resume from different checkpoints refuse to start, naming the steps', async () => {
  const port = 29000 + Math.floor(Math.random() * 900);
  writeFileSync(
    join(dir, 'ten.yaml'),
    'preset: tiny\ntrain: { steps: 10, batch: 8, window: 64, checkpointEvery: 10 }\n'
  );
  const run = (r: number, out: string) =>
    new Promise<{ code: number | null; err: string }>((done) => {
      const c = spawn(
        process.execPath,
        [bin, 'tokenizer', 'train', '--config', join(dir, 'ten.yaml'), '--data', 'data/demo', '--out', out, '--resume'],
        { cwd: repo, env: { ...env, ...rank(r, port) } }
      );
      let err = '';
      c.stderr.on('data', (d) => {
        err += d;
      });
      c.on('exit', (code) => done({ code, err }));
    });
  const [r0, r1] = await Promise.all([run(0, join(dir, 'tok-2')), run(1, join(dir, 'elsewhere'))]);
  assert.is(r0.code, 1);
  assert.is(r1.code, 1);
  assert.match(
    r0.err,
    `torchmotion: rank(s) 1 (step 0) would resume from another step than rank 0 (step 5) in ${join(dir, 'tok-2')}`
  );
});

test('ranks started with different settings refuse to start, naming the setting', async () => {
  const port = 29000 + Math.floor(Math.random() * 900);
  const run = (r: number, extra: string[]) =>
    new Promise<{ code: number | null; err: string }>((done) => {
      const c = spawn(process.execPath, [bin, ...tokArgs(join(dir, 'odd')), ...extra], {
        cwd: repo,
        env: { ...env, ...rank(r, port) },
      });
      let err = '';
      c.stderr.on('data', (d) => {
        err += d;
      });
      c.on('exit', (code) => done({ code, err }));
    });
  const [r0, r1] = await Promise.all([run(0, []), run(1, ['--set', 'train.lr=0.001'])]);
  assert.is(r0.code, 1);
  assert.is(r1.code, 1);
  assert.match(
    r0.err,
    'torchmotion: rank(s) 1 were started with other settings or data than rank 0: settings.train.lr'
  );
});

test('a rank that dies makes the other exit non-zero within the timeout, saying why', async () => {
  const port = 29000 + Math.floor(Math.random() * 900);
  writeFileSync(
    join(dir, 'long.yaml'),
    'preset: tiny\ntrain: { steps: 100000, batch: 8, window: 64, checkpointEvery: 100000 }\n'
  );
  const args = [
    'tokenizer',
    'train',
    '--config',
    join(dir, 'long.yaml'),
    '--data',
    'data/demo',
    '--out',
    join(dir, 'dies'),
  ];
  const start = (r: number) =>
    spawn(process.execPath, [bin, ...args], {
      cwd: repo,
      env: { ...env, ...rank(r, port, { TORCHMOTION_DIST_TIMEOUT: '15' }) },
    });
  const r0 = start(0);
  const r1 = start(1);
  let err = '';
  r0.stderr.on('data', (d) => {
    err += d;
  });
  // Rendezvous and a few steps: rank 0 has logged 3 (or stopped), waiting at most 60 s.
  const logged = () =>
    existsSync(join(dir, 'dies', 'metrics.jsonl'))
      ? readFileSync(join(dir, 'dies', 'metrics.jsonl'), 'utf8').split('\n').length - 1
      : 0;
  for (const until = performance.now() + 60_000; logged() < 3 && r0.exitCode === null && performance.now() < until;) {
    await new Promise((done) => setTimeout(done, 50));
  }
  const killedAt = performance.now();
  r1.kill('SIGKILL');
  const code = await new Promise<number | null>((done) => r0.on('exit', done));
  const seconds = (performance.now() - killedAt) / 1000;
  assert.is(code, 1);
  assert.ok(seconds < 30, `rank 0 took ${seconds.toFixed(1)} s to stop`);
  assert.match(
    err,
    new RegExp(
      String.raw`c10d (all-reduce|broadcast|all-gather|barrier) failed on rank 0 of 2 \(master [^)]*\): rank ` +
        String.raw`1 exited or stopped answering`
    ),
    err
  );
});

test.run();
