// What every fuzz family shares: the case count and seed, the two-outcome classifier with its tally, byte mutations.
// test/fuzz.test.ts and the families beside it (test/fuzz-*.ts) import it, so one tally covers every family.
import * as assert from 'uvu/assert';

import { TorchmotionError } from '../ts/errors.js';
import { Rng } from '../ts/rng.js';
import { tempDir } from './helpers.js';

export const CASES = Number(process.env.FUZZ_CASES ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? 1234);
export const dir = tempDir('tm-fuzz-');

// Messages that betray an unhandled path rather than a cause a user can act on.
export const GENERIC = new RegExp(
  String.raw`\bundefined\b(?!')|\[object |Cannot read properties|Invalid typed array length|out of bounds` +
    String.raw`|Maximum call stack|is not a function|received number NaN`
);

// Outcomes per family, so that a generator that stopped producing one of the two classes fails the suite.
export const tally = new Map<string, { ok: number; refused: number }>();

export function classify(
  what: string,
  file: string | undefined,
  run: () => unknown,
  check: (result: never) => void
): void {
  const family = what.split(' case ')[0];
  const count = tally.get(family) ?? { ok: 0, refused: 0 };
  tally.set(family, count);
  let result: unknown;
  try {
    result = run();
  } catch (err) {
    count.refused++;
    assert.instance(err, TorchmotionError, `${what}: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    const message = (err as Error).message;
    if (file) assert.ok(message.includes(file), `${what}: the error does not name ${file}: ${message}`);
    assert.not.match(message, GENERIC, `${what}: a generic message: ${message}`);
    return;
  }
  count.ok++;
  check(result as never);
}

export const allFinite = (data: ArrayLike<number | bigint>) =>
  Array.from(data as ArrayLike<number>).every((x) => typeof x !== 'number' || Number.isFinite(x));

// classify for calls that return a promise (archives, checkpoint imports): the same two outcomes, the same tally.
export async function classifyAsync(
  what: string,
  file: string | undefined,
  run: () => Promise<unknown>,
  check: (result: never) => void | Promise<void>
): Promise<void> {
  let result: unknown;
  let failure: unknown;
  let failed = false;
  try {
    result = await run();
  } catch (err) {
    failure = err;
    failed = true;
  }
  classify(
    what,
    file,
    () => {
      if (failed) throw failure;
      return result;
    },
    () => {}
  );
  if (!failed) await check(result as never);
}

// Each file of families draws from its own stream, seeded from FUZZ_SEED and the stream's name, so that adding a
// family (or cases to one) never changes what another family draws.
export function randomStream(name: string) {
  let seed = SEED;
  for (const c of name) seed = (Math.imul(seed, 31) + c.charCodeAt(0)) >>> 0;
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  function mutateBytes(bytes: Uint8Array): Uint8Array {
    const out = Uint8Array.from(bytes);
    switch (rng.int(4)) {
      case 0:
        return out.subarray(0, rng.int(out.length)); // truncated
      case 1:
        for (let k = 0; k < 1 + rng.int(8); k++) out[rng.int(Math.min(out.length, 160))] = rng.int(256);
        return out; // header bytes
      case 2:
        for (let k = 0; k < 1 + rng.int(8); k++) out[rng.int(out.length)] = rng.int(256);
        return out; // anywhere
      default:
        // trailing bytes
        return Uint8Array.from([...out, ...Array.from({ length: 1 + rng.int(64) }, () => rng.int(256))]);
    }
  }
  return { rng, pick, mutateBytes };
}
