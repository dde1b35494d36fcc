/**
 * Target `threads` and `nWorkers`: a call never has more items inside its method at once
 * than its cap, even on a pool with more workers, as measured by the items themselves
 * in shared memory; nor does it hand the pool more items than that.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { threads } from 'weftjs';
import { calls } from './support/conventions.ts';
import { Recording } from './support/remote-executors.ts';
import { Turnstile } from './support/remote-turnstile.ts';

const pool = threads({ workers: 2 });
after(() => pool.close());

describe('target threads: nWorkers', () => {
  it('nWorkers 1 on a pool of two workers: one item inside at a time', async () => {
    const turnstile = Turnstile.of(3);
    const executor = new Recording(pool);
    const call = calls(turnstile).pass(10_000, { executor, nWorkers: 1 });
    for (let k = 1; k <= 3; k++) {
      await turnstile.whenEntered(k);
      // While an item is inside, the next one is not even handed to the pool.
      assert.equal(executor.seen.length, k);
      turnstile.release();
    }
    assert.deepEqual(await call, [0, 1, 2]);
    assert.equal(turnstile.peak, 1);
  });
});
