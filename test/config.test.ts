import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadConfig } from '../ts/config.js';
import { pipelineConfig } from '../ts/pipeline.js';
import { errorOf } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('defaults fill every key when nothing is given', () => {
  const c = loadConfig(pipelineConfig);
  assert.is(c.regressor.steps, 400);
  assert.is(c.regressor.device, 'cpu');
  assert.is(c.throughputSeconds, 1);
});

test('YAML file plus CLI overrides, overrides win and keep their types', () => {
  const p = file('a.yaml', 'threads: 2\nregressor:\n  steps: 50\n  lr: 0.5\n');
  const c = loadConfig(pipelineConfig, { file: p, overrides: ['regressor.steps=7', 'regressor.device=cpu'] });
  assert.is(c.threads, 2);
  assert.is(c.regressor.steps, 7);
  assert.is(c.regressor.lr, 0.5);
  assert.is(c.regressor.hidden, 64);
});

test('JSON files are read as JSON', () => {
  const c = loadConfig(pipelineConfig, { file: file('b.json', '{"regressor": {"hidden": 8}}') });
  assert.is(c.regressor.hidden, 8);
});

test('an unknown key in a file is rejected with the list of valid keys', async () => {
  const p = file('c.yaml', 'regressor:\n  stepz: 5\n');
  assert.is(await errorOf(() => loadConfig(pipelineConfig, { file: p })),
    `${p}: unknown key 'stepz' at regressor; valid keys are hidden, lr, steps, batch, seed, device, threads`);
});

test('an unknown top-level key is rejected with the valid top-level keys', async () => {
  const p = file('d.yaml', 'thread: 2\n');
  assert.is(await errorOf(() => loadConfig(pipelineConfig, { file: p })),
    `${p}: unknown key 'thread' at the top level; valid keys are threads, throughputSeconds, regressor`);
});

test('an unknown key in an override is rejected with the valid keys', async () => {
  assert.is(await errorOf(() => loadConfig(pipelineConfig, { overrides: ['regressor.epochs=3'] })),
    "unknown config key 'regressor.epochs' in override 'regressor.epochs=3': valid keys at regressor are hidden, lr, steps, batch, seed, device, threads");
});

test('a wrong value names its path', async () => {
  assert.is(await errorOf(() => loadConfig(pipelineConfig, { overrides: ['regressor.steps=-1'] })),
    'config: regressor.steps: Too small: expected number to be >0');
  assert.is(await errorOf(() => loadConfig(pipelineConfig, { overrides: ['regressor.steps'] })),
    "override 'regressor.steps' must look like key=value (e.g. regressor.steps=200)");
});

test('a broken file names the file', async () => {
  const p = file('e.yaml', 'regressor: [1, 2\n');
  assert.match(await errorOf(() => loadConfig(pipelineConfig, { file: p })), new RegExp(`^config ${p} is not valid YAML`));
  assert.match(await errorOf(() => loadConfig(pipelineConfig, { file: join(dir, 'missing.yaml') })), /^cannot read config .*missing\.yaml/);
});

test.run();
