// `torchmotion tokenizer params|train|eval|reconstruct|encode|compare`.
import type { Command } from 'commander';

import {
  addOptions,
  choiceOption,
  ckptOption,
  definedOnly,
  meanStdOptions,
  positiveInt,
  schemaDefault,
  setOption,
  withDefault,
} from '../cli-options.js';
import { loadConfig } from '../config.js';
import { optionalMeanStd } from '../data/motion-files.js';
import { TorchmotionError } from '../errors.js';
import { loadEvaluator } from '../evaluator/model.js';
import { checkpointFor } from '../pytorch/on-the-fly.js';
import { requireCheckpoint } from '../train/checkpoint.js';
import { dataFlag, registerTrainCommand } from '../train/command.js';
import { compareQuantizers, parseRvq, quantizerCompareSettings } from './compare.js';
import { compareByGeneration, generationCompareSettings } from './compare-generation.js';
import { MODEL_PRESETS, resolveModel, tokenizerConfig } from './config.js';
import { encodeDataset, encodeSettings } from './encode.js';
import { evaluateTokenizer, tokenizerEvalSettings } from './evaluate.js';
import { loadTokenizer, TokenizerModel } from './model.js';
import { formatParameterTable } from './params.js';
import { reconstructMotion } from './reconstruct.js';
import { trainTokenizer } from './train.js';

// A default of `tokenizer compare` as its help states it: by reconstruction, then with --generation.
const compareDefault = (key: string) =>
  `default: ${String(schemaDefault(quantizerCompareSettings, key))}; ` +
  `with --generation: ${String(schemaDefault(generationCompareSettings, key))}`;

