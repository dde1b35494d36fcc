/**
 * Pipelines processing batches at once (`prefetch`), in order all the same; stopped by a
 * signal, by a failing action, or by leaving the loop (which leaves the batches already
 * yielded usable).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, withRun } from 'weftjs';
import { type Batch, Dataset, parallel } from 'weftjs/batch';
import { Numbers } from './support/pipeline-batches.ts';

const numbers = (length: number) =>
  new Dataset(
    Array.from({ length }, (_, i) => i),
    Numbers,
  );

/**
 * Holds the batches that enter it. Once `groupSize` are held, lets them all go, the
 * latest first, so that they finish in the reverse of their order.
 */
class Gate {
  inFlight = 0;
  peak = 0;
  entered = 0;
  /** First ids of the batches, in the order they finished. */
  readonly finished: number[] = [];
  #held: (() => void)[] = [];
  #watchers: { count: number; resolve: () => void }[] = [];

  constructor(readonly groupSize: number) {}

  enter(batch: Batch): Promise<void> {
    this.entered++;
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    const first = batch.indices[0] as number;
    const released = new Promise<void>((resolve) => this.#held.push(resolve));
    // Before any release: reactions run in the order their promises were resolved.
    const done = released.then(() => {
      this.inFlight--;
      this.finished.push(first);
    });
    for (const watcher of this.#watchers) if (this.entered >= watcher.count) watcher.resolve();
    if (this.#held.length === this.groupSize) {
      const group = this.#held.reverse();
      this.#held = [];
      for (const release of group) release();
    }
    return done;
  }

  /** Resolves once `count` batches have entered. */
  whenEntered(count: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.entered >= count) resolve();
      else this.#watchers.push({ count, resolve });
    });
  }
}

describe('Pipeline: prefetch', () => {
  for (const prefetch of [1, 3]) {
    it(`processes ${prefetch} batch(es) at once and yields them in order (prefetch ${prefetch})`, async () => {
      const gate = new Gate(prefetch);
      const pipeline = numbers(12).pipeline().held(gate).plusOne();
      const yielded: number[] = [];
      for await (const batch of pipeline.gen({ batchSize: 2, prefetch })) {
        yielded.push(batch.indices[0] as number);
        assert.deepEqual(batch.data, [
          (batch.indices[0] as number) + 1,
          (batch.indices[1] as number) + 1,
        ]);
      }
      assert.deepEqual(yielded, [0, 2, 4, 6, 8, 10]);
      assert.equal(gate.peak, prefetch, 'batches in flight at most');
      if (prefetch === 3) {
        assert.deepEqual(gate.finished, [4, 2, 0, 10, 8, 6], 'they finished out of order');
      }
    });
  }

  it('runs with prefetch too, and counts every batch', async () => {
    const gate = new Gate(2);
    const summary = await numbers(8).pipeline().held(gate).run({ batchSize: 2, prefetch: 2 });
    assert.deepEqual(summary, { batches: 4, items: 8 });
    assert.equal(gate.peak, 2);
  });
});

describe('Pipeline: stopping', () => {
  it('rejects with the reason of its signal, and starts no batch after', async () => {
    const gate = new Gate(Number.POSITIVE_INFINITY);
    const controller = new AbortController();
    const running = numbers(10)
      .pipeline()
      .held(gate)
      .run({ batchSize: 2, prefetch: 2, signal: controller.signal });
    await gate.whenEntered(2);
    const reason = new Error('stop now');
    controller.abort(reason);
    await assert.rejects(running, (error) => error === reason);
    assert.equal(gate.entered, 2);
  });

  it('rejects at once with an aborted signal', async () => {
    const log: number[] = [];
    await assert.rejects(
      numbers(4)
        .pipeline()
        .noted(log)
        .run({ batchSize: 2, signal: AbortSignal.abort(new Error('no')) }),
      /no/,
    );
    assert.deepEqual(log, []);
  });

  it('throws the failing action’s own error, after the batches before it', async () => {
    const log: number[] = [];
    const pipeline = numbers(10).pipeline().noted(log).failsAt(5);
    await assert.rejects(pipeline.run({ batchSize: 2 }), (error) => {
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, 'item 5 fails');
      return true;
    });
    assert.deepEqual(log, [0, 1, 2, 3, 4, 5], 'no batch started after the failure');
    const yielded: unknown[] = [];
    await assert.rejects(async () => {
      for await (const batch of pipeline.gen({ batchSize: 2 })) yielded.push(batch.indices);
    }, RangeError);
    assert.deepEqual(yielded, [
      [0, 1],
      [2, 3],
    ]);
  });

  it('stops making batches when the loop is left', async () => {
    const log: number[] = [];
    for await (const batch of numbers(20).pipeline().noted(log).gen({ batchSize: 2 })) {
      assert.deepEqual(batch.indices, [0, 1]);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    // The batch read, and at most one being made and one made and not yet read (prefetch 1).
    assert.ok(log.length <= 6, `ids seen: ${log}`);
  });

  it('leaves a batch already yielded usable: its parallel calls keep its keys, not the stopped task', async () => {
    const store = new MemoryStore();
    const squared: number[] = [];
    const first = await withRun({ store, runId: 'after-loop' }, async () => {
      const batches = numbers(6).pipeline().gen({ batchSize: 2 });
      const batch = (await batches.next()).value as Numbers;
      await batches.return();
      await parallel(batch).square(squared);
      return batch;
    });
    assert.deepEqual(first.data, [0, 1]);
    assert.deepEqual(squared.sort(), [0, 1]);
    const keys = (await store.listTasks('after-loop')).map(({ key }) => key).sort();
    assert.deepEqual(keys, ['after-loop/pipeline/0/square/0', 'after-loop/pipeline/0/square/1']);
  });

  it("stops a yielded batch's parallel calls by the gen's own signal", async () => {
    const controller = new AbortController();
    const batches = numbers(4).pipeline().gen({ batchSize: 2, signal: controller.signal });
    const batch = (await batches.next()).value as Numbers;
    await batches.return();
    const reason = new Error('stop the batch');
    controller.abort(reason);
    const squared: number[] = [];
    await assert.rejects(parallel(batch).square(squared), (error) => error === reason);
    assert.deepEqual(squared, []);
  });
});
