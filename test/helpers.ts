// Shared by the tests: the device under test (TORCHMOTION_DEVICE=cuda on a GPU machine), error capture and the
// relative error the golden tests compare with.
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
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
