// The `train` subcommand every trainer has (tokenizer, t2m, evaluator, pfnn): a config file, flags that set config
// keys, `--set key=value` overrides, a run folder and `--resume`; the config is loaded through the trainer's schema,
// the run trained, and its summary printed. A trainer states only what differs: its schema, its flags and its function.
import type { Command } from 'commander';
import type { z } from 'zod';

import { setOption } from '../cli-options.js';
import { loadConfig } from '../config.js';
import { runSummary, type RunOptions, type RunResult } from './run.js';

export interface TrainCommand<S extends z.ZodObject> {
  argument?: { name: string; key: string }; // e.g. `pfnn train <database>` → data.root
  flags?: Array<{ flags: string; description: string; key: string }>; // e.g. `-d, --data <root>` → data.root
  description: string;
  schema: S;
  train: (config: z.output<S>, o: Pick<RunOptions, 'out' | 'resume' | 'log'>) => Promise<RunResult>;
}

// `-d, --data <root>` → data.root, the flag every trainer reading a dataset has.
export const dataFlag = (description = 'dataset root') => ({
  flags: '-d, --data <root>',
  description,
  key: 'data.root',
});

export function registerTrainCommand<S extends z.ZodObject>(parent: Command, t: TrainCommand<S>): void {
  const command = parent
    .command(t.argument ? `train <${t.argument.name}>` : 'train')
    .description(t.description)
    .option('-c, --config <file>', 'YAML or JSON config');
  for (const f of t.flags ?? []) command.option(f.flags, `${f.description} (${f.key})`);
  command
    .requiredOption('-o, --out <run>', 'run folder')
    .addOption(setOption())
    .option('--resume', 'continue the run in --out from its latest checkpoint')
    .action(async (...args: unknown[]) => {
      const o = (t.argument ? args[1] : args[0]) as Record<string, unknown> & {
        config?: string;
        out: string;
        set: string[];
        resume?: boolean;
      };
      const given = (t.flags ?? []).flatMap((f) => {
        const value = command.getOptionValue(command.options.find((opt) => opt.flags === f.flags)!.attributeName());
        return value === undefined ? [] : [`${f.key}=${String(value)}`];
      });
      const overrides = [...(t.argument ? [`${t.argument.key}=${String(args[0])}`] : []), ...given, ...o.set];
      const config = loadConfig(t.schema, { file: o.config, overrides });
      const r = await t.train(config, {
        out: o.out,
        resume: o.resume,
        log: process.stderr.isTTY ? undefined : (line) => console.log(line),
      });
      const summary = runSummary(r);
      if (summary) console.log(summary);
    });
}
