// Every command line in the README's sh blocks runs as written (with small settings appended where it trains), in a
// sandbox that holds the files the examples name: a released-style download, AMASS and HumanML3D clips, a body model,
// the bundled BVH clips. A README example that stops working fails here.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import * as tar from 'tar';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { writeNpy, readNpy } from '../ts/data/npy.js';
import { writeNpz } from '../ts/data/npz.js';
import { PARENTS } from '../ts/motion/skeleton.js';
import { SMPL_REST_OFFSETS } from '../ts/motion/smpl-rest.js';
import { tempDir } from './helpers.js';
import { runPython } from './python.js';

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
  await tar.c({ gzip: true, file: join(dl, 'split.tar.gz'), cwd: stage }, ['split']);
  await tar.c({ gzip: true, file: join(dl, 'texts.tar.gz'), cwd: stage }, ['texts']);
  await tar.c(
    { gzip: true, file: join(dl, 'motion_272rpr', 'MotionGV', 'folder1.tar.gz'), cwd: join(stage, 'MotionGV') },
    ['folder1']
  );
  mkdirSync(join(dl, 'mean_std'));
  copyFileSync(join(work, 'mean.npy'), join(dl, 'mean_std', 'Mean.npy'));
  copyFileSync(join(work, 'std.npy'), join(dl, 'mean_std', 'Std.npy'));
  // Stand-ins for the released models (which cannot be downloaded here): a tokenizer and a decoder in the reference's
  // structure, tiny but with the released 64,000-code FSQ, and a small T5-style text encoder with its tokenizer.json.
  const reference = join(repo, 'scripts', 'reference');
  runPython([
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
  ]);
  renameSync(join(work, 'fsq_net.pth'), join(work, 'fsq_net_6000000.pth'));
  runPython([
    join(reference, 'reference_checkpoint.py'),
    'write-t2m',
    work,
    JSON.stringify({ vocab: 64002, dim: 64, layers: 2, heads: 4, hidden: 256, textDim: 32 }),
  ]);
  renameSync(join(work, 'net_t2m.pth'), join(work, 't2m_3b.pth'));
  mkdirSync(join(work, 't5'));
  runPython([
    join(reference, 't5_standin.py'),
    'export',
    join(work, 't5'),
    'a person walks forward',
    'a person walks forward, then turns left',
  ]);
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
  for (const line of readmeCommands(readFileSync(join(repo, 'README.md'), 'utf8'))) {
    const small = SMALL.find(([p]) => p.test(line) && !used.has(p));
    if (small) used.add(small[0]);
    const command = `${line.replace(/^(npx )?torchmotion/, cli)}${small ? ` ${small[1]}` : ''}`;
    const r = spawnSync(command, {
      cwd: work,
      shell: '/bin/sh',
      encoding: 'utf8',
      env: { ...process.env, HOME: home, TORCHMOTION_THREADS: '2' },
      maxBuffer: 1 << 26,
    });
    assert.is(r.status, 0, `\`${line}\` exited ${r.status}:\n${(r.stderr || r.stdout).slice(-1500)}`);
  }
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
