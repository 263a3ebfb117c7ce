// `torchmotion evaluator train|test`.
import type { Command } from 'commander';

import { ckptOption, withDefault } from '../cli-options.js';
import { dataFlag, registerTrainCommand } from '../train/command.js';
import { evaluatorConfig } from './config.js';
import { evaluatorTestSettings, testEvaluator, formatRetrieval } from './evaluator-test.js';
import { trainEvaluator } from './train.js';

export function registerEvaluatorCommands(program: Command): void {
  const ev = program
    .command('evaluator')
    .description('the text–motion retrieval evaluator the generation metrics are computed with');

  registerTrainCommand(ev, {
    description: "train on a dataset's captions and motions (symmetric InfoNCE; checkpoints, Ctrl-C saves, --resume)",
    flags: [dataFlag()],
    schema: evaluatorConfig,
    train: trainEvaluator,
  });

  ev.command('test')
    .description(
      'its own retrieval quality: R@1/2/3/5/10 and median rank, both directions, whole split and batches of 32'
    )
    .addOption(ckptOption('evaluator'))
    .option('-d, --data <root>', 'dataset root (default: the one it was trained on)')
    .option('--split <name>', withDefault('split', evaluatorTestSettings, 'split'))
    .option('--json', 'print JSON')
    .action(async (o: { ckpt: string; data?: string; split?: string; json?: boolean }) => {
      const r = await testEvaluator(o);
      console.log(o.json ? JSON.stringify(r, null, 2) : formatRetrieval(r));
    });
}
