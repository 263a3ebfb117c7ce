// `torchmotion import <file.pth>` and `torchmotion export <run> --format pth|safetensors`: PyTorch checkpoints in and
// out.
import type { Command } from 'commander';

import { choiceOption, levelList, positiveInt } from '../cli-options.js';
import { TorchmotionError } from '../errors.js';
import { registerDatabaseCommand } from '../pfnn/commands.js';
import { tokenizerModel } from '../tokenizer/config.js';
import { exportRun } from './export.js';
import { importCheckpoint, importSettings, type ImportOptions } from './import.js';

export function registerImportCommand(program: Command): void {
  program
    .command('import <file>')
    .description(
      "a reference PyTorch checkpoint (.pth) or safetensors file → a torchmotion run: MotionMillion's FSQ " +
        'tokenizer or its text-to-motion decoder'
    )
    .requiredOption('-o, --out <run>', 'run folder to write (its checkpoint and import-report.json)')
    .addOption(
      choiceOption('--kind <kind>', 'what the file holds (default: read from its names)', importSettings, 'kind')
    )
    .option(
      '--codes <n>',
      "tokenizer: FSQ codebook size, when the projection's width fits several of the reference's levels",
      positiveInt
    )
    .option(
      '--levels <list>',
      "tokenizer: FSQ levels, e.g. 8,5,5,5 (when the codebook is not in the reference's table)",
      levelList
    )
    .option(
      '--dilation-growth <n>',
      'tokenizer: resnet dilation growth (not in the shapes; the reference uses 3)',
      positiveInt
    )
    .addOption(
      choiceOption(
        '--activation <name>',
        'tokenizer: not in the shapes; the reference uses relu',
        tokenizerModel.shape.activation.unwrap()
      )
    )
    .option(
      '--data <root>',
      'tokenizer: the dataset root whose mean_std/ normalises its input (for reconstruct, generate, eval)'
    )
    .option(
      '--heads <n>',
      "t2m: attention heads (not in the shapes; default: the preset's with the same width and depth)",
      positiveInt
    )
    .addOption(
      choiceOption(
        '--dtype <fp32|bf16>',
        't2m: fp32 (trains and generates) or bf16 (kept as bf16: generates only, half the memory)',
        importSettings,
        'dtype'
      )
    )
    .option('--tokenizer <run>', 't2m: the tokenizer run whose codes the decoder reads (generate uses it)')
    .option('--embeddings <cache>', 't2m: a caption-embedding cache (`t2m embed`) for its prompts')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, o: ImportOptions & { out: string; json?: boolean }) => {
      const r = await importCheckpoint(file, o.out, {
        kind: o.kind,
        codes: o.codes,
        levels: o.levels,
        dilationGrowth: o.dilationGrowth,
        activation: o.activation,
        heads: o.heads,
        data: o.data,
        dtype: o.dtype,
        tokenizer: o.tokenizer,
        embeddings: o.embeddings,
      });
      if (o.json) return void console.log(JSON.stringify(r, null, 2));
      console.log(
        `${r.checkpoint}: a ${r.kind === 't2m' ? 'text-to-motion decoder' : 'tokenizer'}, ` +
          `${r.mapped.length} tensors mapped, ` +
          `${r.ignored.length} ignored (${r.ignored.join(', ') || 'none'})`
      );
      if (r.skippedClasses.length) console.log(`read as placeholders (not executed): ${r.skippedClasses.join(', ')}`);
      console.log(`report: ${o.out}/import-report.json`);
    });
}

// `torchmotion export <run>`: a run → a PyTorch checkpoint. `export pfnn` is the old name of `pfnn database`, kept as
// an alias that says so; the run argument and --format go on `export` itself, beside it.
export function registerExportCommand(program: Command): void {
  const exportCommand = program
    .command('export')
    .description('a run → a PyTorch checkpoint (export <run> --format pth|safetensors)');
  exportCommand
    .argument('[run]', 'a torchmotion run or checkpoint folder')
    .option('--format <format>', 'pth (torch.save, the reference layout) or safetensors')
    .option('-o, --out <file>', 'file to write')
    .action(async (run: string | undefined, o: { format?: string; out?: string }) => {
      if (!run) return void exportCommand.help();
      if (o.format !== 'pth' && o.format !== 'safetensors')
        throw new TorchmotionError(`export ${run}: --format must be pth or safetensors`);
      if (!o.out) throw new TorchmotionError(`export ${run}: give the file to write with --out`);
      const r = await exportRun(run, o.out, o.format);
      console.log(`${r.file}: ${r.tensors} tensors in the reference's layout (${r.format})`);
    });
  registerDatabaseCommand(exportCommand, 'pfnn');
}
