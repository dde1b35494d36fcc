/** Loops here, leaves there: one split of an executor for every front end that orchestrates. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, inline, map, processes, threads } from 'weftjs';
import { splitExecutor } from '../../src/core/split.ts';

describe('splitExecutor', () => {
  it('keeps loops and leaves on an in-process executor', async () => {
    for (const executor of [asyncPool(), inline()]) {
      const split = splitExecutor(executor);
      assert.equal(split.loops, executor);
      assert.equal(split.leaves, undefined);
      await split.close();
      // The executor given is never closed by the split.
      assert.deepEqual(await map([1], (x: number) => x + 1, { executor }), [2]);
    }
  });

  it('runs loops in this thread and leaves on an executor that runs tasks elsewhere', async () => {
    for (const executor of [threads({ workers: 1 }), processes({ workers: 1 })]) {
      const split = splitExecutor(executor);
      assert.equal(split.leaves, executor);
      assert.notEqual(split.loops, executor);
      assert.equal(split.loops.remote, false);
      // A closure runs on the loops: they are this thread.
      const outputs = await map([1, 2, 3], (x: number) => x * 10, { executor: split.loops });
      assert.deepEqual(outputs, [10, 20, 30]);
      await split.close();
      await assert.rejects(
        Promise.resolve().then(() => map([1], (x: number) => x, { executor: split.loops })),
        (error: Error) => (error.cause as { code?: string }).code === 'WEFT_EXECUTOR_CLOSED',
      );
      await executor.close();
    }
  });

  it('gives nested loops their own executor, bounded by the fan-out', async () => {
    const executor = asyncPool({ concurrency: 2 });
    const split = splitExecutor(executor, { nested: true });
    assert.notEqual(split.loops, executor);
    assert.equal(split.leaves, undefined);
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    // Awaited from here on: a map starts when it is awaited or iterated.
    const outputs = Promise.resolve(
      map(
        [1, 2, 3, 4, 5, 6, 7],
        async (x: number) => {
          running++;
          most = Math.max(most, running);
          await new Promise<void>((resolve) => gates.push(resolve));
          running--;
          return x;
        },
        { executor: split.loops, concurrency: 5 },
      ),
    );
    // Release the waiting tasks as they arrive, until all seven have run.
    let released = 0;
    while (released < 7) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const open of gates.splice(0)) {
        open();
        released++;
      }
    }
    assert.deepEqual(await outputs, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(most, 5);
    await split.close();
    await executor.close();
  });
});
