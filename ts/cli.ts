// `torchmotion …`: parses arguments, calls the API, prints. No logic lives here that the API lacks.
import { Command, Option } from 'commander';

import { positiveInt, setOption } from './cli-options.js';
import { loadConfig } from './config.js';
import { registerDataCommands } from './data/commands.js';
import { registerLaunchCommand } from './distributed/commands.js';
import { followLauncher } from './distributed/launch.js';
import { printable } from './errors.js';
import { registerEvaluatorCommands } from './evaluator/commands.js';
import { registerPfnnCommands } from './pfnn/commands.js';
import { registerExportCommand, registerImportCommand } from './pytorch/commands.js';
import { pipelineConfig, runPipeline } from './pipeline.js';
import { registerRenderCommands } from './render/commands.js';
import { native } from './native.js';
import { info, setThreads } from './runtime.js';
import { registerT2MCommands } from './t2m/commands.js';
import { registerTokenizerCommands } from './tokenizer/commands.js';
import { registerViewCommand } from './view/commands.js';

export function buildCli(): Command {
  // --threads is the root's only: commander hands it to the root wherever it stands (`torchmotion tokenizer encode …
  // --threads 2` too, as positional options are off), and every command's help lists it under Global Options.
  const program = new Command('torchmotion')
    .description('Motion tokenizers and text-to-motion models on LibTorch')
    .configureHelp({ showGlobalOptions: true })
    .addOption(
      new Option(
        '--threads <n>',
        'LibTorch and OpenBLAS threads (default: TORCHMOTION_THREADS, OMP_NUM_THREADS or all cores)'
      ).argParser(positiveInt)
    )
    .hook('preAction', (cmd) => {
      const threads = cmd.opts().threads as number | undefined;
      if (threads !== undefined) setThreads(threads);
    });

  program
    .command('info')
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
      console.log(`conv kernel   ${i.convKernel === 'none' ? "LibTorch's convolutions" : i.convKernel}`);
      console.log(
        `gen. kernel   ${i.packedKernel === 'none' ? "LibTorch's GEMM (no AVX2)" : `packed panels, ${i.packedKernel}`}`
      );
      const pg = native().ProcessGroup;
      console.log(
        `distributed   ${pg.available ? `c10d Gloo${pg.nccl ? ' and NCCL' : ' (no NCCL)'}` : 'no c10d in this build'}`
      );
      console.log(`CPU cache     ${i.cpuCache.installed ? 'caching allocator on' : 'off (TORCHMOTION_CPU_CACHE=0)'}`);
      console.log(`addon         ${i.addonPath}`);
      console.log(`Node.js       ${i.node} (${i.platform})`);
    });

  program
    .command('pipeline')
    .description('the main job: demo data → tokenizer → codes → text-to-motion → generated motions')
    .option('-c, --config <file>', 'YAML or JSON config')
    .addOption(setOption())
    .option('--json', 'print the final report as JSON')
    .action(async (opts: { config?: string; set: string[]; json?: boolean }) => {
      const config = loadConfig(pipelineConfig, { file: opts.config, overrides: opts.set });
      const report = await runPipeline(config, opts.json ? undefined : (line) => console.log(line));
      if (opts.json)
        console.log(JSON.stringify({ ...report, runtime: { ...report.runtime, buildConfig: undefined } }, null, 2));
    });

  registerDataCommands(program);
  registerTokenizerCommands(program);
  registerT2MCommands(program);
  registerEvaluatorCommands(program);
  registerRenderCommands(program);
  registerViewCommand(program);
  registerExportCommand(program);
  registerImportCommand(program);
  registerPfnnCommands(program);
  registerLaunchCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  followLauncher((line) => console.error(line));
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    // A message may quote a name read from a file: its lines are printed with control characters escaped.
    const message = (err instanceof Error ? err.message : String(err)).split('\n').map(printable).join('\n');
    console.error(`torchmotion: ${message}`);
    if (process.env.TORCHMOTION_DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = 1;
  }
}
