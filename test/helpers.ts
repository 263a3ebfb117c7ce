// Shared by the tests: the device under test (TORCHMOTION_DEVICE=cuda on a GPU machine), error capture and the
// relative error the golden tests compare with.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as assert from 'uvu/assert';

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
