// Defaults live in the zod schemas only: change one in a copy of ts/ and the CLI's help and behaviour follow it (no
// command restates it); the public API fills what a caller leaves out from the same schemas.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { T2MModel } from '../ts/t2m/model.js';
import { countParameters, requestedShape, t2mShapeRequest, T2M_PRESETS } from '../ts/t2m/config.js';

const repo = join(import.meta.dirname, '..');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');

// Runs the CLI of the ts/ folder under `root` (a copy inside the repository, so that its packages resolve): its help
// of the command, then the command itself, in one process.
const helpThenRun = (root: string, [group, command]: [string, string], ...flags: string[]) => spawnSync(tsx, ['-e', `
  import(${JSON.stringify(join(root, 'ts', 'cli.ts'))}).then((m) => {
    const group = m.buildCli().commands.find((c) => c.name() === ${JSON.stringify(group)});
    console.log(group.commands.find((c) => c.name() === ${JSON.stringify(command)}).helpInformation());
    return m.main(['node', 'torchmotion', ${JSON.stringify(group)}, ${JSON.stringify(command)}, ...${JSON.stringify(flags)}]);
  });`],
{ cwd: repo, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', COLUMNS: '200' } });

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
  assert.is(model.options.textDim, 2048);   // text: embeddings of Flan-T5-XL's width, the request's default
  assert.is(model.parameterTable().reduce((sum, p) => sum + p.count, 0), countParameters(model.options).total);
  assert.is(requestedShape({ preset: '44M' }).dim, T2M_PRESETS['44M'].dim);
});

test.run();
