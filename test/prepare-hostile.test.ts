// `data prepare` on hostile downloads (issue 30): archives whose names or entries would place files outside the
// output folder, bombs, named pipes, setuid bits and foreign owners, and archives that hold the same file twice.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

import { Command } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { registerDataCommands } from '../ts/data/commands.js';
import { prepareDataset } from '../ts/data/prepare.js';
import { tempDir } from './helpers.js';
import { tarBytes, tarGz } from './tar-builder.js';

const put = (file: string, bytes: Uint8Array) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
};
const goodSplit = (dl: string) => put(join(dl, 'split.tar.gz'), tarGz([{ path: 'split/train.txt', body: 'A/1\n' }]));

// Every file under `dir`, as path → contents.
function snapshot(dir: string): Record<string, string> {
  const all: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) all[relative(dir, join(e.parentPath, e.name))] = readFileSync(join(e.parentPath, e.name), 'latin1');
  }
  return all;
}

test('archives named ...tar.gz, ..tar.gz, .tar.gz, entries with .. or /: refused, nothing lands outside', async () => {
  const root = tempDir('tm-hostile-');
  const [dl, out, victim] = [join(root, 'dl'), join(root, 'out'), join(root, 'victim')];
  writeFileSync(victim, 'original');
  for (const name of ['...tar.gz', '..tar.gz', '.tar.gz']) {
    put(join(dl, name), tarGz([{ path: 'victim', body: 'pwned' }]));
  }
  put(
    join(dl, 'evil.tar.gz'),
    tarGz([
      { path: 'texts/ok.txt', body: 'fine' },
      { path: '../victim', body: 'pwned' },
    ])
  );
  put(join(dl, 'abs.tar.gz'), tarGz([{ path: `${root}/victim`, body: 'pwned' }]));
  goodSplit(dl);
  const report = await prepareDataset(dl, out);
  assert.is(readFileSync(victim, 'utf8'), 'original');
  assert.equal(readdirSync(root).sort(), ['dl', 'out', 'victim']);
  assert.equal(Object.keys(snapshot(out)), ['split/train.txt'], 'nothing of a refused archive is placed');
  assert.equal(
    report.extracted.map((e) => relative(dl, e.archive)),
    ['split.tar.gz']
  );
  const reasons = Object.fromEntries(report.failed.map((f) => [relative(dl, f.archive), f.reason]));
  assert.equal(Object.keys(reasons).sort(), ['.tar.gz', '...tar.gz', '..tar.gz', 'abs.tar.gz', 'evil.tar.gz'].sort());
  assert.match(reasons['...tar.gz'], `its name without the extension ('..') is not a plain file name`);
  assert.match(reasons['...tar.gz'], /outside .*out: rename it/);
  assert.match(reasons['..tar.gz'], "('.')");
  assert.match(reasons['evil.tar.gz'], "entry '../victim' goes up a folder");
  assert.match(reasons['abs.tar.gz'], `entry '${root}/victim' is an absolute path`);
});

test('a symbolic link already in --out is never written through', async () => {
  const root = tempDir('tm-hostile-');
  const [dl, out, elsewhere] = [join(root, 'dl'), join(root, 'out'), join(root, 'elsewhere')];
  put(join(elsewhere, 'secret'), Buffer.from('secret'));
  mkdirSync(join(out, 'mean_std', 'vector_272'), { recursive: true });
  symlinkSync(elsewhere, join(out, 'texts'));
  symlinkSync(join(elsewhere, 'secret'), join(out, 'mean_std', 'vector_272', 'mean.npy'));
  put(join(dl, 'texts.tar.gz'), tarGz([{ path: 'texts/A/1.txt', body: 'a caption' }]));
  put(join(dl, 'mean_std', 'Mean.npy'), Buffer.from('mean'));
  put(join(dl, 'mean_std', 'Std.npy'), Buffer.from('std'));
  goodSplit(dl);
  const report = await prepareDataset(dl, out);
  assert.equal(snapshot(elsewhere), { secret: 'secret' });
  assert.is(readFileSync(join(out, 'mean_std', 'vector_272', 'mean.npy'), 'utf8'), 'mean', 'the link is replaced');
  assert.is(report.failed.length, 1);
  assert.match(report.failed[0].reason, `${join(out, 'texts')} is a symbolic link`);
});

