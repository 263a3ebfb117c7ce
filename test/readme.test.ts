// Every command line in the README's sh blocks runs as written (with small settings appended where it trains), in a
// sandbox that holds the files the examples name: a released-style download, AMASS and HumanML3D clips, a body model,
// the bundled BVH clips. A README example that stops working fails here.
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import * as tar from 'tar';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { writeNpy, readNpy } from '../ts/data/npy.js';
import { writeNpz } from '../ts/data/npz.js';
import { PARENTS } from '../ts/motion/skeleton.js';
import { SMPL_REST_OFFSETS } from '../ts/motion/smpl-rest.js';
import { tempDir } from './helpers.js';
import { runPythonAsync } from './python.js';

const repo = join(import.meta.dirname, '..');
const fixtures = join(repo, 'test', 'fixtures');

// The README's command lines: `torchmotion …` and `npx torchmotion …` in ```sh blocks, comments dropped.
export function readmeCommands(text: string): string[] {
  const out: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split('\n')) {
      const line = raw.replace(/\s+#\s.*$/, '').trim();
      if (/^(npx )?torchmotion\s/.test(line)) out.push(line);
    }
  }
  return out;
}

// What keeps a command small enough for a test: appended to the first command line it matches.
const SMALL: Array<[RegExp, string]> = [
  [
    / pipeline\b/,
    '--set tokenizer.steps=4 --set tokenizer.batch=4 --set t2m.steps=4 --set t2m.batch=4 ' +
      '--set seconds=1 --set minSeconds=0.5 --set evaluator.steps=4 --set evaluator.batch=8 ' +
      '--set eval.repeats=2 --set eval.mmCaptions=2 --set eval.mmSamples=2',
  ],
  [/ tokenizer compare --data\b/, '--sizes 4096 --set train.steps=2 --set train.batch=2 --set train.window=64'],
  [
    / tokenizer compare --generation\b/,
    '--sizes 512 --seeds 0 --t2m-steps 2 --evaluator-steps 2 --repeats 1 --set train.steps=2 --set train.batch=2',
  ],
  [/ t2m train\b/, '--set train.steps=2 --set train.batch=2'],
  [/ pfnn train\b/, '--set train.steps=4 --set train.batch=8 --set train.evalEvery=2 --set model.hidden=16'],
  [/ evaluator train\b/, '--set train.steps=2 --set train.batch=4'],
  [/ t2m eval\b/, '--repeats 2 --mm-captions 2 --mm-samples 2'],
];

