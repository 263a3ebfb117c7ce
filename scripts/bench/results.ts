// What the benchmark scripts share: the Python with torch that runs the references, the tokenizer step's FLOP count,
// and writing results (JSON into bench-results/, a table between markers in docs/benchmarks.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const root = join(import.meta.dirname, '..', '..');

// Multiply-adds per frame of the MotionMillion tokenizer (encoder 2,908,160 + decoder 3,956,736); a training step
// is forward + backward ≈ 3 × forward, 2 FLOP per multiply-add, over a batch of 64 × 96 frames.
export const TOKENIZER_GFLOP_PER_STEP = (3 * 2 * 6_864_896 * 64 * 96) / 1e9;

// The first interpreter that passes `check` (a Python statement), or an error naming those tried and the set-up.
export function findPython(check = 'import torch', candidates = ['/usr/bin/python3', 'python3']): string {
  const found = candidates.find((p) => spawnSync(p, ['-c', check]).status === 0);
  if (!found) {
    throw new Error(
      `no python with \`${check}\` among ${candidates.join(', ')}: bash scripts/setup.sh --with-python-torch ` +
        "(or, on a CUDA machine, the image's python3 with a CUDA torch)"
    );
  }
  return found;
}

export function writeResultJson(name: string, value: unknown): void {
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', `${name}.json`), JSON.stringify(value, null, 2));
}

// Replaces the block between `<!-- bench:<marker> begin/end -->` in docs/benchmarks.md, or appends it under `heading`.
export function writeDocBlock(marker: string, heading: string, lines: string[]): void {
  const doc = join(root, 'docs', 'benchmarks.md');
  const [begin, end] = [`<!-- bench:${marker} begin -->`, `<!-- bench:${marker} end -->`];
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
  const block = `${begin}\n${lines.join('\n')}\n${end}`;
  // A function replacer: `$` in a table must not be read as a replacement pattern.
  writeFileSync(
    doc,
    text.includes(begin)
      ? text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), () => block)
      : `${text}\n## ${heading}\n\n${block}\n`
  );
}

// The CPU as a benchmark row names it: its model and the widest vector instruction set it has.
export function cpuDescription(): string {
  const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const isa = /\bavx512f\b/.test(flags) ? 'AVX-512' : /\bavx2\b/.test(flags) ? 'AVX2 (no AVX-512)' : 'ISA unknown';
  return `${cpus()[0]?.model?.trim() ?? 'unknown CPU'} with ${isa}, ${cpus().length} cores`;
}

// Runs `script` again as `tsx <script> child <arg>` on 2 threads (a fresh process, so a fresh peak RSS) and returns
// the JSON row its last line of output holds.
export function runChild(script: string, arg: string): { clips: number; peakRssMB: number; [key: string]: unknown } {
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [script, 'child', arg], {
    encoding: 'utf8',
    env: { ...process.env, TORCHMOTION_THREADS: '2', OPENBLAS_NUM_THREADS: '2' },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// The command line of the benchmarks that can run MotionMillion-Codes' own model: their own `options` (for parseArgs)
// and the shared flags, the checkout among them: --reference, which must hold models/vqvae.py, and --standins,
// ../shared/refbench unless given.
const REFERENCE_FLAGS = {
  reference: { type: 'string' },
  standins: { type: 'string' },
  rounds: { type: 'string', default: '3' },
  'no-doc': { type: 'boolean', default: false },
} as const;
type ReferenceArgs<T> = ReturnType<typeof parseArgs<{ options: typeof REFERENCE_FLAGS & T }>>['values'];
export function parseReferenceArgs<const T extends NonNullable<ParseArgsConfig['options']>>(
  options: T
): { o: ReferenceArgs<T>; reference: string | undefined; standins: string } {
  const { values: o } = parseArgs({ options: { ...REFERENCE_FLAGS, ...options } });
  const given = o as { reference?: string; standins?: string };
  const reference = given.reference ? resolve(given.reference) : undefined;
  const standins = given.standins ? resolve(given.standins) : resolve(root, '..', 'shared', 'refbench');
  if (reference && !existsSync(join(reference, 'models', 'vqvae.py')))
    throw new Error(`--reference ${reference}: no models/vqvae.py there (a MotionMillion-Codes checkout)`);
  return { o, reference, standins };
}
