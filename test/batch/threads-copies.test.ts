/**
 * Target `threads`: what travels, and real parallelism. A batch's data that is not shared
 * is copied to each worker once per call, never once per item: every item carries the
 * same small call, whose state is in shared memory. Two items on two workers are inside
 * the method at the same moment.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { threads } from 'weftjs';
import { shared } from 'weftjs/batch';
import { calls } from './support/conventions.ts';
import { Heavy, Rendezvous } from './support/remote-batches.ts';
import { Recording, sizeOf } from './support/remote-executors.ts';

const pool = threads({ workers: 2 });
after(() => pool.close());

/** The visits counted by each worker's copy of the batch, by thread. */
function visitsByThread(results: readonly { threadId: number; visits: number }[]) {
  const byThread = new Map<number, number[]>();
  for (const { threadId, visits } of results) {
    byThread.set(threadId, [...(byThread.get(threadId) ?? []), visits]);
  }
  return byThread;
}

describe('target threads: copies', () => {
  it('each item carries a small input while the batch holds 1 MB that is not shared', async () => {
    const executor = new Recording(pool);
    const batch = new Heavy(Array.from({ length: 8 }, (_, i) => i));
    batch.payload = new Float64Array(131_072).fill(1);
    assert.ok(sizeOf(batch.payload) >= 1_048_576);
    const results = await calls(batch).visit({ executor });
    assert.equal(results.length, 8);
    assert.ok(results.every((result: { payload: number }) => result.payload === 131_072));
    assert.equal(executor.seen.length, 8);
    for (const { task, bytes } of executor.seen) {
      assert.equal(task, 'weft:batch/runMethod');
      assert.ok(bytes < 2048, `an item's input took ${bytes} bytes`);
    }
    // One call object for every item: its state is serialized once, in this thread.
    const inputs = executor.seen.map(({ input }) => (input as { call: unknown }).call);
    assert.ok(inputs.every((call) => call === inputs[0]));
  });

  it("each worker builds the batch once per call: a worker's items share its copy", async () => {
    const batch = new Heavy(Array.from({ length: 6 }, (_, i) => i));
    for (let call = 0; call < 2; call++) {
      const results = await calls(batch).visit({ executor: pool });
      let total = 0;
      for (const visits of visitsByThread(results).values()) {
        // Counted 1, 2, … by one copy per worker, made afresh for each call.
        assert.deepEqual(
          [...visits].sort((a, b) => a - b),
          visits.map((_, i) => i + 1),
        );
        total += visits.length;
      }
      assert.equal(total, 6);
      assert.equal(batch.visits, 0);
    }
  });
});

describe('target threads: parallelism', () => {
  it('two items on two workers are inside the method at once', async () => {
    // A pool of its own: no durations measured yet, so each item travels alone to a worker.
    const executor = threads({ workers: 2 });
    try {
      const batch = new Rendezvous(shared(new Int32Array(2)));
      const results = await calls(batch).meet(10_000, { executor, nWorkers: 2 });
      for (const result of results) assert.equal(typeof result, 'number', String(result));
      assert.notEqual(results[0], results[1]);
      assert.equal(batch.data[0], 2);
    } finally {
      await executor.close();
    }
  });
});
