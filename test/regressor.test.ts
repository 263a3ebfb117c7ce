import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { trainRegressor } from '../ts/regressor.js';
import { device } from './helpers.js';

test('a native training loop fits the target surface', async () => {
  const r = await trainRegressor({ steps: 300, seed: 1, device });
  assert.is(r.parameterCount, 2 * 64 + 64 + 64 + 1);
  assert.is(r.losses.length, 300);
  assert.ok(r.heldOutAfter < r.heldOutBefore / 20, `held-out MSE ${r.heldOutBefore} → ${r.heldOutAfter}`);
});

test('the same seed on one thread gives the same losses bit for bit', async () => {
  const a = await trainRegressor({ steps: 40, seed: 7, threads: 1, device });
  const b = await trainRegressor({ steps: 40, seed: 7, threads: 1, device });
  const c = await trainRegressor({ steps: 40, seed: 8, threads: 1, device });
  assert.equal(a.losses, b.losses);
  assert.not.equal(a.losses, c.losses);
});

test.run();