test('a bomb is refused by its declared size, naming the cap and the flag, and leaves nothing behind', async () => {
  const root = tempDir('tm-hostile-');
  const [dl, out] = [join(root, 'dl'), join(root, 'out')];
  // 32 MB of zeros in one entry: about 32 kB compressed, 1,000:1.
  const bomb = gzipSync(tarBytes([{ path: 'texts/zeros.txt', body: new Uint8Array(32e6) }]));
  put(join(dl, 'texts.tar.gz'), bomb);
  // Three 1 MB files that do not compress: under the ratio cap, over a 2.5 MB total.
  put(join(dl, 'split.tar.gz'), tarGz([1, 2, 3].map((n) => ({ path: `split/${n}.bin`, body: randomBytes(1e6) }))));
  goodSplit(join(dl, 'more'));
  const report = await prepareDataset(dl, out, { maxExtractBytes: 2.5e6 });
  const reasons = Object.fromEntries(report.failed.map((f) => [relative(dl, f.archive), f.reason]));
  assert.match(reasons['texts.tar.gz'], /declare 32\.0 MB or more from \d\d kB, over the cap of 100 times its size/);
  assert.match(reasons['texts.tar.gz'], '--max-ratio');
  assert.match(reasons['split.tar.gz'], /past its cap of 2\.5 MB .*--max-extract-gb/);
  assert.equal(Object.keys(snapshot(out)), ['split/train.txt'], 'no file and no staging folder is left');
  // With the free space every archive is refused before it is read.
  const full = await prepareDataset(dl, join(root, 'full'), { keepFreeBytes: 1e18 }).catch((err: Error) => err.message);
  assert.match(String(full), /needs .* but .*full has .* free and data prepare keeps 1000000000\.0 GB of it free/);
});

test('data prepare --max-ratio and --max-extract-gb raise and lower the caps', async () => {
  const root = tempDir('tm-hostile-');
  const [dl, out] = [join(root, 'dl'), join(root, 'out')];
  put(join(dl, 'texts.tar.gz'), gzipSync(tarBytes([{ path: 'texts/zeros.txt', body: new Uint8Array(32e6) }])));
  const run = async (...args: string[]) => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerDataCommands(program);
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => void lines.push(line);
    try {
      await program.parseAsync(['data', 'prepare', dl, '--out', out, ...args], { from: 'user' });
    } catch (err) {
      lines.push((err as Error).message);
    } finally {
      console.log = log;
    }
    return lines.join('\n');
  };
  assert.match(await run('--max-ratio', '1000', '--max-extract-gb', '0.01'), /past its cap of 10\.0 MB/);
  assert.match(await run('--max-ratio', '1000'), /texts\.tar\.gz: 1 entries/);
  assert.is(statSync(join(out, 'texts', 'zeros.txt')).size, 32e6);
  assert.match(await run('--max-ratio', '0'), /--max-ratio <n>' argument '0' is invalid/);
});

test('named pipes as archives or as Mean.npy are refused, naming them, and never waited on', async () => {
  const dl = join(tempDir('tm-hostile-'), 'dl');
  mkdirSync(join(dl, 'mean_std'), { recursive: true });
  const made = spawnSync('mkfifo', [join(dl, 'texts.tar'), join(dl, 'mean_std', 'Mean.npy')]);
  if (made.status !== 0) return void console.log('  (skipped: mkfifo is not available)');
  symlinkSync(join(dl, 'texts.tar'), join(dl, 'link.tar.gz'));
  writeFileSync(join(dl, 'mean_std', 'Std.npy'), 'std');
  goodSplit(dl);
  const report = await prepareDataset(dl, join(dl, '..', 'out'));
  assert.equal(
    report.failed.map((f) => [relative(dl, f.archive), f.reason]),
    [
      ['link.tar.gz', 'is a named pipe, not a file: replace it with the downloaded archive'],
      ['texts.tar', 'is a named pipe, not a file: replace it with the downloaded archive'],
      ['mean_std/Mean.npy', 'is a named pipe, not a file: copy the released Mean.npy there'],
    ]
  );
});