export function registerTokenizerCommands(program: Command): void {
  const tok = program
    .command('tokenizer')
    .description('the FSQ motion tokenizer (and the VQ and residual-VQ baselines)');

  tok
    .command('params')
    .description('every parameter with its shape and count, then total and trainable')
    .option(
      '-c, --config <name|file>',
      `a preset (${Object.keys(MODEL_PRESETS).join(', ')}) or a config file (default: the schema's ` +
        'model, motionmillion)'
    )
    .addOption(setOption())
    .option('--json', 'print JSON')
    .action((o: { config?: string; set: string[]; json?: boolean }) => {
      const input =
        o.config === undefined || o.config in MODEL_PRESETS
          ? loadConfig(tokenizerConfig, { overrides: [...(o.config ? [`preset=${o.config}`] : []), ...o.set] })
          : loadConfig(tokenizerConfig, { file: o.config, overrides: o.set });
      const table = new TokenizerModel(resolveModel(input)).parameterTable();
      if (o.json) {
        const total = table.reduce((s, r) => s + r.count, 0);
        const trainable = table.filter((r) => r.trainable).reduce((s, r) => s + r.count, 0);
        return void console.log(JSON.stringify({ parameters: table, total, trainable }, null, 2));
      }
      console.log(formatParameterTable(table));
    });

  registerTrainCommand(tok, {
    description: 'train a tokenizer (a progress bar, metrics.jsonl, checkpoints; Ctrl-C saves and stops)',
    flags: [dataFlag()],
    schema: tokenizerConfig,
    train: trainTokenizer,
  });

  tok
    .command('eval')
    .description('MPJPE (mm), codebook usage, perplexity and dead codes on a split')
    .addOption(ckptOption('tokenizer', 'file'))
    .requiredOption('-d, --data <root>', 'dataset root')
    .option('--split <name>', withDefault('split', tokenizerEvalSettings, 'split'))
    .option('--min-frames <n>', 'shortest clip (default: the reference eval limits 120..600)', positiveInt)
    .option('--max-frames <n>', 'longest clip', positiveInt)
    .option('--evaluator <dir>', 'a retrieval evaluator run: adds the reconstruction FID')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        ckpt: string;
        data: string;
        split?: string;
        minFrames?: number;
        maxFrames?: number;
        evaluator?: string;
        json?: boolean;
      }) => {
        const { model } = await loadTokenizer(await checkpointFor(o.ckpt, 'tokenizer'));
        const evaluator = o.evaluator ? await loadEvaluator(requireCheckpoint(o.evaluator)) : undefined;
        try {
          const r = await evaluateTokenizer(model, o.data, {
            split: o.split,
            minFrames: o.minFrames,
            maxFrames: o.maxFrames,
            evaluator,
          });
          if (o.json) return void console.log(JSON.stringify(r, null, 2));
          console.log(
            `${r.clips} clips, ${r.frames} frames: MPJPE ${r.mpjpeMm.toFixed(1)} mm; ` +
              `codes used ${r.usedCodes} of ${r.codebookSize} ` +
              `(${r.usagePercent.toFixed(1)} %), perplexity ${r.perplexity.toFixed(1)}, dead codes ${r.deadCodes}` +
              (r.fid === undefined ? '' : `; reconstruction FID ${r.fid.toFixed(3)}`) +
              (r.layerUsage
                ? `; usage per layer ${r.layerUsage.map((u) => `${u.usagePercent.toFixed(1)} %`).join(', ')}`
                : '')
          );
        } finally {
          evaluator?.text.close();
        }
      }
    );

  addOptions(
    tok
      .command('reconstruct <motion>')
      .description('a raw 272 motion through the tokenizer and back (for `render gt.npy rec.npy …`)')
      .addOption(ckptOption('tokenizer', 'file'))
      .requiredOption('-o, --out <file>', 'output 272 .npy (raw, not normalised)'),
    meanStdOptions("to normalise with (default: the tokenizer's training data's)")
  ).action(async (input: string, o: { ckpt: string; out: string; mean?: string; std?: string }) => {
    const r = await reconstructMotion(await checkpointFor(o.ckpt, 'tokenizer'), input, {
      out: o.out,
      stats: optionalMeanStd(o),
    });
    console.log(`${o.out}: ${r.frames} frames from ${r.codes.length} codes`);
  });

  tok
    .command('encode')
    .description('every clip of a split → codes.i32 + offsets.i64 + names.txt (resumable)')
    .addOption(ckptOption('tokenizer', 'file'))
    .requiredOption('-d, --data <root>', 'dataset root')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--split <name>', withDefault('split (t2m folder)', encodeSettings, 'split'))
    .action(async (o: { ckpt: string; data: string; out: string; split?: string }) => {
      const dir = await checkpointFor(o.ckpt, 'tokenizer');
      const { model } = await loadTokenizer(dir);
      const r = await encodeDataset(model, o.data, o.out, {
        split: o.split,
        checkpoint: dir,
        log: process.stderr.isTTY ? undefined : (l) => console.log(l),
      });
      console.log(`${o.out}: ${r.clips} clips, ${r.tokens} tokens (codebook ${r.codebookSize})`);
    });

  tok
    .command('compare')
    .description(
      'FSQ vs VQ at several codebook sizes (and residual VQ with --rvq): same encoder/decoder, ' +
        'data and steps, over seeds ' +
        '(--generation: also what they generate)'
    )
    .requiredOption('-d, --data <root>', 'dataset root')
    .requiredOption('-o, --out <dir>', 'folder for the runs, the table (compare.md or fsq-vs-vq.md) and the plot')
    .option('-c, --config <file>', 'base tokenizer config (default: preset small)')
    .addOption(setOption())
    .option('--sizes <list>', `codebook sizes (${compareDefault('sizes')})`)
    .option(
      '--rvq <list>',
      'also residual VQ (MoMask), as <layers>x<codes> per layer, e.g. 2x64,6x512 (reconstruction only: ' +
        'the text-to-motion decoder reads one code per step)'
    )
    .option('--eval-split <name>', `held-out split (${compareDefault('evalSplit')})`)
    .option(
      '--generation',
      'per seed, also encode every clip, train a text-to-motion model on the codes and evaluate what it generates'
    )
    .option(
      '--seeds <list>',
      `seeds (default: the config's train.seed; with --generation: ` +
        `${String(schemaDefault(generationCompareSettings, 'seeds'))})`
    )
    .addOption(
      choiceOption(
        '--t2m-preset <name>',
        'with --generation: text-to-motion preset',
        generationCompareSettings,
        't2m.preset'
      )
    )
    .option(
      '--t2m-steps <n>',
      withDefault('with --generation: text-to-motion steps', generationCompareSettings, 't2m.steps'),
      positiveInt
    )
    .option(
      '--evaluator <run>',
      'a trained evaluator: adds the reconstruction FID (with --generation default: train one into <out>/evaluator)'
    )
    .option(
      '--evaluator-steps <n>',
      withDefault('with --generation: steps of that evaluator', generationCompareSettings, 'evaluatorSteps'),
      positiveInt
    )
    .option(
      '--repeats <n>',
      withDefault('with --generation: repetitions of the evaluation draws', generationCompareSettings, 'repeats'),
      positiveInt
    )
    .action(
      async (o: {
        data: string;
        out: string;
        config?: string;
        set: string[];
        sizes?: string;
        rvq?: string;
        evalSplit?: string;
        generation?: boolean;
        seeds?: string;
        t2mPreset?: string;
        t2mSteps?: number;
        evaluator?: string;
        evaluatorSteps?: number;
        repeats?: number;
      }) => {
        const base = loadConfig(tokenizerConfig, {
          file: o.config,
          overrides: [...(o.config ? [] : ['preset=small']), `data.root=${o.data}`, ...o.set],
        });
        const list = (text: string, what: string, min: number) => {
          const v = text.split(',').map(Number);
          if (v.some((s) => !Number.isInteger(s) || s < min))
            throw new TorchmotionError(`${what} must list integers ≥ ${min}, received '${text}'`);
          return v;
        };
        // Flags not given stay undefined: the comparison's schema fills them (compare.ts, compare-generation.ts).
        const sizes = o.sizes === undefined ? undefined : list(o.sizes, '--sizes', 2);
        const seeds = o.seeds === undefined ? undefined : list(o.seeds, '--seeds', 0);
        if (o.generation) {
          if (o.rvq)
            throw new TorchmotionError(
              '--rvq compares reconstruction only: the text-to-motion decoder reads one code per step; ' +
                'drop --generation or --rvq'
            );
          const r = await compareByGeneration(base, {
            out: o.out,
            sizes,
            seeds,
            evalSplit: o.evalSplit,
            t2m: definedOnly({ preset: o.t2mPreset, steps: o.t2mSteps }),
            evaluator: o.evaluator,
            evaluatorSteps: o.evaluatorSteps,
            repeats: o.repeats,
            log: (l) => console.log(l),
          });
          return void console.log(`${r.table}\n\ntable: ${r.tableFile}`);
        }
        const evaluator = o.evaluator ? await loadEvaluator(requireCheckpoint(o.evaluator)) : undefined;
        try {
          const r = await compareQuantizers(base, {
            out: o.out,
            sizes,
            rvq: o.rvq ? parseRvq(o.rvq) : [],
            seeds,
            evalSplit: o.evalSplit,
            evaluator,
            log: (l) => console.log(l),
          });
          console.log(`${r.table}\n\ntable: ${r.tableFile}\nplot: ${r.plotFile}`);
        } finally {
          evaluator?.text.close();
        }
      }
    );
}
