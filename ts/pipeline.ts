// The README's main job, end to end on the bundled data: demo dataset → retrieval evaluator → FSQ tokenizer → codes
// → text-to-motion transformer → motions generated from prompts → the evaluation table (real motion, the
// tokenizer's reconstruction, the generator and the same generator untrained). Each stage skips itself when its
// output is already complete, so a rerun (or a run interrupted with Ctrl-C) continues where it stopped.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { buildDemoDataset } from './data/demo.js';
import { plotRuns } from './plot/plot.js';
import { renderMotions } from './render/render.js';
import { info, setThreads, type RuntimeInfo } from './runtime.js';
import { generateMotions, type Generated } from './t2m/generate.js';
import { trainT2M } from './t2m/train.js';
import { logEvalRows } from './t2m/eval.js';
import { testEvaluator, type EvaluatorTest } from './evaluator/evaluator-test.js';
import { loadEvaluator } from './evaluator/model.js';
import { evaluateT2M, formatEvalTable, type T2MEvalResult } from './t2m/eval.js';
import { trainEvaluator } from './evaluator/train.js';
import { EncodedCodes, encodeDataset } from './tokenizer/encode.js';
import { evaluateTokenizer, type TokenizerEval } from './tokenizer/evaluate.js';
import { loadTokenizer } from './tokenizer/model.js';
import { trainTokenizer } from './tokenizer/train.js';
import { resolveCheckpoint, runReached } from './train/checkpoint.js';
import { MetricsLog } from './train/metrics.js';
import { viewerHtml } from './view/html.js';
import type { ViewMotion } from './view/motions.js';

