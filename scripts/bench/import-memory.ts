// Peak CPU memory of importing a reference decoder and generating with it, fp32 against --dtype bf16, on a
// reference-structured checkpoint of the 343M shape (vocabulary 64,002, bf16 weights as released; text width 32 so
// that the small T5-style stand-in encoder can embed the prompt). Each step is a child process of the real CLI,
// threads pinned to 2; peaks from scripts/bench/peak-rss.ts. Prints a Markdown table.
// Usage: npx tsx scripts/bench/import-memory.ts [--keep]
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

import { writeSyntheticDataset } from '../../ts/data/synthetic.js';
import { countParameters } from '../../ts/t2m/config.js';
import { referenceTokenizerConfig } from '../reference/tokenizer-config.js';
import { generateArgs } from './cli-args.js';
import { measurePeak } from './peak-rss.js';
import { cpuDescription } from './results.js';

const repo = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'tm-import-memory-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  OMP_NUM_THREADS: '2',
  OPENBLAS_NUM_THREADS: '2',
  TORCHMOTION_THREADS: '2',
};
const cli = ['bin/torchmotion.js', '--threads', '2'];
const p = (name: string) => join(tmp, name);
const python = (args: string[]) => {
  const r = spawnSync('/usr/bin/python3', args, { cwd: repo, env: { ...env, OMP_NUM_THREADS: '2' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 ${args.join(' ')}:\n${r.stderr}`);
};
const run = async (id: string, args: string[]) => {
  const m = await measurePeak([...cli, ...args], { cwd: repo, env, logFile: p(`${id}.log`), timeoutS: 900 });
  if (m.rc !== 0) throw new Error(`${id} exited ${m.rc}:\n${m.tail}`);
  return m;
};
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

const shape = { vocab: 64002, dim: 1024, layers: 24, heads: 16, hidden: 2816, textDim: 32 };
const params = countParameters({
  ...shape,
  maxLen: 451,
  ropeBase: 10000,
  textVocab: 0,
  textLayers: 1,
  textHeads: 1,
  textMaxLen: 1,
}).total;
process.stderr.write(`writing the checkpoints and the text encoder in ${tmp}\n`);
python(['scripts/reference/reference_checkpoint.py', 'write-t2m', tmp, JSON.stringify(shape)]);
python([
  'scripts/reference/reference_checkpoint.py',
  'write-tokenizer',
  tmp,
  JSON.stringify(referenceTokenizerConfig({ width: 32, depth: 1, levels: [8, 8, 8, 5, 5, 5] })),
]);
writeSyntheticDataset(p('data'), 6, 1);
mkdirSync(p('t5'));
python(['scripts/reference/t5_standin.py', 'export', p('t5'), 'a person walks forward']);
await run('embed', [
  't2m',
  'embed',
  '--script',
  p('t5/encoder.pt'),
  '--vocab',
  p('t5/tokenizer.json'),
  '--data',
  p('data'),
  '--out',
  p('cache'),
]);
await run('tokenizer', ['import', p('fsq_net.pth'), '--data', p('data'), '-o', p('tokenizer')]);

const rows: string[] = [];
for (const dtype of ['fp32', 'bf16']) {
  const dec = p(`decoder-${dtype}`);
  const imp = await run(`import-${dtype}`, [
    'import',
    p('net_t2m.pth'),
    '--dtype',
    dtype,
    '--tokenizer',
    p('tokenizer'),
    '--embeddings',
    p('cache'),
    '-o',
    dec,
  ]);
  const gen = await run(`generate-${dtype}`, generateArgs(dec, p(`gen-${dtype}`)));
  const size = statSync(join(dec, 'checkpoints', 'step-00000000', 'model.pt')).size;
  rows.push(
    `| ${dtype} | ${imp.peakMB?.toFixed(0)} MB | ${imp.seconds.toFixed(1)} s | ${mb(size)} MB | ` +
      `${gen.peakMB?.toFixed(0)} MB | ${gen.seconds.toFixed(1)} s |`
  );
}
const cpu = cpuDescription();
console.log(
  `Decoder of the 343M shape (${(params / 1e6).toFixed(1)} M parameters), reference file ` +
    `${mb(statSync(p('net_t2m.pth')).size)} MB (bf16); ` +
    `${cpu}, 2 threads; \`npx tsx scripts/bench/import-memory.ts\`\n`
);
console.log(
  '| --dtype | import peak RSS | import time | model.pt | generate peak RSS (1 prompt, 2–4 s) | generate time |'
);
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
if (!process.argv.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
