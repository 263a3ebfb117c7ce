// Tensors cross into the addon as a typed array plus a shape. The typed array's type is the dtype:
// Float32Array float32, Float64Array float64, Int32Array int32, BigInt64Array int64, Uint8Array bool.
import { invalid, TorchmotionError } from './errors.js';

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
export type Dtype = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';

export interface HostTensor<D extends TensorData = TensorData> {
  data: D;
  shape: number[];
}

export interface TensorOut extends HostTensor {
  dtype: Dtype;
}

export function dtypeOf(data: TensorData): Dtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'bool';
}

const SUPPORTED = [Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array];

// Checks a tensor on the JS side so a wrong argument names itself before any native call.
export function tensor<D extends TensorData>(data: D, shape: readonly number[], name = 'tensor'): HostTensor<D> {
  if (!SUPPORTED.some((T) => data instanceof T)) {
    throw invalid(`${name}.data`, 'a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array', data);
  }
  for (const [i, d] of shape.entries()) {
    if (!Number.isInteger(d) || d < 0) throw invalid(`${name}.shape[${i}]`, 'a non-negative integer', d);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel !== data.length) {
    // Same sentence as the addon's check, so the message does not depend on which side caught it.
    throw new TorchmotionError(
      `${name}: shape [${shape.join(', ')}] holds ${numel} elements but data has ${data.length}`
    );
  }
  return { data, shape: [...shape] };
}