export const pipelineConfig = z
  .object({
    data: z.string().default('data/demo'),
    out: z.string().default('runs/main'),
    threads: z.number().int().positive().optional(),
    tokenizer: z
      .object({
        steps: z.number().int().positive().default(600),
        batch: z.number().int().positive().default(32),
        window: z.number().int().positive().default(64),
        lr: z.number().positive().default(4e-4),
      })
      .strict()
      .prefault({}),
    t2m: z
      .object({
        steps: z.number().int().positive().default(800),
        batch: z.number().int().positive().default(16),
        lr: z.number().positive().default(6e-4),
      })
      .strict()
      .prefault({}),
    evaluator: z
      .object({
        steps: z.number().int().positive().default(300),
        batch: z.number().int().min(2).default(32),
        lr: z.number().positive().default(5e-4),
      })
      .strict()
      .prefault({}),
    eval: z
      .object({
        split: z.string().default('test'),
        repeats: z.number().int().positive().default(20),
        mmCaptions: z.number().int().positive().default(16),
        mmSamples: z.number().int().nonnegative().default(5),
      })
      .strict()
      .prefault({}),
    prompts: z.array(z.string()).min(1).default(['a person walks forward', 'a person kicks with the right leg']),
    seconds: z.number().positive().default(4),
    minSeconds: z.number().nonnegative().default(2), // END is not accepted before this (a tiny model stops early)
    cfgScale: z.number().nonnegative().default(2),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();

export type PipelineConfig = z.output<typeof pipelineConfig>;

export interface PipelineReport {
  runtime: RuntimeInfo;
  evaluator: EvaluatorTest;
  tokenizer: TokenizerEval;
  t2m: T2MAccuracy;
  generated: Array<{ text: string; frames: number; pelvisForward: number; pelvisTravel: number; files?: string[] }>;
  pictures: { render?: string; viewer?: string; curves: string };
  evaluation: T2MEvalResult;
  table: string; // the evaluation as Markdown (also in <out>/evaluation.md)
  seconds: number;
}

// Next-token accuracy on the last 50 training batches against the last held-out evaluation: far apart means memorised.
export interface T2MAccuracy {
  trainAccuracy: number;
  heldOutAccuracy?: number;
  heldOutLoss?: number;
}

function t2mAccuracy(run: string): T2MAccuracy {
  const rows = MetricsLog.read(join(run, 'metrics.jsonl')) as Array<Record<string, number | string>>;
  const steps = rows.filter((r) => r.kind === undefined).slice(-50);
  const evals = rows.filter((r) => r.kind === 'eval');
  const last = evals[evals.length - 1];
  return {
    trainAccuracy: steps.reduce((s, r) => s + Number(r.accuracy), 0) / Math.max(1, steps.length),
    ...(last && { heldOutAccuracy: Number(last.accuracy), heldOutLoss: Number(last.loss) }),
  };
}

// Forward (z) displacement of the pelvis from first to last frame, and its path length, in metres.
export function pelvisTravel(g: Generated): { forward: number; travel: number } {
  const T = g.joints.length / 66;
  if (T < 2) return { forward: 0, travel: 0 };
  let travel = 0;
  for (let t = 1; t < T; t++)
    travel += Math.hypot(g.joints[t * 66] - g.joints[(t - 1) * 66], g.joints[t * 66 + 2] - g.joints[(t - 1) * 66 + 2]);
  return { forward: g.joints[(T - 1) * 66 + 2] - g.joints[2], travel };
}

// What a person looks at after the run: the generated motions as a GIF and as an interactive page, and the curves.
async function picturesOf(gen: Generated[], out: string): Promise<PipelineReport['pictures']> {
  const motions: ViewMotion[] = gen
    .filter((g) => g.frames > 0)
    .map((g) => ({ caption: g.text, joints: g.joints, frames: g.frames }));
  const curves = join(out, 'curves.png');
  await plotRuns([join(out, 'evaluator'), join(out, 'tokenizer'), join(out, 't2m')], curves);
  if (motions.length === 0) return { curves }; // every prompt ended at once: nothing to draw
  const render = join(out, 'generated.gif');
  const viewer = join(out, 'generated.html');
  await renderMotions(motions, render);
  writeFileSync(viewer, viewerHtml(motions, { title: 'torchmotion: generated motions' }));
  return { render, viewer, curves };
}

export async function runPipeline(
  input: z.input<typeof pipelineConfig>,
  log: (line: string) => void = () => {}
): Promise<PipelineReport> {
  const c = pipelineConfig.parse(input);
  const t0 = performance.now();
  if (c.threads) setThreads(c.threads);
  const runtime = info();
  log(
    `LibTorch ${runtime.torchVersion}, CUDA ${runtime.cuda.available ? `yes (${runtime.cuda.deviceCount})` : 'no'}, ` +
      `${runtime.threads} thread(s), BLAS: ${runtime.blas}`
  );
  if (!existsSync(join(c.data, 'split'))) {
    log(`building the demo dataset in ${c.data}`);
    const r = buildDemoDataset(c.data);
    log(`  ${r.clips} clips from ${r.source}`);
  }
  const evRun = join(c.out, 'evaluator');
  if (!runReached(evRun, c.evaluator.steps)) {
    log(`[1/6] training the retrieval evaluator (preset small, ${c.evaluator.steps} steps) → ${evRun}`);
    await trainEvaluator(
      {
        model: { preset: 'small' },
        data: { root: c.data, split: 'train' },
        train: {
          ...c.evaluator,
          warmup: Math.min(30, Math.floor(c.evaluator.steps / 10)),
          checkpointEvery: 100,
          logEvery: 50,
          seed: c.seed,
          evalEvery: Math.max(1, Math.floor(c.evaluator.steps / 3)),
        },
      },
      { out: evRun, resume: existsSync(evRun), log: (l) => log(`  ${l}`) }
    );
  }
  const evaluatorTest = await testEvaluator({ ckpt: evRun, data: c.data, split: c.eval.split });
  const b = evaluatorTest.batch32;
  log(
    `  its retrieval on ${c.eval.split} (${b.pairs} pairs in batches of ${b.batch}): ` +
      `text→motion R@1 ${b.textToMotion.r1.toFixed(2)}, ` +
      `R@3 ${b.textToMotion.r3.toFixed(2)} (chance ${(1 / b.batch).toFixed(2)}, ${(3 / b.batch).toFixed(2)})`
  );
  const tokRun = join(c.out, 'tokenizer');
  if (!runReached(tokRun, c.tokenizer.steps)) {
    log(`[2/6] training the FSQ tokenizer (preset small, 512 codes, ${c.tokenizer.steps} steps) → ${tokRun}`);
    await trainTokenizer(
      {
        preset: 'small',
        data: { root: c.data, split: 'train' },
        train: {
          ...c.tokenizer,
          warmup: Math.min(100, Math.floor(c.tokenizer.steps / 10)),
          checkpointEvery: 200,
          logEvery: 50,
          seed: c.seed,
          evalEvery: Math.max(1, Math.floor(c.tokenizer.steps / 6)),
          evalClips: 60,
        },
      },
      { out: tokRun, resume: existsSync(tokRun), log: (l) => log(`  ${l}`) }
    );
  }
  const tokCkpt = resolveCheckpoint(tokRun)!;
  const { model: tokenizer } = await loadTokenizer(tokCkpt);
  const evaluator = await loadEvaluator(resolveCheckpoint(evRun)!);
  const tokEval = await evaluateTokenizer(tokenizer, c.data, { split: 'val', minFrames: 0, evaluator }).finally(() =>
    evaluator.text.close()
  );
  log(
    `  held-out MPJPE ${tokEval.mpjpeMm.toFixed(1)} mm, ${tokEval.usedCodes}/${tokEval.codebookSize} codes used, ` +
      `perplexity ${tokEval.perplexity.toFixed(0)}` +
      (tokEval.fid === undefined ? '' : `, reconstruction FID ${tokEval.fid.toFixed(3)}`)
  );
  const codes = join(c.out, 'codes');
  const encoded = existsSync(join(codes, 'index.json')) ? new EncodedCodes(codes) : undefined;
  if (!encoded || encoded.info.checkpoint !== tokCkpt) {
    encoded?.close();
    log(`[3/6] encoding every clip → ${codes}`);
    await encodeDataset(tokenizer, c.data, codes, { split: 'all', checkpoint: tokCkpt, log: () => {} });
  } else encoded.close();
  const t2mRun = join(c.out, 't2m');
  if (!runReached(t2mRun, c.t2m.steps)) {
    log(`[4/6] training the text-to-motion transformer (preset small, ${c.t2m.steps} steps) → ${t2mRun}`);
    await trainT2M(
      {
        model: { preset: 'small' },
        data: { root: c.data, codes, split: 'train' },
        train: {
          ...c.t2m,
          warmup: Math.min(100, Math.floor(c.t2m.steps / 10)),
          checkpointEvery: 200,
          logEvery: 50,
          seed: c.seed,
          evalEvery: Math.max(1, Math.floor(c.t2m.steps / 4)),
        },
      },
      { out: t2mRun, resume: existsSync(t2mRun), log: (l) => log(`  ${l}`) }
    );
  }
  const t2m = t2mAccuracy(t2mRun);
  log(
    `  next-token accuracy ${t2m.trainAccuracy.toFixed(2)} on the last training batches` +
      (t2m.heldOutAccuracy === undefined
        ? ''
        : `, ${t2m.heldOutAccuracy.toFixed(2)} held out (val, loss ${t2m.heldOutLoss!.toFixed(2)})`)
  );
  log(`[5/6] generating ${c.prompts.length} prompt(s), ${c.seconds} s each at most, guidance ${c.cfgScale}`);
  const out = join(c.out, 'generated');
  const gen = await generateMotions({
    ckpt: t2mRun,
    texts: c.prompts,
    seconds: c.seconds,
    minSeconds: c.minSeconds,
    cfgScale: c.cfgScale,
    seed: c.seed,
    out,
  });
  const generated = gen.map((g) => {
    const p = pelvisTravel(g);
    log(
      `  "${g.text}": ${g.frames} frames, pelvis forward ${p.forward.toFixed(2)} m, ` +
        `path ${p.travel.toFixed(2)} m → ${g.files?.[0]}`
    );
    return { text: g.text, frames: g.frames, pelvisForward: p.forward, pelvisTravel: p.travel, files: g.files };
  });
  const pictures = await picturesOf(gen, c.out);
  log(
    `  render: ${pictures.render ?? '(no frames generated)'}\n  viewer: ` +
      `${pictures.viewer ?? '(no frames generated)'}\n  training curves: ${pictures.curves}`
  );
  log(
    `[6/6] evaluating on the ${c.eval.split} split: ${c.eval.repeats} repetitions, ` +
      `with the untrained generator as a floor`
  );
  const evaluation = await evaluateT2M({
    ckpt: t2mRun,
    evaluator: evRun,
    split: c.eval.split,
    repeats: c.eval.repeats,
    mmCaptions: c.eval.mmCaptions,
    mmSamples: c.eval.mmSamples,
    untrained: true,
    seed: c.seed,
  });
  logEvalRows(t2mRun, evaluation);
  const table = formatEvalTable(evaluation);
  writeFileSync(join(c.out, 'evaluation.md'), table + '\n');
  writeFileSync(join(c.out, 'evaluation.json'), JSON.stringify(evaluation, null, 2));
  log(table);
  log(`  table: ${join(c.out, 'evaluation.md')} (JSON: evaluation.json)`);
  const seconds = (performance.now() - t0) / 1000;
  log(`done in ${(seconds / 60).toFixed(1)} min, peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(1)} GB`);
  return {
    runtime,
    evaluator: evaluatorTest,
    tokenizer: tokEval,
    t2m,
    generated,
    pictures,
    evaluation,
    table,
    seconds,
  };
}
