// Defaults live in the zod schemas only: change one in a copy of ts/ and the CLI's help and behaviour follow it (no
// command restates it); the public API fills what a caller leaves out from the same schemas.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readBvh } from '../ts/convert/bvh.js';
import { bvhTo272 } from '../ts/convert/from-bvh.js';
import { writeNpy } from '../ts/data/npy.js';
import { writeSplit } from '../ts/data/synthetic.js';
import { T2MModel } from '../ts/t2m/model.js';
import { countParameters, requestedShape, t2mShapeRequest, T2M_PRESETS } from '../ts/t2m/config.js';
import { tempDir } from './helpers.js';
import { tarGz } from './tar-builder.js';

const repo = join(import.meta.dirname, '..');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');

// Runs the CLI of the ts/ folder under `root` (a copy inside the repository, so that its packages resolve): its help
// of the command, then the command itself, in one process.
const helpThenRun = (root: string, [group, command]: [string, string], ...flags: string[]) =>
  spawnSync(
    tsx,
    [
      '-e',
      `
  import(${JSON.stringify(join(root, 'ts', 'cli.ts'))}).then((m) => {
    const group = m.buildCli().commands.find((c) => c.name() === ${JSON.stringify(group)});
    console.log(group.commands.find((c) => c.name() === ${JSON.stringify(command)}).helpInformation());
    return m.main(['node', 'torchmotion', ${JSON.stringify(group)}, ${JSON.stringify(command)}, \
...${JSON.stringify(flags)}]);
  });`,
    ],
    { cwd: repo, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', COLUMNS: '200' } }
  );

// A copy of ts/ inside the repository with one schema default changed (`from` must be in `file` as written), removed
// when `use` returns.
function withChangedDefault(file: string, from: string, to: string, use: (root: string) => void): void {
  const root = mkdtempSync(join(repo, '.defaults-'));
  try {
    cpSync(join(repo, 'ts'), join(root, 'ts'), { recursive: true });
    const path = join(root, 'ts', file);
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes(from), `the default this test changes is where it expects: ${from} in ts/${file}`);
    writeFileSync(path, text.replace(from, to));
    use(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// Help text with its wrapping undone (commander wraps at 80 columns when not writing to a terminal).
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(repo, 'bin', 'torchmotion.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', COLUMNS: '200' },
  });

test("a schema default changed in a copy of ts/ changes `t2m params`' help and output", () => {
  const root = mkdtempSync(join(repo, '.defaults-'));
  try {
    cpSync(join(repo, 'ts'), join(root, 'ts'), { recursive: true });
    const config = join(root, 'ts', 't2m', 'config.ts');
    const text = readFileSync(config, 'utf8');
    const from = "preset: t2mModel.shape.preset.removeDefault().default('44M')";
    assert.ok(text.includes(from), 'the default this test changes is where it expects');
    writeFileSync(config, text.replace(from, "preset: t2mModel.shape.preset.removeDefault().default('tiny')"));

    // The repository's own default, then the copy's: one process each prints the help and the parameters.
    const [before, after] = [repo, root].map((r) => helpThenRun(r, ['t2m', 'params'], '--json'));
    assert.match(before.stdout, 'a preset (default: 44M)', before.stderr);
    assert.match(after.stdout, 'a preset (default: tiny)', after.stderr);
    assert.is(JSON.parse(before.stdout.slice(before.stdout.indexOf('{'))).config, '44M');
    assert.is(JSON.parse(after.stdout.slice(after.stdout.indexOf('{'))).dim, T2M_PRESETS.tiny.dim);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the API builds a decoder from the options a user gives, the rest from the schema', () => {
  // { preset: '44M' } resolves the same way; tiny keeps the test from allocating 94 M parameters and their moments.
  const model = new T2MModel({ preset: 'tiny' });
  const request = t2mShapeRequest.parse({ preset: 'tiny' });
  assert.is(model.options.dim, T2M_PRESETS.tiny.dim);
  assert.is(model.options.vocab, request.codebook + 2);
  assert.is(model.options.textDim, 2048); // text: embeddings of Flan-T5-XL's width, the request's default
  assert.is(
    model.parameterTable().reduce((sum, p) => sum + p.count, 0),
    countParameters(model.options).total
  );
  assert.is(requestedShape({ preset: '44M' }).dim, T2M_PRESETS['44M'].dim);
});

test(`\`pfnn database\` takes its rules from pfnnDatabaseSettings: a changed facingSigma \
changes its help and the database`, () => {
  // One walk of the bundled mocap (and the mirror the database makes of it): a database in about a second.
  const data = tempDir('tm-defaults-pfnn-');
  const walk = bvhTo272(
    readBvh(join(repo, 'data', 'bandai-namco-1', 'data', 'dataset-1_walk_normal_001.bvh')),
    'walk'
  ).motion;
  mkdirSync(join(data, 'motion_data', 'vector_272', 'B'), { recursive: true });
  writeNpy(join(data, 'motion_data', 'vector_272', 'B', 'walk.npy'), { data: walk, shape: [walk.length / 272, 272] });
  writeSplit(data, 'tokenizer_96', 'train', ['B/walk']);
  const database = (root: string, out: string) => {
    const r = helpThenRun(root, ['pfnn', 'database'], data, '--split', 'train', '-o', join(data, out), '--json');
    assert.is(r.status, 0, r.stderr);
    return { help: oneLine(r.stdout), readme: readFileSync(join(data, out, 'README.md'), 'utf8') };
  };
  const before = database(repo, 'before');
  assert.match(before.help, 'Gaussian smoothing of the facing direction (default: 10)');
  assert.match(before.readme, 'σ = 10 frames');
  withChangedDefault(
    'pfnn/database-layout.ts',
    'facingSigma: z.number().positive().default(10)',
    'facingSigma: z.number().positive().default(7)',
    (root) => {
      const after = database(root, 'after');
      assert.match(after.help, 'Gaussian smoothing of the facing direction (default: 7)');
      assert.match(after.readme, 'σ = 7 frames');
    }
  );
  // A flag still overrides the schema.
  const given = helpThenRun(
    repo,
    ['pfnn', 'database'],
    data,
    '--split',
    'train',
    '-o',
    join(data, 'given'),
    '--facing-sigma',
    '4'
  );
  assert.is(given.status, 0, given.stderr);
  assert.match(readFileSync(join(data, 'given', 'README.md'), 'utf8'), 'σ = 4 frames');
});

test(`\`data prepare\` takes its caps from prepareLimits: a lowered maxExtractGB shows in the \
help and refuses what fitted`, () => {
  const dl = join(tempDir('tm-defaults-prepare-'), 'dl');
  mkdirSync(dl, { recursive: true });
  writeFileSync(join(dl, 'split.tar.gz'), tarGz([{ path: 'split/train.txt', body: 'A/1\n'.repeat(1000) }])); // 4 kB
  const prepare = (root: string, out: string) => {
    const r = helpThenRun(root, ['data', 'prepare'], dl, '-o', join(dl, '..', out), '--json');
    const json = r.stdout.indexOf('{');
    return {
      r,
      help: oneLine(json < 0 ? r.stdout : r.stdout.slice(0, json)),
      report: json < 0 ? undefined : JSON.parse(r.stdout.slice(json)),
    };
  };
  const before = prepare(repo, 'before');
  assert.is(before.r.status, 0, before.r.stderr);
  assert.match(before.help, 'refuse to unpack more than this many GB in one run (default: 2000)');
  assert.match(before.help, '(a compression bomb) (default: 100)');
  assert.is(before.report.extracted.length, 1);
  withChangedDefault(
    'data/prepare.ts',
    'maxExtractGB: z.number().default(2000)',
    'maxExtractGB: z.number().default(0.000001)',
    (root) => {
      const after = prepare(root, 'after');
      assert.match(after.help, 'refuse to unpack more than this many GB in one run (default: 0.000001)');
      // The only archive is refused, so nothing is prepared: the command fails naming the cap and the flag.
      assert.is(after.r.status, 1);
      assert.match(
        after.r.stderr,
        /split\.tar\.gz: unpacking it takes this run past its cap of 1 kB .*--max-extract-gb/
      );
    }
  );
});

test(`--threads is the root's: given after a subcommand it still sets the threads, \
and every command's help lists it`, () => {
  for (const args of [
    ['info', '--threads', '3', '--json'],
    ['--threads', '3', 'info', '--json'],
  ]) {
    const r = cli(...args);
    assert.is(r.status, 0, r.stderr);
    assert.is(JSON.parse(r.stdout).threads, 3, args.join(' '));
  }
  const help = cli('tokenizer', 'encode', '--help').stdout;
  assert.match(help, /Global Options:\n\s+--threads <n>\s+LibTorch and OpenBLAS threads/);
  const bad = cli('tokenizer', 'encode', '--ckpt', 'nowhere', '-d', 'nowhere', '-o', 'nowhere', '--threads', '0');
  assert.is(bad.status, 1);
  assert.match(bad.stderr, "option '--threads <n>' argument '0' is invalid. expected a positive integer");
});

test.run();
