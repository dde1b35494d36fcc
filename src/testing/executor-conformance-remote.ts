/**
 * Executor conformance, for executors that run tasks outside this thread: plain closures
 * refused, values that cannot be copied, unknown tasks, workers that die or run out of
 * memory.
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
  EventLog,
  range,
  rejectionOf,
} from './executor-conformance-support.ts';

/**
 * Declares the cases of remote executors.
 * @param makeMemoryCapped see `ExecutorConformanceOptions.makeMemoryCapped`
 */
export function describeRemote(
  { executor }: ConformanceSuite,
  makeMemoryCapped?: (megabytes: number) => Executor,
): void {
  describe('remote executors', () => {
    it(
      'a plain closure is refused with WEFT_PLAIN_FUNCTION and nothing runs',
      caseOptions,
      async () => {
        const log = new EventLog();
        let called = false;
        const closure = (x: number) => {
          called = true;
          return x;
        };
        const error = await rejectionOf(
          map([1], closure, { executor: executor(), events: log.bus }),
          'map of a plain closure',
        );
        assert.equal(codeOf(error), 'WEFT_PLAIN_FUNCTION');
        assert.equal(called, false);
        assert.deepEqual(
          log.events.filter((event) => event.type === 'task:start'),
          [],
        );
      },
    );

    it(
      'an input holding a function fails with WEFT_NOT_CLONEABLE, naming the task',
      caseOptions,
      async () => {
        const [error] = await map([{ label: 'bad', onDone: () => 1 }], tasks.echo, {
          executor: executor(),
          onError: 'collect',
        });
        assert.ok(error instanceof Error, 'the output is an Error');
        assert.equal(codeOf(error), 'WEFT_NOT_CLONEABLE');
        assert.match(error.message, /'conformance:echo'/);
        assert.match(error.message, /a function/);
      },
    );

    it('an input holding a function fails only its own item', caseOptions, async () => {
      // Many small tasks first, so that the executor sends the items below in one batch.
      await map(range(1, 200), tasks.double, { executor: executor() });
      const items: unknown[] = range(0, 11).map((i) => ({ i }));
      items[5] = { i: 5, callbacks: [() => 5] };
      const outputs = await map(items, tasks.echo, {
        executor: executor(),
        onError: 'collect',
      });
      assert.equal(outputs.length, items.length);
      assert.ok(outputs[5] instanceof Error, 'item 5 is an Error');
      assert.equal(codeOf(outputs[5]), 'WEFT_NOT_CLONEABLE');
      assert.deepEqual(
        outputs.filter((_, i) => i !== 5),
        items.filter((_, i) => i !== 5).map((value) => ({ value, tag: '[object Object]' })),
      );
    });

    it('an output holding a function fails with WEFT_NOT_CLONEABLE', caseOptions, async () => {
      const [error] = await map([1], tasks.returnsFunction, {
        executor: executor(),
        onError: 'collect',
      });
      assert.ok(error instanceof Error, 'the output is an Error');
      assert.equal(codeOf(error), 'WEFT_NOT_CLONEABLE');
      assert.match(error.message, /'conformance:returnsFunction'/);
    });

    it('a task the worker cannot find fails with WEFT_UNKNOWN_TASK', caseOptions, async () => {
      const outputs = await map([1, 2], tasks.notTopLevel(), {
        executor: executor(),
        onError: 'collect',
      });
      assert.equal(outputs.length, 2);
      for (const error of outputs) {
        assert.ok(error instanceof Error, 'the output is an Error');
        assert.equal(codeOf(error), 'WEFT_UNKNOWN_TASK');
        assert.match(error.message, /'conformance:notTopLevel'/);
      }
    });

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
  });

  if (makeMemoryCapped) {
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
}
