import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../ts/native.js';
import { matmul, roundTrip } from '../ts/runtime.js';
import { tensor, type TensorData } from '../ts/tensor.js';
import { device, errorOf, motionBatch, onCuda, tinyTokenizerOptions } from './helpers.js';

const cases: Array<[string, TensorData, number[]]> = [
  ['float32', new Float32Array([1.5, -0, 3.4028234663852886e38, 1e-45, Infinity, -7.25]), [2, 3]],
  ['float64', new Float64Array([Math.PI, -Number.MAX_VALUE, Number.MIN_VALUE, 0.1, -Infinity, 42]), [3, 1, 2]],
  ['int32', new Int32Array([2147483647, -2147483648, 0, -1, 7, 123456]), [6]],
  ['int64', new BigInt64Array([9223372036854775807n, -9223372036854775808n, 0n, -1n]), [2, 2]],
  ['bool', new Uint8Array([1, 0, 0, 1, 1, 0, 1, 1]), [2, 2, 2]],
];

for (const [dtype, data, shape] of cases) {
  test(`round trip is exact for ${dtype} ${JSON.stringify(shape)} on ${device}`, async () => {
    const out = await roundTrip({ data, shape }, { device });
    assert.is(out.dtype, dtype);
    assert.equal(out.shape, shape);
    assert.is(out.data.constructor, data.constructor);
    assert.equal(Array.from(out.data as ArrayLike<unknown>), Array.from(data as ArrayLike<unknown>));
    assert.is.not(out.data.buffer, data.buffer, 'results are copies, never views of the input');
  });
}

test('NaN survives the round trip bit for bit', async () => {
  const out = await roundTrip({ data: new Float32Array([NaN, 1]), shape: [2] }, { device });
  assert.ok(Number.isNaN(out.data[0]));
});

test('scalars and empty tensors keep their shapes', async () => {
  const scalar = await roundTrip({ data: new Float64Array([2.5]), shape: [] }, { device });
  assert.equal(scalar.shape, []);
  assert.equal(Array.from(scalar.data as Float64Array), [2.5]);
  const empty = await roundTrip({ data: new Int32Array(0), shape: [0, 3] }, { device });
  assert.equal(empty.shape, [0, 3]);
  assert.is(empty.data.length, 0);
});

test('a view at a byte offset is read from its own offset (zero-copy wrap honours byteOffset)', async () => {
  const backing = new Float32Array([99, 99, 1, 2, 3, 4, 99]);
  const a = backing.subarray(2, 6); // [[1,2],[3,4]]
  const out = await matmul(tensor(a, [2, 2], 'a'), tensor(new Float32Array([1, 0, 0, 1]), [2, 2], 'b'), { device });
  assert.equal(Array.from(out.data as Float32Array), [1, 2, 3, 4]);
});

test('a real computation: matmul matches the hand result', async () => {
  const out = await matmul(
    { data: new Float64Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] },
    { data: new Float64Array([7, 8, 9, 10, 11, 12]), shape: [3, 2] },
    { device }
  );
  assert.equal(out.shape, [2, 2]);
  assert.equal(Array.from(out.data as Float64Array), [58, 64, 139, 154]);
});

test('dtype mismatch names the argument, the expected and the received dtype', async () => {
  const model = new (native().Tokenizer)(await tinyTokenizerOptions());
  const msg = await errorOf(() => model.encode({ data: new Float64Array(4 * 272), shape: [1, 4, 272] }));
  assert.is(msg, 'motion: expected dtype float32 but received float64 (Float64Array)');
});

test('shape mismatch names the argument, the expected and the received shape', async () => {
  const model = new (native().Tokenizer)(await tinyTokenizerOptions());
  const msg = await errorOf(() => model.encode({ data: new Float32Array(4 * 3), shape: [1, 4, 3] }));
  assert.is(msg, 'motion: expected shape [B, T, 272] but received [1, 4, 3]');
  const frames = await errorOf(() => model.encode(motionBatch(1, 5)));
  assert.is(frames, "motion: T = 5 frames is not a multiple of the tokenizer's downsampling (2): crop the clip");
});

test('element count that does not fit the shape is rejected on both sides of the bridge', async () => {
  assert.is(
    await errorOf(() => tensor(new Float32Array(5), [2, 3], 'motion')),
    'motion: shape [2, 3] holds 6 elements but data has 5'
  );
  assert.is(
    await errorOf(() => native().roundTrip({ data: new Float32Array(5), shape: [2, 3] })),
    'tensor: shape [2, 3] holds 6 elements but data has 5'
  );
});

test('CUDA requested where it is absent gives a clear error', async () => {
  if (onCuda) return; // on a GPU machine the device exists
  const msg = await errorOf(() => roundTrip({ data: new Float32Array(1), shape: [1] }, { device: 'cuda:0' }));
  assert.match(
    msg,
    new RegExp(
      String.raw`^device 'cuda:0' requested but CUDA is not available \(LibTorch 1\.13\.\d has no CUDA ` +
        String.raw`support or no GPU is visible\): use device 'cpu'`
    )
  );
});

test.run();