test('files come out owned by the user who unpacks, without setuid, setgid or sticky bits', async () => {
  const root = tempDir('tm-hostile-');
  const [dl, out] = [join(root, 'dl'), join(root, 'out')];
  put(
    join(dl, 'texts.tar.gz'),
    tarGz([
      { path: 'texts/sgid/', type: 'Directory', mode: 0o3777, uid: 12345, gid: 12345 },
      { path: 'texts/sgid/suid.sh', body: '#!/bin/sh\n', mode: 0o6755, uid: 12345, gid: 12345 },
      { path: 'texts/sgid/mine.sh', body: '#!/bin/sh\n', mode: 0o4757, uid: process.getuid!(), gid: process.getgid!() },
    ])
  );
  await prepareDataset(dl, out);
  for (const p of ['', '/suid.sh', '/mine.sh'].map((f) => join(out, 'texts', 'sgid') + f)) {
    const s = statSync(p);
    assert.is(s.mode & 0o7000, 0, `${p}: mode ${s.mode.toString(8)}`);
    assert.is(s.uid, process.getuid!(), `${p} is owned by the user`);
  }
});

test('a file two archives hold is kept from the first and reported; a rerun is the same and repairs', async () => {
  const root = tempDir('tm-hostile-');
  const [dl, out] = [join(root, 'dl'), join(root, 'out')];
  put(join(dl, 'motion_272rpr', 'Mirror_Sub.tar.gz'), tarGz([{ path: 'Sub/a.npy', body: 'mirror' }]));
  put(
    join(dl, 'motion_272rpr', 'Sub.tar.gz'),
    tarGz([
      { path: 'Sub/a.npy', body: 'original' },
      { path: 'Mirror_Sub/a.npy', body: 'not the mirror' },
    ])
  );
  put(
    join(dl, 'texts.tar.gz'),
    tarGz([
      { path: 'texts/A/1.txt', body: 'a person waves' },
      { path: 'texts/A/2.txt', body: 'a person sits' },
    ])
  );
  put(
    join(dl, 'texts_extra.tar.gz'),
    tarGz([
      { path: 'texts/A/1.txt', body: 'something else' },
      { path: 'texts/A/2.txt', body: 'a person sits' },
    ])
  );
  const motion = join(out, 'motion_data', 'vector_272');
  const expected = [
    {
      file: join(motion, 'Mirror_Sub', 'a.npy'),
      kept: join(dl, 'motion_272rpr', 'Mirror_Sub.tar.gz'),
      skipped: join(dl, 'motion_272rpr', 'Sub.tar.gz'),
    },
    { file: join(out, 'texts', 'A', '1.txt'), kept: join(dl, 'texts.tar.gz'), skipped: join(dl, 'texts_extra.tar.gz') },
  ];
  const first = await prepareDataset(dl, out);
  assert.equal(first.conflicts, expected);
  const files = snapshot(out);
  assert.equal(files, {
    'motion_data/vector_272/Mirror_Sub/a.npy': 'mirror',
    'motion_data/vector_272/Sub/a.npy': 'original',
    'texts/A/1.txt': 'a person waves',
    'texts/A/2.txt': 'a person sits',
  });
  // A file left by an earlier run (a damaged archive's, say) is replaced by the archive's copy.
  writeFileSync(join(out, 'texts', 'A', '2.txt'), 'trunc');
  const again = await prepareDataset(dl, out);
  assert.equal(again.conflicts, expected);
  assert.equal(again.failed, []);
  assert.equal(snapshot(out), files);
});

test('damage is reported at its entry, keeping what came before; so is a file where a folder belongs', async () => {
  const root = tempDir('tm-hostile-');
  const [dl, out] = [join(root, 'dl'), join(root, 'out')];
  const texts = tarBytes([
    { path: 'texts/A/1.txt', body: 'x'.repeat(3000) },
    { path: 'texts/A/2.txt', body: 'y' },
  ]);
  texts[512 + 3072 + 140] ^= 1; // a byte of the second header's mtime: its checksum fails
  put(join(dl, 'texts.tar'), texts);
  put(
    join(dl, 'split.tar'),
    tarBytes([
      { path: 'split/x', body: 'a' },
      { path: 'split/x/y', body: 'b' },
    ])
  );
  goodSplit(join(dl, 'more'));
  const report = await prepareDataset(dl, out);
  const reasons = Object.fromEntries(report.failed.map((f) => [relative(dl, f.archive), f.reason]));
  assert.is(
    reasons['texts.tar'],
    "damaged (TAR_ENTRY_INVALID: checksum failure at entry 'texts/A/2.txt'): " +
      're-download it; the index will skip its clips'
  );
  assert.is(readFileSync(join(out, 'texts', 'A', '1.txt'), 'utf8'), 'x'.repeat(3000));
  assert.match(reasons['split.tar'], "'split/x' in the archive is a file where a folder is needed");
  assert.not.ok(existsSync(join(out, 'split', 'x')));
});

test.run();