// The files and folders a README command line names (arguments with a '/' or a file extension, and outputs; a glob
// stands for the folder above it) and the ones among them it writes: those after -o/--out/--ckpt/--render (evaluations
// log into the run they evaluate), the first a `data` command names (`data index`, `stats`, `mean-std` write into the
// root they read), and what it writes without naming it.
const WRITES_UNNAMED: Array<[RegExp, string[]]> = [[/ pipeline\b/, ['data/demo', 'runs/main']]];
function pathsOf(line: string): { names: string[]; writes: string[] } {
  const words = line.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
  const dataCommand = words[words[0] === 'npx' ? 2 : 1] === 'data';
  const names: string[] = [];
  const writes: string[] = [];
  words.forEach((word, i) => {
    const output = /^(-o|--out|--ckpt|--render)$/.test(words[i - 1]);
    if (!output && (/^["'-]/.test(word) || word.includes('=') || !(word.includes('/') || /\.[a-z]\w*$/i.test(word))))
      return;
    const parts = word.split('/').filter((p) => p !== '.');
    const glob = parts.findIndex((p) => /[*?[]/.test(p));
    const path = (glob < 0 ? parts : parts.slice(0, glob)).join('/');
    names.push(path);
    if (output || (dataCommand && names.length === 1)) writes.push(path);
  });
  for (const [, paths] of WRITES_UNNAMED.filter(([pattern]) => pattern.test(line))) {
    names.push(...paths);
    writes.push(...paths);
  }
  return { names, writes };
}

// Runs task(i) for every line, at most `slots` at a time, each once every earlier line it depends on has succeeded:
// one that writes what it names or names what it writes (as a path or a folder around it). The README's order is kept
// between lines that touch the same files and is the order of the rest; a line whose dependency failed is not run
// (undefined), so the first failure in the README's order is the one reported.
const overlap = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
async function runAfterDependencies<R extends { status: number | null }>(
  lines: string[],
  task: (i: number) => Promise<R>,
  slots: number
): Promise<Array<R | undefined>> {
  const paths = lines.map(pathsOf);
  const touches = (i: number, j: number) =>
    paths[i].names.some((a) =>
      paths[j].names.some((b) => overlap(a, b) && (paths[i].writes.includes(a) || paths[j].writes.includes(b)))
    );
  const after = lines.map((_, i) => lines.map((__, j) => j).filter((j) => j < i && touches(i, j)));
  const results: Array<R | undefined> = [];
  const state: Array<'waiting' | 'running' | 'ok' | 'failed'> = lines.map(() => 'waiting');
  await new Promise<void>((done) => {
    const next = () => {
      for (let i = 0; i < lines.length; i++) {
        if (state[i] !== 'waiting') continue;
        if (after[i].some((j) => state[j] === 'failed')) state[i] = 'failed';
      }
      for (let i = 0; i < lines.length && state.filter((s) => s === 'running').length < slots; i++) {
        if (state[i] !== 'waiting' || !after[i].every((j) => state[j] === 'ok')) continue;
        state[i] = 'running';
        void task(i).then((r) => {
          results[i] = r;
          state[i] = r.status === 0 ? 'ok' : 'failed';
          next();
        });
      }
      if (!state.includes('running')) done();
    };
    next();
  });
  return results;
}

// One command line in a shell, its output kept as spawnSync would keep it.
function run(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(command, { cwd, shell: '/bin/sh', env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (err) => done({ status: null, stdout, stderr: `${stderr}${String(err)}` }));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

async function sandbox(): Promise<{ work: string; home: string }> {
  const root = tempDir('tm-readme-');
  const work = join(root, 'work');
  const home = join(root, 'home');
  const sample = readNpy(join(fixtures, 'repr272-sample', 'repr272.npy'));
  const mean = readNpy(join(fixtures, 'mean_std', 'motionmillion', 'mean.npy'));
  const std = readNpy(join(fixtures, 'mean_std', 'motionmillion', 'std.npy'));
  const T = sample.shape[0];
  for (const d of [
    work,
    join(work, 'docs'),
    join(work, 'amass'),
    join(work, 'HumanML3D', 'new_joints'),
    join(work, 'data'),
    join(root, 'shared', 'data', 'repr272-sample'),
  ])
    mkdirSync(d, { recursive: true });
  // 272 files: raw (gt, gen, the shared sample) and normalised (motion.npy, which `data recover` de-normalises).
  for (const f of ['gt.npy', 'gen.npy']) copyFileSync(join(fixtures, 'repr272-sample', 'repr272.npy'), join(work, f));
  copyFileSync(
    join(fixtures, 'repr272-sample', 'repr272.npy'),
    join(root, 'shared', 'data', 'repr272-sample', 'repr272_000000.npy')
  );
  const normalised = Float64Array.from(
    sample.data as Float64Array,
    (x, i) => (x - (mean.data[i % 272] as number)) / (std.data[i % 272] as number)
  );
  writeNpy(join(work, 'motion.npy'), { data: normalised, shape: sample.shape });
  copyFileSync(join(fixtures, 'mean_std', 'motionmillion', 'mean.npy'), join(work, 'mean.npy'));
  copyFileSync(join(fixtures, 'mean_std', 'motionmillion', 'std.npy'), join(work, 'std.npy'));
  copyFileSync(join(fixtures, 'repr272-sample', 'smpl85_facez.npy'), join(work, 'smpl85.npy'));
  copyFileSync(join(fixtures, 'repr272-sample', 'joints22_facez.npy'), join(work, 'gen_joints.npy'));
  copyFileSync(
    join(fixtures, 'repr272-sample', 'joints22_facez.npy'),
    join(work, 'HumanML3D', 'new_joints', '000001.npy')
  );
  symlinkSync(join(repo, 'data', 'bandai-namco-1'), join(work, 'data', 'bandai-namco-1'));
  // The demo dataset set-up has built, as in a clone where `npm start` runs set-up before the pipeline (which then
  // skips building it): a copy, since `data demo --out data/demo` rebuilds it in place.
  if (existsSync(join(repo, 'data', 'demo', 'split')))
    cpSync(join(repo, 'data', 'demo'), join(work, 'data', 'demo'), { recursive: true });
  symlinkSync(join(repo, 'configs'), join(work, 'configs'));
  symlinkSync(join(repo, 'test'), join(work, 'test'));
  // An AMASS npz (SMPL-H poses, 30 fps) and a body model whose joints are the SMPL rest skeleton's.
  const smpl = readNpy(join(fixtures, 'repr272-sample', 'smpl85_facez.npy')).data as Float32Array;
  const poses = new Float32Array(T * 156);
  const trans = new Float32Array(T * 3);
  for (let t = 0; t < T; t++) {
    poses.set(smpl.subarray(t * 85, t * 85 + 66), t * 156);
    trans.set(smpl.subarray(t * 85 + 72, t * 85 + 75), t * 3);
  }
  writeNpz(join(work, 'amass', 'walk.npz'), {
    poses: { data: poses, shape: [T, 156] },
    trans: { data: trans, shape: [T, 3] },
    betas: { data: new Float64Array(16), shape: [16] },
    mocap_framerate: { data: new Float64Array([30]), shape: [] },
  });
  const rest = new Float64Array(22 * 3);
  SMPL_REST_OFFSETS.forEach((o, j) => {
    for (let k = 0; k < 3; k++) rest[j * 3 + k] = o[k] + (PARENTS[j] >= 0 ? rest[PARENTS[j] * 3 + k] : 0);
  });
  writeNpz(join(work, 'smplx_neutral.npz'), {
    v_template: { data: rest, shape: [22, 3] },
    J_regressor: { data: Float64Array.from({ length: 22 * 22 }, (_, i) => (i % 23 === 0 ? 1 : 0)), shape: [22, 22] },
    shapedirs: { data: new Float64Array(22 * 3 * 16), shape: [22, 3, 16] },
  });
  // A download in the released layout: split and texts archives, one subset's archive, Mean/Std.
  const stage = join(root, 'stage');
  const dl = join(home, 'Downloads', 'MotionMillion');
  mkdirSync(join(stage, 'split', 'version1', 'tokenizer_96'), { recursive: true });
  writeFileSync(
    join(stage, 'split', 'version1', 'tokenizer_96', 'train.txt'),
    'MotionGV/folder1/000001\nMotionGV/folder1/000002\n'
  );
  mkdirSync(join(stage, 'split', 'version1', 't2m_60_300'), { recursive: true });
  writeFileSync(join(stage, 'split', 'version1', 't2m_60_300', 'test.txt'), 'MotionGV/folder1/000001\n');
  mkdirSync(join(stage, 'texts', 'MotionGV', 'folder1'), { recursive: true });
  writeFileSync(join(stage, 'texts', 'MotionGV', 'folder1', '000001.txt'), 'a person walks forward\n');
  mkdirSync(join(stage, 'MotionGV', 'folder1'), { recursive: true });
  for (const n of ['000001', '000002']) writeNpy(join(stage, 'MotionGV', 'folder1', `${n}.npy`), sample);
  mkdirSync(join(dl, 'motion_272rpr', 'MotionGV'), { recursive: true });
  const archives = Promise.all([
    tar.c({ gzip: true, file: join(dl, 'split.tar.gz'), cwd: stage }, ['split']),
    tar.c({ gzip: true, file: join(dl, 'texts.tar.gz'), cwd: stage }, ['texts']),
    tar.c({ gzip: true, file: join(dl, 'motion_272rpr', 'MotionGV', 'folder1.tar.gz'), cwd: join(stage, 'MotionGV') }, [
      'folder1',
    ]),
  ]);
  mkdirSync(join(dl, 'mean_std'));
  copyFileSync(join(work, 'mean.npy'), join(dl, 'mean_std', 'Mean.npy'));
  copyFileSync(join(work, 'std.npy'), join(dl, 'mean_std', 'Std.npy'));
  // Stand-ins for the released models (which cannot be downloaded here): a tokenizer and a decoder in the reference's
  // structure, tiny but with the released 64,000-code FSQ, and a small T5-style text encoder with its tokenizer.json.
  // The three scripts write different files, so they run at once, while the archives above are compressed.
  const reference = join(repo, 'scripts', 'reference');
  mkdirSync(join(work, 't5'));
  await Promise.all([
    runPythonAsync([
      join(reference, 'reference_checkpoint.py'),
      'write-tokenizer',
      work,
      JSON.stringify({
        inputDim: 272,
        width: 32,
        downT: 2,
        strideT: 2,
        depth: 1,
        dilationGrowth: 3,
        norm: 'none',
        activation: 'relu',
        levels: [8, 8, 8, 5, 5, 5],
      }),
    ]),
    runPythonAsync([
      join(reference, 'reference_checkpoint.py'),
      'write-t2m',
      work,
      JSON.stringify({ vocab: 64002, dim: 64, layers: 2, heads: 4, hidden: 256, textDim: 32 }),
    ]),
    runPythonAsync([
      join(reference, 't5_standin.py'),
      'export',
      join(work, 't5'),
      'a person walks forward',
      'a person walks forward, then turns left',
    ]),
    archives,
  ]);
  renameSync(join(work, 'fsq_net.pth'), join(work, 'fsq_net_6000000.pth'));
  renameSync(join(work, 'net_t2m.pth'), join(work, 't2m_3b.pth'));
  // The tokenizer config the README's `tokenizer train --config my.yaml` reads.
  writeFileSync(join(work, 'my.yaml'), 'preset: tiny\ntrain: { steps: 4, batch: 4, window: 64, checkpointEvery: 2 }\n');
  return { work, home };
}

test('the README lists the commands this test runs', () => {
  const commands = readmeCommands(readFileSync(join(repo, 'README.md'), 'utf8'));
  assert.ok(commands.length >= 25, `${commands.length} command lines found`);
  for (const [pattern] of SMALL)
    assert.ok(
      commands.some((c) => pattern.test(c)),
      `a README command matches ${pattern}`
    );
});

test('every README command line runs as written (small settings appended where it trains)', async () => {
  const { work, home } = await sandbox();
  const cli = `node ${JSON.stringify(join(repo, 'bin', 'torchmotion.js'))}`;
  const used = new Set<RegExp>();
  const lines = readmeCommands(readFileSync(join(repo, 'README.md'), 'utf8'));
  const commands = lines.map((line) => {
    const small = SMALL.find(([p]) => p.test(line) && !used.has(p));
    if (small) used.add(small[0]);
    return `${line.replace(/^(npx )?torchmotion/, cli)}${small ? ` ${small[1]}` : ''}`;
  });
  const env = { ...process.env, HOME: home, TORCHMOTION_THREADS: '2' };
  const results = await runAfterDependencies(
    lines,
    (i) => run(commands[i], work, env),
    Math.max(2, Math.floor(availableParallelism() / 2))
  );
  lines.forEach((line, i) => {
    const r = results[i];
    if (r) assert.is(r.status, 0, `\`${line}\` exited ${r.status}:\n${(r.stderr || r.stdout).slice(-1500)}`);
  });
  for (const f of [
    'runs/main/generated.gif',
    'data/mm/split',
    'joints.npy',
    'out/bandai',
    'out/amass',
    'out/hml',
    'motion.bvh',
    'out/pfnn/README.md',
    'runs/tok/checkpoints/latest',
    'runs/codes/index.json',
    'runs/compare/compare.md',
    'runs/t2m/checkpoints/latest',
    'gen',
    'docs/repr272-sample.png',
    'rec.npy',
    'cmp.gif',
    'page.html',
    'curves.png',
    'tokenizer.pth',
    'tokenizer.safetensors',
    'runs/tok-back/import-report.json',
    'rec-st.npy',
    'runs/mm-tokenizer/import-report.json',
    'runs/mm-text',
    'runs/mm-t2m/import-report.json',
    'gen-mm/prompts.json',
    'runs/main/evaluation.md',
    'runs/ev/checkpoints/latest',
    'runs/fsq-vs-vq/fsq-vs-vq.md',
  ]) {
    assert.ok(existsSync(join(work, f)), `${f} was written`);
  }
});

test.run();
