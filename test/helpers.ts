// Shared by the tests: the device under test (TORCHMOTION_DEVICE=cuda on a GPU machine), error capture and the
// relative error the golden tests compare with.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as assert from 'uvu/assert';

import type { NativeT2MOptions } from '../ts/t2m/config.js';

export const device = process.env.TORCHMOTION_DEVICE ?? 'cpu';
export const onCuda = device.startsWith('cuda');

// Runs fn (sync or async) and returns the message of the Error it must raise.
export async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, Error, 'a JS Error, not a thrown value of another kind');
    return (err as Error).message;
  }
  throw new assert.Assertion({ message: 'expected an error, but the call succeeded', operator: 'throws' } as never);
}

// ‖a − b‖ / ‖b‖ (L2).
// max |a − b| over max |b|: an element-wise error relative to the reference's scale.
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

// The native constructor options of the tiny tokenizer (the smallest real model), every default from the schemas.
export async function tinyTokenizerOptions(seed = 0) {
  const { resolveModel, tokenizerTraining } = await import('../ts/tokenizer/config.js');
  const { adamWSettings } = await import('../ts/model-base.js');
  return { ...resolveModel({ preset: 'tiny' }), ...adamWSettings(tokenizerTraining.parse({})), seed, device };
}

// A (B, T, 272) float32 batch of a smooth deterministic signal.
export function motionBatch(B: number, T: number, phase = 0) {
  const data = new Float32Array(B * T * 272);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(0.37 * i + phase) * 0.5;
  return { data, shape: [B, T, 272] };
}

// A fresh folder under the system's temporary directory, removed when the test process exits.
const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

// A tokenizer step's options as the native tests pass them: fixed values, one thread, the update applied.
export const tinyStepOptions = {
  lr: 1e-3,
  clip: 0,
  velWeight: 0.5,
  commitBeta: 0.02,
  autocast: 'none' as const,
  lossScale: 1,
  update: true,
  threads: 1,
};

// Runs a golden test file again with the AVX2 convolution kernels (native/kernels/conv1d_avx2.cc) forced: the variable
// is set before the addon's first call, and the addon must report the AVX2 kernels on an AVX2 CPU (none elsewhere).
export async function withAvx2Kernels(load: () => Promise<unknown>): Promise<void> {
  process.env.TORCHMOTION_NO_AVX512 = '1';
  const { info } = await import('../ts/runtime.js');
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const avx2 = /\bavx2\b/.test(cpuinfo) && /\bfma\b/.test(cpuinfo);
  assert.is(
    info().convKernel,
    avx2 ? 'avx2' : 'none',
    'TORCHMOTION_NO_AVX512 must select the AVX2 convolution kernels on an AVX2 CPU'
  );
  await load();
}

// A float32 text-to-motion model of a native shape (from nativeOptions), seed 0, AdamW as the training schema sets it.
export async function t2mOfShape(shape: NativeT2MOptions) {
  const { native } = await import('../ts/native.js');
  const { t2mTraining } = await import('../ts/t2m/config.js');
  const { adamWSettings } = await import('../ts/model-base.js');
  return new (native().T2M)({ ...shape, dtype: 'float32', ...adamWSettings(t2mTraining.parse({})), seed: 0, device });
}
