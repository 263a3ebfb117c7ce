// Formats the sources with the pinned formatters: prettier (the exact version in package-lock.json, options in
// .prettierrc.json) for the TypeScript and JavaScript under ts/, test/, scripts/ and bin/, and clang-format 14 (Debian
// 12's, options in .clang-format) for native/**/*.{cc,h,inc}.
//   node scripts/format.js            rewrites the files in place (`npm run format`)
//   node scripts/format.js --check    changes nothing: prints each file that is not formatted and each line over 120
//                                     characters as file:line, then a summary; exits 1 on any (`npm run format:check`)
//   node scripts/format.js [--check] FILE...   the same for the files named (in any folder) instead of the sources
// Another clang-format version lays out some lines differently, so C++ is formatted and checked only with 14.x (found
// as $CLANG_FORMAT, clang-format-14 or clang-format); without it the C++ part is skipped with a sentence that says why.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const MAX_COLUMNS = 120;
const CLANG_FORMAT_MAJOR = 14;
const TS_EXTENSIONS = /\.(ts|js|mjs)$/;
const CXX_EXTENSIONS = /\.(cc|h|inc)$/;

const args = process.argv.slice(2);
const check = args.includes('--check');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--check');
if (unknown.length > 0) {
  console.error(`format: unknown option ${unknown.join(', ')} (valid: --check, then optional file paths)`);
  process.exit(2);
}
const named = args.filter((a) => !a.startsWith('-')).map((a) => resolve(a));

// How a path is printed: from the repository root with forward slashes, or absolute when outside it.
const show = (file) => {
  const rel = relative(root, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split(sep).join('/');
};

// The sources: what git tracks when this is the root of a git checkout (so copies and build outputs are never
// touched), otherwise every matching file in the source folders.
function gitFiles() {
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: root, encoding: 'utf8' });
  if (top.status !== 0 || realpathSync(top.stdout.trim()) !== realpathSync(root)) return undefined;
  const list = spawnSync('git', ['ls-files', '-z', '--', 'ts', 'test', 'scripts', 'bin', 'native'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (list.status !== 0) return undefined;
  return list.stdout.split('\0').filter(Boolean);
}

function walk(dir) {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.name.startsWith('.') || e.name === 'node_modules') return [];
    return e.isDirectory() ? walk(path) : [path];
  });
}

