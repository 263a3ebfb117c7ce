import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadConfig } from '../ts/config.js';
import { resolveModel, tokenizerConfig } from '../ts/tokenizer/config.js';
import { errorOf, tempDir } from './helpers.js';

const dir = tempDir('tm-config-');
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('defaults fill every key when nothing is given', () => {
  const c = loadConfig(tokenizerConfig);
  assert.is(c.train.steps, 1000);
  assert.is(c.train.device, 'cpu');
  assert.is(resolveModel(c).width, 512);
  assert.is(c.data.root, 'data/demo');
});

test('a preset fills what the file leaves out, and the file wins over the preset', () => {
  const c = loadConfig(tokenizerConfig, { overrides: ['preset=small', 'model.depth=4'] });
  assert.equal([resolveModel(c).width, resolveModel(c).depth, resolveModel(c).levels], [128, 4, [8, 8, 8]]);
});

test('YAML file plus CLI overrides, overrides win and keep their types', () => {
  const p = file('a.yaml', 'preset: small\ntrain:\n  steps: 50\n  lr: 0.5\n  milestones: [10, 20]\n');
  const c = loadConfig(tokenizerConfig, { file: p, overrides: ['train.steps=7', 'train.device=cpu'] });
  assert.is(c.preset, 'small');
  assert.is(c.train.steps, 7);
  assert.is(c.train.lr, 0.5);
  assert.equal(c.train.milestones, [10, 20]);
  assert.is(c.train.batch, 64);
});

test('JSON files are read as JSON', () => {
  const c = loadConfig(tokenizerConfig, { file: file('b.json', '{"model": {"width": 8}}') });
  assert.is(c.model.width, 8);
});

test('an unknown key in a file is rejected with the list of valid keys', async () => {
  const p = file('c.yaml', 'train:\n  stepz: 5\n');
  assert.is(
    await errorOf(() => loadConfig(tokenizerConfig, { file: p })),
    `${p}: unknown key 'stepz' at train; valid keys are steps, batch, accumulate, window, lr, beta1, beta2, ` +
      `weightDecay, eps, warmup, milestones, gamma, clip, velWeight, commitBeta, evalClips, seed, threads, device, ` +
      `autocast, checkpointEvery, logEvery, evalEvery, evalSplit, onNonFinite`
  );
});

test('an unknown top-level key is rejected with the valid top-level keys', async () => {
  const p = file('d.yaml', 'modle: {}\n');
  assert.is(
    await errorOf(() => loadConfig(tokenizerConfig, { file: p })),
    `${p}: unknown key 'modle' at the top level; valid keys are preset, model, train, data`
  );
});

test('an unknown key in an override is rejected with the valid keys', async () => {
  assert.is(
    await errorOf(() => loadConfig(tokenizerConfig, { overrides: ['data.spilt=val'] })),
    "unknown config key 'data.spilt' in override 'data.spilt=val': valid keys at data are root, split"
  );
});

test('a wrong value names its path', async () => {
  assert.is(
    await errorOf(() => loadConfig(tokenizerConfig, { overrides: ['train.steps=-1'] })),
    'config: train.steps: Too small: expected number to be >0'
  );
  assert.is(
    await errorOf(() => loadConfig(tokenizerConfig, { overrides: ['model.quantizer=pq'] })),
    'config: model.quantizer: Invalid option: expected one of "fsq"|"vq"|"rvq"'
  );
  assert.is(
    await errorOf(() => loadConfig(tokenizerConfig, { overrides: ['train.steps'] })),
    "override 'train.steps' must look like key=value (e.g. train.steps=200)"
  );
});

test('a broken file names the file', async () => {
  const p = file('e.yaml', 'train: [1, 2\n');
  assert.match(
    await errorOf(() => loadConfig(tokenizerConfig, { file: p })),
    new RegExp(`^config ${p} is not valid YAML`)
  );
  assert.match(
    await errorOf(() => loadConfig(tokenizerConfig, { file: join(dir, 'missing.yaml') })),
    /^cannot read config .*missing\.yaml/
  );
});

test.run();
