// One layout for the code (issue 31): prettier for TypeScript and JavaScript, clang-format 14 for C++, no line over
// 120 characters — `node scripts/format.js --check` over the tracked sources, and proof that the check sees a problem.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { tempDir } from './helpers.js';

const repo = join(import.meta.dirname, '..');

function format(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const run = spawnSync(process.execPath, [join(repo, 'scripts', 'format.js'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...env, FORCE_COLOR: '0' },
  });
  return { status: run.status, out: run.stdout + run.stderr };
}

// A copy of a small source file of each language with a badly laid out line and a 138-character comment appended;
// returns their paths and the comment's line number in each.
const comment = `// ${'a long comment '.repeat(9)}`.trimEnd();
const tooLong = `${comment.length} characters (limit 120)`;
function badCopies(dir: string) {
  const js = join(dir, 'torchmotion.js');
  const jsText = `${readFileSync(join(repo, 'bin', 'torchmotion.js'), 'utf8')}export const  spaced = {a:1,b:2}\n`;
  writeFileSync(js, `${jsText}${comment}\n`);
  const cc = join(dir, 'channel_norm.h');
  const header = readFileSync(join(repo, 'native', 'kernels', 'channel_norm.h'), 'utf8');
  const ccText = `${header}inline int  Twice( int a ){return 2*a;}\n`;
  writeFileSync(cc, `${ccText}${comment}\n`);
  const lineAfter = (text: string) => text.split('\n').length;
  return { js, cc, jsLong: lineAfter(jsText), ccLong: lineAfter(ccText) };
}

test('the sources are formatted and no line is over 120 characters (fix: npm run format, then shorten by hand)', () => {
  const r = format(['--check']);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /^format check ok: \d+ files checked/m);
});

test('the check finds a badly formatted file and an over-long line; format fixes what the formatters can', () => {
  const { js, cc, jsLong, ccLong } = badCopies(tempDir('torchmotion-format-'));
  const before = format(['--check', js, cc]);
  assert.is(before.status, 1, before.out);
  assert.ok(before.out.includes(`${js}: not formatted`), before.out);
  assert.ok(before.out.includes(`${js}:${jsLong}: ${tooLong}`), before.out);
  assert.ok(before.out.includes(`${cc}:${ccLong}: ${tooLong}`), before.out);
  assert.match(before.out, /^format check FAILED: /m);
  const cxxSkipped = before.out.includes('C++ check skipped');
  if (!cxxSkipped) assert.ok(before.out.includes(`${cc}: not formatted`), before.out);

  const written = format([js, cc]);
  assert.is(written.status, 0, written.out);
  assert.ok(readFileSync(js, 'utf8').includes('export const spaced = { a: 1, b: 2 };\n'));
  const after = format(['--check', js, cc]);
  assert.is(after.status, 1, after.out);
  assert.not.ok(after.out.includes(`${js}: not formatted`), after.out);
  // prettier leaves comments as written; clang-format 14 rewraps them.
  const jsLongNow = readFileSync(js, 'utf8').split('\n').indexOf(comment) + 1;
  assert.ok(after.out.includes(`${js}:${jsLongNow}: ${tooLong}`), after.out);
  if (!cxxSkipped) {
    assert.ok(readFileSync(cc, 'utf8').includes('inline int Twice(int a) { return 2 * a; }\n'));
    assert.not.ok(after.out.includes(cc), after.out);
  }
});

test('with another clang-format, or none, the C++ part is skipped with a sentence and the rest still runs', () => {
  if (process.platform === 'win32') return; // the stand-in clang-format below is a shell script
  const dir = tempDir('torchmotion-format-');
  const { js, cc, ccLong } = badCopies(dir);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'clang-format'), '#!/bin/sh\necho "Ubuntu clang-format version 18.1.3 (1ubuntu1)"\n');
  chmodSync(join(bin, 'clang-format'), 0o755);
  const other = format(['--check', js, cc], { ...process.env, PATH: bin, CLANG_FORMAT: '' });
  assert.is(other.status, 1, other.out);
  assert.match(other.out, /^format: C\+\+ check skipped: .*clang-format 14.*clang-format is 18\.1\.3/m);
  assert.not.ok(other.out.includes(`${cc}: not formatted`), other.out);
  assert.ok(other.out.includes(`${cc}:${ccLong}: ${tooLong}`), 'long lines are still counted in C++');
  assert.ok(other.out.includes(`${js}: not formatted`), 'TypeScript is still checked');

  const none = format(['--check', cc], { ...process.env, PATH: join(dir, 'nowhere'), CLANG_FORMAT: '' });
  assert.match(none.out, /^format: C\+\+ check skipped: .*no clang-format is installed/m);
});

test.run();
