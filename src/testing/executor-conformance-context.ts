/**
 * Executor conformance, the task context: attempt, key and signal where the task runs,
 * progress reaching the event bus, and retries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { dag } from '../core/dag.ts';
import type { TaskProgressEvent } from '../core/events.ts';
import { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import type { Progress } from '../core/task.ts';
import * as tasks from './conformance-tasks.ts';
import {
  type ConformanceSuite,
  caseOptions,
  EventLog,
  invocation,
  runOne,
  settleWithin,
} from './executor-conformance-support.ts';

/** Declares the cases on the task context and retries. */
export function describeContext({ executor }: ConformanceSuite): void {
  describe('context', () => {
    it(
      'ctx.attempt is 1, ctx.key is the engine key, ctx.signal an AbortSignal',
      caseOptions,
      async () => {
        const log = new EventLog();
        const reports = await map(['x', 'y'], tasks.context, {
          executor: executor(),
          scope: new KeyScope(),
          events: log.bus,
        });
        const starts = log.events.filter((event) => event.type === 'task:start');
        assert.deepEqual(
          reports,
          ['x', 'y'].map((input, i) => ({
            input,
            attempt: 1,
            key: `map:conformance:context/${i}`,
            signalIsAbortSignal: true,
            aborted: false,
          })),
        );
        assert.deepEqual(
          starts.map((event) => event.key).sort(),
          reports.map((report) => report.key),
        );

        const nodes = await dag([{ id: 'only', task: tasks.context, input: 'z' }], {
          executor: executor(),
          scope: new KeyScope(),
        });
        assert.equal((nodes.get('only') as tasks.ContextReport).key, 'dag/only');
      },
    );

    it('ctx.progress() reaches the events bus as task:progress events', caseOptions, async () => {
      const log = new EventLog();
      const items = [1, 2, 3];
      assert.deepEqual(
        await map(items, tasks.progress, {
          executor: executor(),
          scope: new KeyScope(),
          events: log.bus,
        }),
        items,
      );
      for (const [i, x] of items.entries()) {
        const key = `map:conformance:progress/${i}`;
        const expected: Progress[] = [0.5, { done: 1, total: 2, message: `item ${x}` }];
        for (const value of expected) {
          const event = await log.waitFor(
            `task:progress ${JSON.stringify(value)} from ${key}`,
            (e) =>
              e.type === 'task:progress' && e.key === key && isDeepStrictEqual(e.progress, value),
          );
          assert.equal((event as TaskProgressEvent).task, 'conformance:progress');
          assert.equal((event as TaskProgressEvent).item, i);
        }
      }

      // Directly through run(): progress goes to the invocation's own progress().
      const reported: Progress[] = [];
      let allReported: () => void = () => {};
      const both = new Promise<void>((resolve) => {
        allReported = resolve;
      });
      const output = await runOne(
        executor(),
        invocation(tasks.progress, 7, 'direct:progress/0', (value) => {
          reported.push(value);
          if (reported.length === 2) allReported();
        }),
      );
      assert.equal(output, 7);
      await settleWithin(both, 'two progress reports from run()');
      assert.deepEqual(reported, [0.5, { done: 1, total: 2, message: 'item 7' }]);
    });
  });

  describe('retries', () => {
    it(
      'a task failing on attempts 1 and 2 returns its value on attempt 3',
      caseOptions,
      async () => {
        const log = new EventLog();
        const outputs = await map([5], tasks.flaky, { executor: executor(), events: log.bus });
        assert.deepEqual(outputs, [{ x: 5, attempt: 3 }]);
        const retries = log.events.filter((event) => event.type === 'task:retry');
        assert.deepEqual(
          retries.map((event) => event.attempt),
          [1, 2],
        );
      },
    );
  });
}