function sourceFiles() {
  const all = gitFiles() ?? ['ts', 'test', 'scripts', 'bin', 'native'].flatMap(walk);
  const files = all.filter((f) => existsSync(join(root, f)) && !f.startsWith('test/fixtures/'));
  return {
    ts: files.filter((f) => f.startsWith('bin/') || (/^(ts|test|scripts)\//.test(f) && TS_EXTENSIONS.test(f))),
    cxx: files.filter((f) => f.startsWith('native/') && CXX_EXTENSIONS.test(f)),
  };
}

function namedFiles() {
  const missing = named.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.error(`format: no such file: ${missing.join(', ')}`);
    process.exit(2);
  }
  const other = named.filter((f) => !TS_EXTENSIONS.test(f) && !CXX_EXTENSIONS.test(f));
  if (other.length > 0) {
    console.error(`format: not a .ts, .js, .mjs, .cc, .h or .inc file: ${other.join(', ')}`);
    process.exit(2);
  }
  return { ts: named.filter((f) => TS_EXTENSIONS.test(f)), cxx: named.filter((f) => CXX_EXTENSIONS.test(f)) };
}

// The first clang-format that is 14.x, or why there is none.
function findClangFormat() {
  const candidates = [process.env.CLANG_FORMAT, `clang-format-${CLANG_FORMAT_MAJOR}`, 'clang-format'].filter(Boolean);
  const found = [];
  for (const command of candidates) {
    const run = spawnSync(command, ['--version'], { encoding: 'utf8' });
    if (run.error || run.status !== 0) continue;
    const version = run.stdout.match(/clang-format version (\d+)\.[\d.]+/);
    if (version && Number(version[1]) === CLANG_FORMAT_MAJOR) return { command };
    found.push(`${command} is ${version ? version[0].replace('clang-format version ', '') : run.stdout.trim()}`);
  }
  const why =
    found.length > 0 ? `only another version is installed (${found.join('; ')})` : 'no clang-format is installed';
  return {
    skip:
      `C++ ${check ? 'check' : 'formatting'} skipped: the layout is pinned to clang-format ${CLANG_FORMAT_MAJOR} ` +
      `(Debian 12's package clang-format) and ${why}; install it (\`apt-get install clang-format\` on Debian 12, ` +
      `or set CLANG_FORMAT to a clang-format ${CLANG_FORMAT_MAJOR}.x binary) to include native/.`,
  };
}

let prettier;
try {
  prettier = await import('prettier');
} catch {
  console.error(`format: prettier is not installed (it is a devDependency): run \`npm ci\` in ${root}`);
  process.exit(2);
}

const { ts, cxx } = named.length > 0 ? namedFiles() : sourceFiles();
const abs = (f) => resolve(root, f);
const unformatted = [];
let written = 0;

// TypeScript and JavaScript: the repository's .prettierrc.json for every file, wherever it lies.
const prettierOptions = await prettier.resolveConfig(join(root, 'package.json'), {
  config: join(root, '.prettierrc.json'),
  editorconfig: false,
});
const tsFiles = [];
for (const file of ts) {
  const path = abs(file);
  const info = await prettier.getFileInfo(path, { ignorePath: join(root, '.prettierignore') });
  if (!info.ignored && info.inferredParser) tsFiles.push(path);
}
for (const path of tsFiles) {
  const text = readFileSync(path, 'utf8');
  const options = { ...prettierOptions, filepath: path };
  if (check) {
    if (!(await prettier.check(text, options))) unformatted.push(path);
  } else {
    const out = await prettier.format(text, options);
    if (out !== text) {
      writeFileSync(path, out);
      written += 1;
    }
  }
}

// C++: clang-format with the repository's .clang-format, also for files outside it; one process per 50 files.
const clang = cxx.length > 0 ? findClangFormat() : {};
if (clang.skip) console.log(`format: ${clang.skip}`);
if (clang.command) {
  const style = `--style=file:${join(root, '.clang-format')}`;
  const paths = cxx.map(abs);
  for (let i = 0; i < paths.length; i += 50) {
    const batch = paths.slice(i, i + 50);
    const before = check ? [] : batch.map((path) => readFileSync(path, 'utf8'));
    const flags = check ? ['--dry-run'] : ['-i'];
    const run = spawnSync(clang.command, [...flags, style, ...batch], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.error || run.status !== 0) {
      console.error(`format: ${clang.command} failed: ${run.stderr.trim() || run.error}`);
      process.exit(2);
    }
    if (check) {
      // --dry-run warns "<file>:<line>:<column>: warning: code should be clang-formatted" for each difference.
      const flagged = new Set(
        [...run.stderr.matchAll(/^(.*):\d+:\d+: (?:warning|error): code should be clang-formatted/gm)].map((m) => m[1])
      );
      unformatted.push(...batch.filter((path) => flagged.has(path)));
    } else {
      written += batch.filter((path, j) => readFileSync(path, 'utf8') !== before[j]).length;
    }
  }
}

// Lines over the limit, counted in characters (code points), in both languages: formatters do not break comments,
// strings or URLs, so these are fixed by hand.
const long = [];
for (const path of [...tsFiles, ...cxx.map(abs)]) {
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const columns = [...line].length;
      if (columns > MAX_COLUMNS) long.push(`${show(path)}:${i + 1}: ${columns} characters (limit ${MAX_COLUMNS})`);
    });
}
for (const path of unformatted) console.log(`${show(path)}: not formatted (run \`npm run format\`)`);
for (const line of long) console.log(line);

const checked = tsFiles.length + (clang.command ? cxx.length : 0);
const count = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
const tally = `${count(long.length, 'line')} over ${MAX_COLUMNS} characters`;
if (check) {
  const verdict = unformatted.length === 0 && long.length === 0 ? 'ok' : 'FAILED';
  console.log(
    `format check ${verdict}: ${count(checked, 'file')} checked, ${unformatted.length} not formatted, ${tally}`
  );
  process.exitCode = verdict === 'ok' ? 0 : 1;
} else {
  const hint = long.length > 0 ? ' (shorten them by hand)' : '';
  console.log(`format: ${written} of ${count(checked, 'file')} rewritten; ${tally}${hint}`);
}
