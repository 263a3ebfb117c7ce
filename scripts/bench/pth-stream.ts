// Streaming a checkpoint larger than 4 GiB through torchmotion's torch.save reader and writer: python3-torch writes a
// synthetic state dict (fp32 tensors and one bf16, the largest 1 GiB), torchmotion reads it tensor by tensor and writes
// it out as fp32 (bf16 converted), and torch.load checks every tensor of the result against the input.
// Peak RSS (VmHWM, reset after the input is written) against the largest tensor plus the output buffer it becomes.
// Usage: npx tsx scripts/bench/pth-stream.ts [--dir /tmp/tm-pth-stream] [--gib 4.5] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import { stateDictOf, TorchFile, toFloat32 } from '../../ts/pytorch/read.js';
import { ITEM_SIZE } from '../../ts/pytorch/unpickle.js';
import { type PickleValue, type TensorOut, writeTorchFile } from '../../ts/pytorch/write.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const dir = arg('dir', '/tmp/tm-pth-stream');
const gib = Number(arg('gib', '4.5'));
mkdirSync(dir, { recursive: true });
const input = join(dir, 'reference.pth');
const output = join(dir, 'torchmotion.pth');

// Sizes in MiB: one 1 GiB tensor, one 256 MiB bf16 tensor, the rest 512 MiB, until the total reaches --gib.
const python = (code: string) => {
  const r = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};
python(`
import collections, torch
sizes = [1024, 256]
while sum(sizes) < ${gib} * 1024: sizes.append(512)
net = collections.OrderedDict()
for i, mib in enumerate(sizes):
    dtype = torch.bfloat16 if i == 1 else torch.float32
    n = mib * 2**20 // (2 if dtype == torch.bfloat16 else 4)
    net[f'module.layer{i}.weight'] = ((torch.arange(n, dtype=torch.float32) % 251) / 8 - i).to(dtype).reshape(-1, 1024)
torch.save({'net': net, 'nb_iter': 1}, '${input}')
`);
const inputBytes = statSync(input).size;

try {
  writeFileSync('/proc/self/clear_refs', '5');
} catch {
  /* not Linux */
}
const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
const before = hwm();
const t0 = performance.now();
const file = await TorchFile.open(input);
const sd = stateDictOf(file, 'net');
let largest = 0;
let largestOut = 0;
const tensors: TensorOut[] = [...sd].map(([name, ref]) => {
  largest = Math.max(largest, ref.numel * ITEM_SIZE[ref.dtype]);
  largestOut = Math.max(largestOut, ref.numel * 4);
  return { name, dtype: 'f4', shape: ref.shape, data: () => new Uint8Array(toFloat32(file.read(ref)).buffer) };
});
writeTorchFile(
  output,
  new Map<string, PickleValue>([
    ['net', new Map(tensors.map((t) => [t.name, t]))],
    ['nb_iter', 1],
  ])
);
file.close();
const seconds = (performance.now() - t0) / 1000;
const peak = hwm();

// torch.load of the result: every tensor equal to the input's, as float32.
const check = python(`
import torch
a = torch.load('${input}')['net']
b = torch.load('${output}')['net']
assert [k[len('module.'):] for k in a] == list(b), 'names'
bad = [k for k, v in b.items() if v.dtype != torch.float32 or not torch.equal(a['module.' + k].float(), v)]
print(len(b), 'tensors equal' if not bad else f'differ: {bad}')
`).trim();
const mb = (b: number) => Number((b / 2 ** 20).toFixed(1));
console.log(
  JSON.stringify(
    {
      inputGB: Number((inputBytes / 2 ** 30).toFixed(2)),
      outputGB: Number((statSync(output).size / 2 ** 30).toFixed(2)),
      tensors: sd.size,
      seconds: Number(seconds.toFixed(1)),
      largestTensorMB: mb(largest),
      largestOutputMB: mb(largestOut),
      rssBeforeMB: mb(before),
      peakRssMB: mb(peak),
      boundMB: mb(1.5 * largest + largestOut),
      withinBound: peak <= 1.5 * largest + largestOut,
      torchLoad: check,
      machine: `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB`,
    },
    null,
    2
  )
);
if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
