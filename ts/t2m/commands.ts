// `torchmotion t2m params|train|generate|eval`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Command } from 'commander';

import {
  addOptions,
  choiceOption,
  ckptOption,
  collect,
  definedOnly,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  positiveNumber,
  withDefault,
} from '../cli-options.js';
import { FPS } from '../motion/repr272.js';
import { dataFlag, registerTrainCommand } from '../train/command.js';
import { countParameters, generationSettings, requestedShape, t2mConfig, t2mShapeRequest } from './config.js';
import { buildEmbeddingCache, embedSettings } from './embed.js';
import { evaluateT2M, formatEvalTable, logEvalRows, t2mEvalSettings } from './eval.js';
import { generateMotions, generateOutput } from './generate.js';
import { givenSampling, samplingOptions, type SamplingFlags } from './sampling-flags.js';
import { trainT2M } from './train.js';

const n = (x: number) => x.toLocaleString('en-US');

export function registerT2MCommands(program: Command): void {
  const t2m = program.command('t2m').description('the LLaMA-style text-to-motion transformer');

  t2m
    .command('params')
    .description('parameter counts of a decoder configuration')
    .addOption(choiceOption('-c, --config <name>', 'a preset', t2mShapeRequest, 'preset'))
    .option(
      '--codebook <n>',
      withDefault('tokenizer codebook size (vocabulary = codebook + END + PAD)', t2mShapeRequest, 'codebook'),
      positiveInt
    )
    .addOption(
      choiceOption(
        '--text <mode>',
        'builtin (trainable caption encoder) or embeddings (precomputed, e.g. Flan-T5-XL)',
        t2mShapeRequest,
        'text'
      )
    )
    .option('--text-dim <n>', 'width of the text embeddings', positiveInt)
    .option(
      '--text-vocab <n>',
      withDefault('caption vocabulary of the built-in encoder', t2mShapeRequest, 'textVocab'),
      positiveInt
    )
    .option('--json', 'print JSON')
    .action(
      (o: {
        config?: string;
        codebook?: number;
        text?: 'builtin' | 'embeddings';
        textDim?: number;
        textVocab?: number;
        json?: boolean;
      }) => {
        const request = t2mShapeRequest.parse(
          definedOnly({
            preset: o.config,
            codebook: o.codebook,
            text: o.text,
            textDim: o.textDim,
            textVocab: o.textVocab,
          })
        );
        const opts = requestedShape(request);
        const c = countParameters(opts);
        if (o.json) return void console.log(JSON.stringify({ config: request.preset, ...opts, ...c }, null, 2));
        console.log(
          `${request.preset}: ${opts.layers} layers, ${opts.heads} heads, width ${opts.dim}, SwiGLU ${opts.hidden}, ` +
            `vocabulary ${n(opts.vocab)}, text width ${opts.textDim}`
        );
        console.log(`  token embeddings ${n(c.embeddings)}`);
        console.log(`  output head      ${n(c.head)}`);
        console.log(`  transformer      ${n(c.layers)}`);
        if (c.textEncoder) console.log(`  text encoder     ${n(c.textEncoder)}`);
        console.log(`  total            ${n(c.total)} (${(c.total / 1e6).toFixed(1)}M)`);
      }
    );

  registerTrainCommand(t2m, {
    description: 'train on tokenizer codes and captions (progress bar with tokens/s, checkpoints, Ctrl-C saves)',
    flags: [
      { flags: '--codes <dir>', description: 'output of `tokenizer encode`', key: 'data.codes' },
      dataFlag('dataset root with texts/ and split/'),
    ],
    schema: t2mConfig,
    train: trainT2M,
  });

  t2m
    .command('embed')
    .description(
      'build the caption-embedding cache for model.text = embeddings (once; training reads it, never re-encodes)'
    )
    .requiredOption('-o, --out <dir>', 'cache folder (written atomically)')
    .option('--from <dir>', 'precomputed embeddings: captions.jsonl lines {"text", "file"} with (L, D) .npy arrays')
    .option('--script <file>', 'a TorchScript encoder: forward(ids (B,L) int64, mask (B,L) bool) → (B,L,D)')
    .option(
      '--vocab <file>',
      "the encoder's vocab.txt (line 1 <pad>; <bos> and <unk> listed) or a Hugging Face tokenizer.json (e.g. Flan-T5's)"
    )
    .option('-d, --data <root>', 'dataset whose captions --script embeds (with the empty caption)')
    .option('--split <name>', withDefault('split of --data', embedSettings, 'split'))
    .action(
      async (o: { out: string; from?: string; script?: string; vocab?: string; data?: string; split?: string }) => {
        const t0 = performance.now();
        const index = await buildEmbeddingCache(o);
        console.log(
          `${o.out}: ${index.entries} captions, ${index.rows} token rows × ${index.dim} ` +
            `(${((index.rows * index.dim * 4) / 2 ** 20).toFixed(1)} MiB) ` +
            `in ${((performance.now() - t0) / 1000).toFixed(1)} s`
        );
      }
    );

  addOptions(
    t2m
      .command('generate')
      .description('text prompts → motion (272 .npy and joints), KV-cached sampling')
      .addOption(ckptOption('text-to-motion', 'decoder'))
      .option(
        '--tokenizer <dir|file>',
        'tokenizer checkpoint or .pth/.safetensors (default: the one the codes came from)'
      )
      .option('--embeddings <cache>', "caption-embedding cache for the prompts (default: the model's data.embeddings)")
      .option('-t, --text <prompt>', 'a prompt (repeat for several, generated in one batch)', collect, [])
      .option('--seconds <s>', 'length cap in seconds (default: the model maximum, 20 s)', positiveNumber)
      .option(
        '--min-seconds <s>',
        'do not accept END before this many seconds (none when left out)',
        nonNegativeNumber
      ),
    samplingOptions()
  )
    .option('--seed <n>', withDefault('sampling seed', generationSettings, 'seed'), nonNegativeInt)
    .option('--no-cache', 'recompute the whole sequence every step (slow; for checking)')
    .option('-o, --out <dir>', withDefault('write <i>_<prompt>.npy (272) and _joints.npy here', generateOutput, 'out'))
    .action(
      async (
        o: SamplingFlags & {
          ckpt: string;
          tokenizer?: string;
          embeddings?: string;
          text: string[];
          seconds?: number;
          minSeconds?: number;
          seed?: number;
          cache: boolean;
          out?: string;
        }
      ) => {
        const t0 = performance.now();
        // Sampling flags not given are left out: generationSettings fills them (--no-cache is the only way to say
        // false).
        const results = await generateMotions({
          ckpt: o.ckpt,
          tokenizer: o.tokenizer,
          embeddings: o.embeddings,
          texts: o.text,
          seconds: o.seconds,
          minSeconds: o.minSeconds,
          out: generateOutput.parse({ out: o.out }).out,
          ...givenSampling(o),
          ...definedOnly({ seed: o.seed, cache: o.cache ? undefined : false }),
        });
        for (const r of results)
          console.log(
            `"${r.text}": ${r.codes.length} codes, ${r.frames} frames (${(r.frames / FPS).toFixed(1)} s) ` +
              `→ ${r.files?.[0]}`
          );
        console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    );

  registerT2MEvalCommand(t2m);
}

function registerT2MEvalCommand(t2m: Command): void {
  addOptions(
    t2m
      .command('eval')
      .description(
        "the field's metrics (R-precision, FID, MM-Dist, Diversity, MultiModality) with confidence intervals"
      )
      .addOption(ckptOption('text-to-motion', 'decoder'))
      .requiredOption('--evaluator <dir>', 'retrieval evaluator run or checkpoint (`torchmotion evaluator train`)')
      .option(
        '--tokenizer <dir|file>',
        'tokenizer checkpoint or .pth/.safetensors (default: the one the codes came from)'
      )
      .option('-d, --data <root>', 'dataset root (default: the one the model was trained on)')
      .option('--split <name>', withDefault('split', t2mEvalSettings, 'split'))
      .option('--repeats <n>', withDefault('repetitions', t2mEvalSettings, 'repeats'), positiveInt)
      .option('--batch <n>', withDefault('R-precision batch', t2mEvalSettings, 'batch'), positiveInt)
      .option('--mm-captions <n>', withDefault('MultiModality: captions', t2mEvalSettings, 'mmCaptions'), positiveInt)
      .option(
        '--mm-samples <n>',
        withDefault('MultiModality: generations per caption (< 2: off)', t2mEvalSettings, 'mmSamples'),
        nonNegativeInt
      )
      .option('--gt-length', "generate the real clip's length instead of stopping at END"),
    samplingOptions('generator row: ')
  )
    .option('--untrained', 'add a row for the same generator untrained (a floor)')
    .option('--seed <n>', withDefault('seed of the draws and samples', t2mEvalSettings, 'seed'), nonNegativeInt)
    .option('--json', 'print JSON instead of the Markdown table')
    .action(
      async (
        o: SamplingFlags & {
          ckpt: string;
          evaluator: string;
          tokenizer?: string;
          data?: string;
          split?: string;
          repeats?: number;
          batch?: number;
          mmCaptions?: number;
          mmSamples?: number;
          gtLength?: boolean;
          untrained?: boolean;
          seed?: number;
          json?: boolean;
        }
      ) => {
        const { temperature, topK, topP, cfg, ...rest } = o;
        const e = await evaluateT2M({
          ...rest,
          sampling: givenSampling({ temperature, topK, topP, cfg }),
          log: o.json ? undefined : (l) => console.error(l),
        });
        const file = existsSync(join(o.ckpt, 'checkpoints')) ? logEvalRows(o.ckpt, e) : undefined;
        console.log(o.json ? JSON.stringify(e, null, 2) : formatEvalTable(e));
        if (file && !o.json) console.error(`rows appended to ${file} (kind "eval")`);
      }
    );
}
