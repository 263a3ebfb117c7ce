// `torchmotion evaluator train|test` and `torchmotion t2m eval`.
import { join } from 'node:path';
import { existsSync } from 'node:fs';

import type { Command } from 'commander';

import { addOptions, ckptOption, nonNegativeInt, positiveInt, withDefault } from '../cli-options.js';
import { givenSampling, samplingOptions, type SamplingFlags } from '../t2m/sampling-flags.js';
import { MetricsLog } from '../train/metrics.js';
import { dataFlag, registerTrainCommand } from '../train/command.js';
import { evaluatorConfig } from './config.js';
import { evaluatorTestSettings, testEvaluator, formatRetrieval } from './evaluator-test.js';
import { evaluateTextToMotion, formatEvalTable, METRIC_KEYS, t2mEvalSettings, type T2MEvalResult } from './t2m-eval.js';
import { trainEvaluator } from './train.js';

// The table's rows as `kind: "eval"` lines of the text-to-motion run's metrics.jsonl (when it has one).
export function logEvalRows(run: string, e: T2MEvalResult): string | undefined {
  const file = join(run, 'metrics.jsonl');
  if (!existsSync(file)) return undefined;
  const log = new MetricsLog(file);
  for (const row of e.rows) {
    const values = Object.fromEntries(METRIC_KEYS.flatMap((k) => (row.metrics[k] ? [[k, row.metrics[k]!.mean], [`${k}Interval`, row.metrics[k]!.interval]] : [])));
    log.append({ step: e.step - 1, kind: 'eval', source: 't2m eval', row: row.name, split: e.split, repeats: e.repeats, ...values });
  }
  return file;
}

export function registerEvaluatorCommands(program: Command): void {
  const ev = program.command('evaluator').description('the text–motion retrieval evaluator the generation metrics are computed with');

  registerTrainCommand(ev, {
    description: 'train on a dataset\'s captions and motions (symmetric InfoNCE; checkpoints, Ctrl-C saves, --resume)',
    flags: [dataFlag()], schema: evaluatorConfig, train: trainEvaluator,
  });

  ev.command('test')
    .description('its own retrieval quality: R@1/2/3/5/10 and median rank, both directions, whole split and batches of 32')
    .addOption(ckptOption('evaluator'))
    .option('-d, --data <root>', 'dataset root (default: the one it was trained on)')
    .option('--split <name>', withDefault('split', evaluatorTestSettings, 'split'))
    .option('--json', 'print JSON')
    .action(async (o: { ckpt: string; data?: string; split?: string; json?: boolean }) => {
      const r = await testEvaluator(o);
      console.log(o.json ? JSON.stringify(r, null, 2) : formatRetrieval(r));
    });
}

export function registerT2MEvalCommand(t2m: Command): void {
  addOptions(t2m.command('eval')
    .description('the field\'s metrics (R-precision, FID, MM-Dist, Diversity, MultiModality) with confidence intervals')
    .addOption(ckptOption('text-to-motion', 'decoder'))
    .requiredOption('--evaluator <dir>', 'retrieval evaluator run or checkpoint (`torchmotion evaluator train`)')
    .option('--tokenizer <dir|file>', 'tokenizer checkpoint or .pth/.safetensors (default: the one the codes came from)')
    .option('-d, --data <root>', 'dataset root (default: the one the model was trained on)')
    .option('--split <name>', withDefault('split', t2mEvalSettings, 'split'))
    .option('--repeats <n>', withDefault('repetitions', t2mEvalSettings, 'repeats'), positiveInt)
    .option('--batch <n>', withDefault('R-precision batch', t2mEvalSettings, 'batch'), positiveInt)
    .option('--mm-captions <n>', withDefault('MultiModality: captions', t2mEvalSettings, 'mmCaptions'), positiveInt)
    .option('--mm-samples <n>', withDefault('MultiModality: generations per caption (< 2: off)', t2mEvalSettings, 'mmSamples'),
      nonNegativeInt)
    .option('--gt-length', 'generate the real clip\'s length instead of stopping at END'), samplingOptions('generator row: '))
    .option('--untrained', 'add a row for the same generator untrained (a floor)')
    .option('--seed <n>', withDefault('seed of the draws and samples', t2mEvalSettings, 'seed'), nonNegativeInt)
    .option('--json', 'print JSON instead of the Markdown table')
    .action(async (o: SamplingFlags & { ckpt: string; evaluator: string; tokenizer?: string; data?: string; split?: string;
      repeats?: number; batch?: number; mmCaptions?: number; mmSamples?: number; gtLength?: boolean; untrained?: boolean; seed?: number;
      json?: boolean }) => {
      const { temperature, topK, topP, cfg, ...rest } = o;
      const e = await evaluateTextToMotion({ ...rest, sampling: givenSampling({ temperature, topK, topP, cfg }),
        log: o.json ? undefined : (l) => console.error(l) });
      const file = existsSync(join(o.ckpt, 'checkpoints')) ? logEvalRows(o.ckpt, e) : undefined;
      console.log(o.json ? JSON.stringify(e, null, 2) : formatEvalTable(e));
      if (file && !o.json) console.error(`rows appended to ${file} (kind "eval")`);
    });
}
