// Reading torch.save files written by Debian's python3-torch (scripts/reference/torch_checkpoints.py): every tensor's
// dtype, shape and values (views and shared storages included), the state dict found under `net` with `module.`
// stripped, the optimiser/scheduler entries read (a Counter among them), unknown classes and hostile names reported as
// skipped without anything executed, and damaged files refused with an error naming them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { PyDict, stateDictOf, TorchFile, toFloat32 } from '../ts/pytorch/read.js';
import { errorOf, tempDir } from './helpers.js';
import { runPython } from './python.js';

const dir = tempDir('tm-pth-');
runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'torch_checkpoints.py'), dir]);
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
  milestones: Record<string, number>;
  optimizerState: Array<[string, number[]]>;
};
const file = join(dir, 'checkpoint.pth');
const DTYPES: Record<string, string> = {
  'torch.float32': 'f4',
  'torch.bfloat16': 'bf16',
  'torch.float16': 'f2',
  'torch.int64': 'i8',
};

test('every tensor of the state dict: dtype, shape and values as PyTorch has them', async () => {
  const f = await TorchFile.open(file);
  try {
    const net = stateDictOf(f);
    assert.equal([...net.keys()].sort(), Object.keys(expected.tensors).sort());
    for (const [name, want] of Object.entries(expected.tensors)) {
      const raw = f.read(net.get(name)!);
      assert.is(raw.dtype, DTYPES[want.dtype], name);
      assert.equal(raw.shape, want.shape, name);
      const values =
        raw.dtype === 'i8'
          ? Array.from(
              new BigInt64Array(raw.data.buffer.slice(raw.data.byteOffset, raw.data.byteOffset + raw.data.length)),
              Number
            )
          : Array.from(toFloat32(raw));
      // float32 values compare exactly; bf16/fp16 were converted to float by PyTorch (exact) and by the reader.
      assert.equal(
        values,
        want.values.map((v) => (raw.dtype === 'i8' ? v : Math.fround(v))),
        name
      );
    }
  } finally {
    f.close();
  }
});

test('the rest of the checkpoint is read too: a Counter, numbers, optimiser state', async () => {
  const f = await TorchFile.open(file);
  try {
    const root = f.root as PyDict;
    assert.is(Number(root.get('nb_iter')), 6000000);
    const milestones = (root.get('scheduler') as PyDict).get('milestones') as PyDict;
    assert.equal(Object.fromEntries([...milestones].map(([k, v]) => [String(k), Number(v)])), expected.milestones);
    const state = (root.get('optimizer') as PyDict).get('state') as PyDict;
    assert.equal(
      f.tensors(state).map(([p, t]) => [p, t.shape]),
      expected.optimizerState
    );
    assert.ok(expected.optimizerState.length >= 2, 'Adam after one step holds its moments');
  } finally {
    f.close();
  }
});

test('unknown classes and hostile names become placeholders: reported, never run', async () => {
  const f = await TorchFile.open(file);
  f.close();
  // As pickle protocol 2 writes them (Python 2 names: builtins → __builtin__, subprocess → commands).
  assert.equal(f.skipped, ['__builtin__.eval', '__main__.Custom', 'commands.Popen', 'posix.system']);
  assert.not.ok(existsSync(join(dir, 'marker')), 'nothing the pickle names was executed');
});

test('damaged and foreign files are refused with an error that names them', async () => {
  const whole = readFileSync(file);
  const cut = join(dir, 'cut.pth');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
  assert.match(
    await errorOf(() => TorchFile.open(cut)),
    new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a readable zip archive \\(`)
  );
  const text = join(dir, 'notes.pth');
  writeFileSync(text, 'not a checkpoint');
  assert.match(await errorOf(() => TorchFile.open(text)), /notes\.pth: not a readable zip archive/);
  assert.match(
    await errorOf(() => TorchFile.open(join(dir, 'absent.pth'))),
    /absent\.pth: not a readable zip archive \(ENOENT/
  );
});

test.run();
