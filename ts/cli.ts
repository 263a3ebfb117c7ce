// `torchmotion …`: parses arguments, calls the API, prints. No logic lives here that the API lacks.
import { Command, Option } from 'commander';

import { collect } from './cli-options.js';
import { loadConfig } from './config.js';
import { registerDataCommands } from './data/commands.js';
import { TorchmotionError } from './errors.js';
import { DEFAULT_PFNN, type PfnnOptions } from './export/pfnn.js';
import { exportPfnn } from './export/pfnn-export.js';
import { pipelineConfig, runPipeline } from './pipeline.js';
import { registerRenderCommands } from './render/commands.js';
import { info, setThreads } from './runtime.js';
import { registerT2MCommands } from './t2m/commands.js';
import { registerTokenizerCommands } from './tokenizer/commands.js';
import { registerViewCommand } from './view/commands.js';

export function buildCli(): Command {
  const program = new Command('torchmotion')
    .description('Motion tokenizers and text-to-motion models on LibTorch')
    .addOption(new Option('--threads <n>', 'LibTorch and OpenBLAS threads (default: TORCHMOTION_THREADS, OMP_NUM_THREADS or all cores)')
      .argParser((v) => Number(v)))
    .hook('preAction', (cmd) => {
      const threads = cmd.opts().threads as number | undefined;
      if (threads !== undefined) setThreads(threads);
    });

  program.command('info')
    .description('LibTorch version, CUDA devices, threads, BLAS and where the addon was loaded from')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const i = info();
      if (opts.json) {
        const { buildConfig: _omit, ...rest } = i;
        console.log(JSON.stringify(rest, null, 2));
        return;
      }
      console.log(`LibTorch      ${i.torchVersion}`);
      console.log(`CUDA          ${i.cuda.available ? `available, ${i.cuda.deviceCount} device(s)` : 'not available'}`);
      console.log(`threads       ${i.threads} intra-op (OpenBLAS pool: ${i.blasThreads < 0 ? 'n/a' : i.blasThreads})`);
      console.log(`BLAS          ${i.blas}`);
      console.log(`fused attn    ${i.fusedAttention ? 'yes' : 'no (exact fallback)'}`);
      console.log(`gen. kernel   ${i.packedKernel === 'none' ? "LibTorch's GEMM (no AVX2)" : `packed panels, ${i.packedKernel}`}`);
      console.log(`CPU cache     ${i.cpuCache.installed ? 'caching allocator on' : 'off (TORCHMOTION_CPU_CACHE=0)'}`);
      console.log(`addon         ${i.addonPath}`);
      console.log(`Node.js       ${i.node} (${i.platform})`);
    });

  program.command('pipeline')
    .description('the main job: demo data → tokenizer → codes → text-to-motion → generated motions')
    .option('-c, --config <file>', 'YAML or JSON config')
    .option('-s, --set <key=value>', 'override a config value (repeatable)', collect, [])
    .option('--json', 'print the final report as JSON')
    .action(async (opts: { config?: string; set: string[]; json?: boolean }) => {
      const config = loadConfig(pipelineConfig, { file: opts.config, overrides: opts.set });
      const report = await runPipeline(config, opts.json ? undefined : (line) => console.log(line));
      if (opts.json) console.log(JSON.stringify({ ...report, runtime: { ...report.runtime, buildConfig: undefined } }, null, 2));
    });

  registerDataCommands(program);
  registerTokenizerCommands(program);
  registerT2MCommands(program);
  registerRenderCommands(program);
  registerViewCommand(program);
  program.command('export')
    .description('datasets → other training formats')
    .command('pfnn <root>')
    .description('a split → the SMPL-22 PFNN database (X 240, Y 296, P) with normalisation files and a README')
    .requiredOption('--split <name>', 'split name or file')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--contact-speed <m/s>', 'contact when a foot joint is slower than this', Number, DEFAULT_PFNN.contacts.speed)
    .option('--heel-height <m>', 'and the ankle is below this', Number, DEFAULT_PFNN.contacts.heelHeight)
    .option('--toe-height <m>', 'or the toe (foot joint) is below this', Number, DEFAULT_PFNN.contacts.toeHeight)
    .option('--median-window <frames>', 'median filter over contacts (odd)', Number, DEFAULT_PFNN.contacts.medianWindow)
    .option('--min-step-frames <n>', 'frames in the air before a landing counts as a touch-down', Number, DEFAULT_PFNN.phase.minStepFrames)
    .option('--standing-rate <Hz>', 'phase rate of clips without a gait cycle', Number, DEFAULT_PFNN.phase.standingRate)
    .option('--facing-sigma <frames>', 'Gaussian smoothing of the facing direction', Number, DEFAULT_PFNN.facingSigma)
    .option('--json', 'print the report as JSON')
    .action((root: string, o: { split: string; out: string; json?: boolean; contactSpeed: number; heelHeight: number;
      toeHeight: number; medianWindow: number; minStepFrames: number; standingRate: number; facingSigma: number }) => {
      for (const [k, v] of Object.entries(o)) {
        if (typeof v === 'number' && !(v > 0)) throw new TorchmotionError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive number, received ${v}`);
      }
      const options: PfnnOptions = {
        ...DEFAULT_PFNN, facingSigma: o.facingSigma,
        contacts: { speed: o.contactSpeed, heelHeight: o.heelHeight, toeHeight: o.toeHeight, medianWindow: o.medianWindow },
        phase: { minStepFrames: o.minStepFrames, standingRate: o.standingRate },
      };
      const r = exportPfnn(root, o.split, o.out, options, o.json ? undefined : (l) => console.log(l));
      if (o.json) return void console.log(JSON.stringify(r, null, 2));
      console.log(`${o.out}: ${r.rows} rows from ${r.clips} clips (${r.mirroredAdded} mirrored copies made), ` +
        `${r.nonCyclic.length} non-cyclic, ${r.skipped.length} skipped; see ${o.out}/README.md`);
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`torchmotion: ${message}`);
    if (process.env.TORCHMOTION_DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = 1;
  }
}
