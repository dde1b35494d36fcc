/**
 * Target `threads`: each worker keeps the batch it rebuilt for a call while the call
 * runs, and drops it when the call ends (a batch holding 128 MB that is not shared would
 * otherwise stay in every worker of a pool that is never closed), whether its items
 * carried only the call's id (weft's own pools) or the batch itself (a call's own
 * executor).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { type Executor, setDefaultExecutorFactory, threads } from 'weftjs';
import { shared } from 'weftjs/batch';
import { defaultExecutor } from '../../src/executors/from-env.ts';
import { calls } from './support/conventions.ts';
import { CacheProbe, type Kept, Visits } from './support/remote-cache.ts';

let pool: Executor;
beforeEach(() => {
  pool = threads({ workers: 2 });
  // Calls given no executor run on this pool as on weft's own: items carry only the id.
  setDefaultExecutorFactory(() => pool);
});
afterEach(async () => {
  setDefaultExecutorFactory(defaultExecutor);
  await pool.close();
});

/** Runs a call whose two items meet, one on each worker, and returns what they saw. */
function keptBy(options: object): Promise<Kept[]> {
  return calls(new CacheProbe(shared(new Int32Array(2)))).kept(10_000, options);
}

/** The one call each worker kept during a call. */
function onlyCall(seen: readonly Kept[]): string {
  assert.notEqual(seen[0]!.threadId, seen[1]!.threadId);
  assert.deepEqual(seen[0]!.calls, seen[1]!.calls);
  assert.equal(seen[0]!.calls.length, 1);
  return seen[0]!.calls[0]!;
}

describe('target threads: batches kept in workers', () => {
  it("a worker drops a call's batch when the call ends (items carrying the id)", async () => {
    const first = onlyCall(await keptBy({}));
    const second = onlyCall(await keptBy({}));
    assert.notEqual(second, first);
  });

  it("a worker drops a call's batch when the call ends (items carrying the batch)", async () => {
    const first = onlyCall(await keptBy({ executor: pool }));
    const second = onlyCall(await keptBy({}));
    assert.notEqual(second, first);
  });

  it('many calls at once: each worker asks once per call, and none is evicted while it runs', async () => {
    // Every worker's ask goes to this channel too: count them by call.
    const spy = new BroadcastChannel('weft:batch/calls');
    const asks = new Map<string, number>();
    spy.onmessage = (event) => {
      const { need } = (event as { data: { need?: string } }).data;
      if (need !== undefined) asks.set(need, (asks.get(need) ?? 0) + 1);
    };
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, n) =>
          calls(new Visits(new Array(6).fill(n))).visit({ nWorkers: 1 }),
        ),
      );
      for (const result of results) {
        assert.deepEqual(
          (result as [number, number][]).map(([i]) => i),
          [0, 1, 2, 3, 4, 5],
        );
      }
      assert.equal(asks.size, 6);
      for (const [id, count] of asks)
        assert.ok(count <= 2, `call ${id} was asked for ${count} times`);
    } finally {
      spy.close();
    }
  });
});
