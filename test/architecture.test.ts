// docs/architecture.md is the map of the code: every path it names exists, and every source file under native/ and
// ts/ is named in the row of its folder in "What each folder owns" — so a new file, a move or a rename that does not
// update the map fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repo = join(import.meta.dirname, '..');
const map = readFileSync(join(repo, 'docs', 'architecture.md'), 'utf8');

const SOURCE = /\.(ts|js|cc|h|inc)$/;

// Source files below `dir`, as paths from the repository root with forward slashes.
function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(path);
    return SOURCE.test(e.name) ? [path] : [];
  });
}

// The rows of the folder table: `folder/` in the first cell, the files it owns named in backticks in the second.
export function folderRows(text: string): Map<string, Set<string>> {
  const section = text.split(/^## What each folder owns$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const folder = cells[1]?.match(/^`([\w./-]+\/)`$/)?.[1];
    if (!folder) continue;
    // `conv1d_cpu.cc`/`.h` names both files: an extension alone takes the stem of the name before it.
    const names = new Set<string>();
    let stem = '';
    for (const [, name] of (cells[2] ?? '').matchAll(/`([^`]+)`/g)) {
      if (name.startsWith('.')) {
        names.add(stem + name);
      } else {
        names.add(name);
        stem = name.replace(/\.[^.]+$/, '');
      }
    }
    rows.set(folder, names);
  }
  return rows;
}

// Which source files the table leaves out: a file is mapped when its folder's row names it (with or without its
// extension, or with its own subfolder for files of a page/ folder named in the row).
export function unmapped(files: string[], rows: Map<string, Set<string>>): string[] {
  return files.filter((file) => {
    const cut = file.lastIndexOf('/') + 1;
    const names = rows.get(file.slice(0, cut));
    if (!names) return true;
    const base = file.slice(cut);
    return !names.has(base) && !names.has(base.replace(/\.[^.]+$/, ''));
  });
}

test('every path docs/architecture.md names exists', () => {
  const named = [...map.matchAll(/`((?:native|ts|test|scripts|docs|configs|bin)\/[\w./-]*)`/g)].map((m) => m[1]);
  assert.ok(named.length > 50, `the map names ${named.length} paths`);
  const missing = [...new Set(named)].filter((p) => !existsSync(join(repo, p)));
  assert.equal(missing, [], `named in docs/architecture.md but missing: ${missing.join(', ')}`);
});

test('every source file under native/ and ts/ is in its folder row of the map', () => {
  const rows = folderRows(map);
  const missing = unmapped([...sources('native'), ...sources('ts')], rows);
  assert.equal(missing, [], `not in docs/architecture.md's folder table: ${missing.join(', ')}`);
  const stale = [...rows.keys()].filter((f) => !existsSync(join(repo, f)));
  assert.equal(stale, [], `folder rows for folders that do not exist: ${stale.join(', ')}`);
  const gone = [...rows]
    .flatMap(([folder, names]) => [...names].filter((n) => SOURCE.test(n)).map((n) => folder + n))
    .filter((f) => !existsSync(join(repo, f)));
  assert.equal(gone, [], `files the folder table names that do not exist: ${gone.join(', ')}`);
});

test('an unmapped file is caught', () => {
  const rows = folderRows(
    '## What each folder owns\n\n| folder | owns |\n|---|---|\n' +
      '| `native/kernels/` | `conv1d_cpu.cc`/`.h` and `packed_linear` |\n'
  );
  assert.equal(
    unmapped(
      [
        'native/kernels/conv1d_cpu.cc',
        'native/kernels/conv1d_cpu.h',
        'native/kernels/packed_linear.h',
        'native/kernels/new_kernel.cc',
        'native/elsewhere/x.cc',
      ],
      rows
    ),
    ['native/kernels/new_kernel.cc', 'native/elsewhere/x.cc']
  );
});

test.run();
