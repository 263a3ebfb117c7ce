// Fuzz family 'tar' (imported by test/fuzz.test.ts): downloads of a few small archives with hostile names and entries
// ('..', absolute paths, links, devices, sizes declared far beyond the data, setuid modes, control characters,
// duplicates), damaged bytes, and links planted in the output folder, through `data prepare`. Each case ends in a
// report, with nothing written outside the output folder, only plain files owned by the user without setuid bits,
// and every failure naming a downloaded file; or in an error naming the download folder.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { prepareDataset, type PrepareReport } from '../ts/data/prepare.js';
import { CASES, classifyAsync, dir, GENERIC, randomStream } from './fuzz-harness.js';
import { tarBytes, type TarEntry } from './tar-builder.js';

const { rng, pick, mutateBytes } = randomStream('tar');

const ARCHIVES = [
  'texts.tar.gz',
  'texts_extra.tar.gz',
  'split.tar.gz',
  'a.tgz',
  'b.tar',
  '...tar.gz',
  '..tar.gz',
  '.tar.gz',
  'x\u001b[2J.tar.gz',
  'motion_272rpr/Sub.tar.gz',
  'motion_272rpr/Mirror_Sub.tar.gz',
  'motion_272rpr/Sub/folder1.tar.gz',
  'motion_272rpr/Mirror_Sub/folder1.tar.gz',
];
const NAMES = [
  'texts/A/1.txt',
  'texts/A/2.txt',
  './texts/B/1.txt',
  'split/train.txt',
  'Sub/a.npy',
  'Mirror_Sub/a.npy',
  'a.npy',
  'folder1/b.npy',
  'motion_272rpr/Sub/c.npy',
  'texts',
  'texts/A',
  'vector_272',
];

const WORDS = ['a', 'person', 'walks', 'left', '\n'];
const text = () => Array.from({ length: 1 + rng.int(40) }, () => pick(WORDS)).join(' ');

// A hostile entry, or (clean) one as the release has them.
function entry(caseDir: string, clean: boolean): TarEntry {
  switch (clean ? -1 : rng.int(12)) {
    case 0:
      return { path: pick(['../victim', '../../victim', 'texts/../../victim', '/victim', `${caseDir}/victim`]) };
    case 1:
      return { path: pick(NAMES), type: 'Directory', mode: pick([0o755, 0o3777, 0o1777]) };
    case 2:
      return { path: pick(NAMES), type: 'SymbolicLink', linkpath: pick(['../sentinel', '/etc', 'A']) };
    case 3:
      return { path: pick(NAMES), type: 'Link', linkpath: pick(['../sentinel/keep.txt', 'texts/A/1.txt']) };
    case 4:
      return { path: pick(NAMES), type: pick(['FIFO', 'CharacterDevice', 'BlockDevice'] as const) };
    case 5:
      return { path: pick(NAMES), size: pick([2 ** 31, 2 ** 40, 1e15, 600]), body: text() };
    case 6:
      return { path: pick(NAMES), mode: pick([0o4755, 0o6777, 0o7777]), uid: pick([0, 12345]), body: text() };
    case 7:
      return { path: pick(['texts/\u001b[2J.txt', 'texts/a\\b.txt', 'texts/\u202e.txt', 'texts//A/./3.txt']) };
    default:
      return { path: pick(NAMES), body: text() };
  }
}

// Every path under `root` (links not followed), each with its lstat.
function walk(root: string): Array<{ path: string; stat: Stats }> {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).map((p) => ({
    path: join(root, p),
    stat: lstatSync(join(root, p)),
  }));
}

test('tar archives: hostile downloads are prepared inside --out or refused, naming the archive', async () => {
  for (let k = 0; k < CASES; k++) {
    const caseDir = join(dir, `tar${k}`);
    const [dl, out, sentinel] = [join(caseDir, 'dl'), join(caseDir, 'out'), join(caseDir, 'sentinel')];
    mkdirSync(dl, { recursive: true });
    mkdirSync(sentinel);
    writeFileSync(join(sentinel, 'keep.txt'), 'sentinel');
    if (rng.next() < 0.15) {
      mkdirSync(out);
      symlinkSync(sentinel, join(out, pick(['texts', 'split', 'motion_data', 'Sub'])));
    }
    for (let a = 0; a < 1 + rng.int(3); a++) {
      const name = pick(ARCHIVES);
      const clean = rng.next() < 0.4;
      const tarred = tarBytes(Array.from({ length: 1 + rng.int(4) }, () => entry(caseDir, clean)));
      const bytes = name.endsWith('.tar') ? tarred : gzipSync(tarred);
      mkdirSync(dirname(join(dl, name)), { recursive: true });
      writeFileSync(join(dl, name), rng.next() < 0.3 ? mutateBytes(bytes) : bytes);
    }
    await classifyAsync(
      `tar case ${k}`,
      dl,
      () => prepareDataset(dl, out),
      (r: PrepareReport) => {
        assert.equal(readdirSync(caseDir).sort(), ['dl', 'out', 'sentinel'], `tar case ${k}: nothing beside out`);
        assert.equal(readdirSync(sentinel), ['keep.txt'], `tar case ${k}: the sentinel folder is untouched`);
        assert.is(readFileSync(join(sentinel, 'keep.txt'), 'utf8'), 'sentinel');
        for (const { path, stat } of walk(out)) {
          const at = `tar case ${k}: ${relative(out, path)}`;
          // Only the links planted at the top of out are links.
          assert.ok(stat.isFile() || stat.isDirectory() || !relative(out, path).includes(sep), `${at} is a link`);
          assert.ok(!relative(out, path).startsWith('.unpacking-'), `${at}: a staging folder is left`);
          assert.is(stat.mode & 0o7000, 0, `${at}: mode ${stat.mode.toString(8)}`);
          assert.is(stat.uid, process.getuid!(), `${at}: owned by uid ${stat.uid}`);
        }
        for (const f of r.failed) {
          assert.ok(f.archive.startsWith(dl + sep), `tar case ${k}: a failure names ${f.archive}, not a download`);
          assert.not.match(f.reason, GENERIC, `tar case ${k}: a generic reason: ${f.reason}`);
        }
        for (const c of r.conflicts) {
          assert.ok(
            c.file.startsWith(out + sep) && c.kept.startsWith(dl + sep) && c.skipped.startsWith(dl + sep),
            `tar case ${k}: conflict ${JSON.stringify(c)}`
          );
        }
      }
    );
    rmSync(caseDir, { recursive: true, force: true });
  }
});
