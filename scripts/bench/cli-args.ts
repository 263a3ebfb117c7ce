// Argument lists for the CLI that the memory benchmarks run as child processes.

// `--set key=value` for every entry, in order.
export const sets = (values: Record<string, string | number>): string[] =>
  Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${value}`]);

// `t2m generate` of one prompt, 2 to 4 s, from the checkpoint `ckpt` into `out` (extra flags before -o).
export const generateArgs = (ckpt: string, out: string, extra: string[] = []): string[] => [
  't2m',
  'generate',
  '--ckpt',
  ckpt,
  '-t',
  'a person walks forward',
  '--seconds',
  '4',
  '--min-seconds',
  '2',
  ...extra,
  '-o',
  out,
];
