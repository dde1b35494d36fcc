/**
 * Executor conformance, for executors that run tasks outside this thread: plain closures
 * refused, values that cannot be copied, unknown tasks, and workers that die.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map } from '../core/map.ts';
import * as tasks from './conformance-tasks.ts';
import { describeWorkerCrash } from './executor-conformance-crash.ts';
import {
  type ConformanceSuite,
  caseOptions,
  codeOf,
  EventLog,
  range,
  rejectionOf,
} from './executor-conformance-support.ts';

/** Declares the cases of remote executors. */
export function describeRemote(suite: ConformanceSuite): void {
  const { executor } = suite;
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

    describeWorkerCrash(suite);
  });
}
