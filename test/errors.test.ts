// Invalid native calls must become JS errors and leave the process working.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../ts/native.js';
import { device, errorOf, onCuda, tinyTokenizerOptions } from './helpers.js';

const f32 = (n: number, shape: number[]) => ({ data: new Float32Array(n), shape });
// The addon without its types, to make the calls TypeScript would refuse.
const raw = (): Record<string, (...a: unknown[]) => unknown> => native() as never;

const invalidCalls: Array<[string, () => unknown, RegExp | string]> = [
  ['no argument at all', () => raw().roundTrip(), 'tensor: expected a tensor {data: TypedArray, shape: number[]}'],
  [
    'a plain array instead of a tensor',
    () => raw().roundTrip([1, 2, 3]),
    'tensor: expected a tensor {data: TypedArray, shape: number[]}',
  ],
  [
    'data that is not a typed array',
    () => raw().roundTrip({ data: [1, 2], shape: [2] }),
    'tensor.data: expected a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array',
  ],
  [
    'an unsupported typed array',
    () => raw().roundTrip({ data: new Int16Array(2), shape: [2] }),
    /^tensor\.data: typed array type not supported/,
  ],
  [
    'a negative dimension',
    () => raw().roundTrip({ data: new Float32Array(2), shape: [-2] }),
    'tensor.shape[0]: expected a non-negative integer but received -2',
  ],
  [
    'a fractional dimension',
    () => raw().roundTrip({ data: new Float32Array(2), shape: [1.5] }),
    'tensor.shape[0]: expected a non-negative integer but received 1.5',
  ],
  [
    'a bool tensor holding 2',
    () => raw().roundTrip({ data: new Uint8Array([0, 2]), shape: [2] }),
    'tensor.data: a bool tensor (Uint8Array) may only hold 0 or 1, but element 1 is 2',
  ],
  [
    'a device name that does not exist',
    () => raw().roundTrip(f32(1, [1]), { device: 'gpu' }),
    "device 'gpu' is not valid: use 'cpu', 'cuda' or 'cuda:N'",
  ],
  [
    'cpu with an index',
    () => raw().roundTrip(f32(1, [1]), { device: 'cpu:1' }),
    "device 'cpu:1' is not valid: use 'cpu', 'cuda' or 'cuda:N'",
  ],
  [
    'a CUDA device index past the last one',
    () => raw().roundTrip(f32(1, [1]), { device: 'cuda:99' }),
    onCuda ? /^device 'cuda:99' does not exist/ : /^device 'cuda:99' requested but CUDA is not available/,
  ],
  [
    'matmul of incompatible shapes (LibTorch error)',
    () => raw().matmul(f32(6, [2, 3]), f32(6, [2, 3]), { device }),
    'mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)',
  ],
  [
    'matmul of float32 with int32 (LibTorch error)',
    () => raw().matmul(f32(4, [2, 2]), { data: new Int32Array(4), shape: [2, 2] }),
    /expected .*(same dtype|scalar type)/i,
  ],
  [
    'zero threads',
    () => raw().roundTrip(f32(1, [1]), { threads: 0 }),
    "option 'threads' must be a number in [1.000000, 1024.000000], received 0",
  ],
  [
    'options that are not an object',
    () => raw().matmul(f32(1, [1, 1]), f32(1, [1, 1]), 'fast'),
    'matmul: expected an options object',
  ],
  [
    'an unknown throughput op',
    () => raw().measureThroughput({ op: 'fft' }),
    "option 'op' must be 'matmul', 'conv1d' or 'conv1d-torchmotion', received 'fft'",
  ],
  ['setThreads with a string', () => raw().setThreads('4'), 'setThreads: expected a number'],
  [
    'a model with a non-integer width',
    async () => new (native().Tokenizer)({ ...(await tinyTokenizerOptions()), width: 2.5 }),
    "option 'width' must be an integer, received 2.500000",
  ],
  [
    'a model without a hyper-parameter',
    async () => {
      const { lr: _dropped, ...rest } = await tinyTokenizerOptions();
      return new (native().Tokenizer)(rest as never);
    },
    "Tokenizer: option 'lr' is missing (its default lives in the TypeScript config schema, which passes every option)",
  ],
  [
    'a training step without a hyper-parameter',
    async () =>
      new (native().Tokenizer)(await tinyTokenizerOptions()).step(
        { data: new Float32Array(2 * 272), shape: [1, 2, 272] },
        { lr: 1e-3, clip: 0, velWeight: 0.5, autocast: 'none' } as never
      ),
    "Tokenizer.step: option 'commitBeta' is missing (its default lives in the TypeScript config schema, " +
      'which passes every option)',
  ],
  [
    'a model method on a bare object',
    () =>
      (native().Tokenizer.prototype as unknown as { step: (...a: unknown[]) => unknown }).step.call({}, f32(2, [1, 2])),
    'Illegal invocation',
  ],
];

for (const [what, call, expected] of invalidCalls) {
  test(`invalid call → JS Error: ${what}`, async () => {
    const msg = await errorOf(call);
    if (typeof expected === 'string') assert.is(msg, expected);
    else assert.match(msg, expected);
    assert.not.match(msg, /Exception raised from|frame #\d/, 'no C++ backtrace in the message');
  });
}

test('after every invalid call the process still computes correctly', async () => {
  const out = await native().matmul(
    { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] },
    { data: new Float32Array([1, 1, 1, 1]), shape: [2, 2] },
    { device }
  );
  assert.equal(Array.from(out.data as Float32Array), [3, 3, 7, 7]);
});

test.run();
