// `torchmotion launch [--nproc-per-node N --nnodes M --node-rank K --master-addr A --master-port P --timeout S
// --grace S] -- <command…>`.
import type { Command } from 'commander';

import { nonNegativeInt, port, positiveInt, positiveNumber, withDefault } from '../cli-options.js';
import { distDefaults } from './group.js';
import { launch, launchSettings } from './launch.js';

interface LaunchFlags {
  nprocPerNode: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  timeout?: number;
  grace?: number;
}

export function registerLaunchCommand(program: Command): void {
  program
    .command('launch')
    .description(
      'run a command as the data-parallel ranks of this node (c10d/Gloo), as torchrun does: ' +
        'launch --nproc-per-node 2 -- tokenizer train …'
    )
    .requiredOption('--nproc-per-node <n>', 'ranks on this node', positiveInt)
    .option('--nnodes <n>', withDefault('nodes in the run', launchSettings, 'nnodes'), positiveInt)
    .option(
      '--node-rank <k>',
      withDefault("this node's rank (0 … nnodes − 1)", launchSettings, 'nodeRank'),
      nonNegativeInt
    )
    .option(
      '--master-addr <addr>',
      withDefault("rank 0's node, as every node reaches it", launchSettings, 'masterAddr')
    )
    .option('--master-port <port>', 'its rendezvous port (default: a free one on one node, 29500 on several)', port)
    .option(
      '--timeout <s>',
      withDefault(
        'a rank that stops answering for this long ends the run (TORCHMOTION_DIST_TIMEOUT)',
        distDefaults,
        'timeoutS'
      ),
      positiveNumber
    )
    .option(
      '--grace <s>',
      withDefault(
        'seconds ranks asked to stop (Ctrl-C, a failed rank) may take before SIGKILL',
        launchSettings,
        'graceS'
      ),
      positiveNumber
    )
    .argument('<command...>', 'the torchmotion command every rank runs, after --')
    .action(async (command: string[], o: LaunchFlags) => {
      const rc = await launch(command, {
        nprocPerNode: o.nprocPerNode,
        nnodes: o.nnodes,
        nodeRank: o.nodeRank,
        masterAddr: o.masterAddr,
        masterPort: o.masterPort || undefined,
        timeoutS: o.timeout,
        graceS: o.grace,
        log: (l) => console.error(l),
      });
      process.exitCode = rc;
    });
}
