/**
 * Executor conformance, for remote executors: a worker that dies, or runs out of memory,
 * fails only its own task, and the executor goes on with a new worker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Executor } from '../core/executor.ts';
import { map } from '../core/map.ts';
import * as tasks from './conformance-tasks.ts';
import {
  type ConformanceSuite,
  caseOptions,
  codeOf,
  range,
} from './executor-conformance-support.ts';

/** Declares the case of a worker that dies; called inside the remote executors' block. */
export function describeWorkerCrash({ executor }: ConformanceSuite): void {
  it('a worker that dies fails only its task with WEFT_WORKER_CRASHED', caseOptions, async () => {
    const items: tasks.CrashItem[] = range(0, 6).map((value) =>
      value === 2 ? { value, exitCode: 7 } : { value },
    );
    const outputs = await map(items, tasks.exitWorker, {
      executor: executor(),
      onError: 'collect',
      concurrency: 3,
    });
    assert.equal(outputs.length, items.length);
    outputs.forEach((output, i) => {
      if (i !== 2) assert.equal(output, i, `item ${i}`);
    });
    const crash = outputs[2];
    assert.ok(crash instanceof Error, 'item 2 is an Error');
    assert.equal(codeOf(crash), 'WEFT_WORKER_CRASHED');
    assert.match(crash.message, /'conformance:exitWorker'/);

    // The executor replaced the worker and goes on.
    assert.deepEqual(
      await map(range(1, 8), tasks.double, { executor: executor() }),
      range(1, 8).map((x) => x * 2),
    );
  });
}

/**
 * Declares the case of a worker that runs out of memory, on an executor from
 * `makeMemoryCapped`.
 * @param makeMemoryCapped see `ExecutorConformanceOptions.makeMemoryCapped`
 */
export function describeMemory(makeMemoryCapped: (megabytes: number) => Executor): void {
  describe('memory', () => {
    /**
     * Longer than the other cases: workers that die are replaced, and a new child
     * process takes seconds to start on a busy machine.
     */
    const memoryCaseOptions = { timeout: 30_000 } as const;
    /** The cap: small, so that the leak reaches it in a fraction of a second. */
    const capMb = 64;
    let capped: Executor | undefined;
    before(() => {
      capped = makeMemoryCapped(capMb);
    });
    after(() => capped?.close());

    it(
      'a task that leaks past the memory cap fails alone with WEFT_WORKER_CRASHED, saying its worker ran out of memory',
      memoryCaseOptions,
      async () => {
        assert.ok(capped, 'the capped executor is made in before()');
        // Far more than the cap, yet little enough for a worker without a cap to survive.
        const leak = { kind: 'leak', megabytes: 8 * capMb } as const;
        const items = [1, 2, leak, 3, 4];
        const outputs = await map(items, tasks.hoardOrDouble, {
          executor: capped,
          onError: 'collect',
          concurrency: 2,
        });
        assert.equal(outputs.length, items.length);
        const crash = outputs[2];
        assert.ok(crash instanceof Error, `the leaking item is an Error, not ${String(crash)}`);
        assert.equal(codeOf(crash), 'WEFT_WORKER_CRASHED');
        assert.match(crash.message, /'conformance:hoardOrDouble'/);
        assert.match(crash.message, /out of memory/);
        assert.deepEqual(
          outputs.filter((_, i) => i !== 2),
          [2, 4, 6, 8],
        );

        // The executor replaced the worker and goes on.
        assert.deepEqual(
          await map(range(1, 8), tasks.double, { executor: capped }),
          range(1, 8).map((x) => x * 2),
        );
      },
    );
  });
}
