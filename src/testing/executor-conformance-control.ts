/**
 * Executor conformance, control: the task context (attempt, key, signal, progress),
 * retries, timeouts and fail-fast aborts reaching tasks where they run, the concurrency
 * bound, and `close()`.
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
  assertTaskError,
  type ConformanceSuite,
  caseOptions,
  codeOf,
  EventLog,
  invocation,
  isProgress,
  range,
  rejectionOf,
  runOne,
  settleWithin,
} from './executor-conformance-support.ts';

/** Declares the cases on the task context, retries, timeouts, fail fast and concurrency. */
export function describeControl({ executor, replacingOnFailure }: ConformanceSuite): void {
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

  describe('timeouts', () => {
    it(
      'a task over timeoutMs fails with WEFT_TIMEOUT, its signal aborted where it runs',
      caseOptions,
      replacingOnFailure(async () => {
        const log = new EventLog();
        const error = await rejectionOf(
          map(['slow'], tasks.hangUntilTimeout, {
            executor: executor(),
            scope: new KeyScope(),
            events: log.bus,
          }),
          'map of a task that never finishes within timeoutMs',
        );
        assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
        assert.equal(codeOf((error as Error).cause), 'WEFT_TIMEOUT');
        // The task reports 'aborted' when its own signal aborts, wherever it runs.
        await log.waitFor(
          `'${tasks.abortedMessage}' progress from the timed-out task`,
          (event) =>
            isProgress(event, tasks.abortedMessage) &&
            event.key === 'map:conformance:hangUntilTimeout/0',
        );
      }),
    );
  });

  describe('fail fast', () => {
    it(
      "onError 'throw': a failure aborts running tasks where they run, and nothing new starts",
      caseOptions,
      replacingOnFailure(async () => {
        const log = new EventLog();
        // One task hangs until aborted (none for an executor running one task at a time),
        // then, once it runs, one fails; the concurrency leaves no room for a third.
        const hangers = executor().maxConcurrency > 1 ? 1 : 0;
        let pulledAfterFailure = false;
        async function* items(): AsyncGenerator<tasks.FailFastItem> {
          for (let id = 0; id < hangers; id++) yield { kind: 'hang', id };
          for (let id = 0; id < hangers; id++) {
            await log.waitFor(`'${tasks.startedMessage}' progress from item ${id}`, (event) =>
              isProgress(event, tasks.startedMessage, id),
            );
          }
          yield { kind: 'fail', id: hangers };
          pulledAfterFailure = true;
          yield { kind: 'value', id: hangers + 1 };
        }
        const error = await rejectionOf(
          map(items(), tasks.failFast, {
            executor: executor(),
            concurrency: hangers + 1,
            events: log.bus,
          }),
          'fail-fast map',
        );
        assert.equal(codeOf(error), 'WEFT_TASK_FAILED');
        assertTaskError((error as Error).cause, `item ${hangers} fails`);
        for (let id = 0; id < hangers; id++) {
          await log.waitFor(`'${tasks.abortedMessage}' progress from item ${id}`, (event) =>
            isProgress(event, tasks.abortedMessage, id),
          );
        }
        assert.equal(pulledAfterFailure, false, 'no item is read after the failure');
        assert.deepEqual(
          log.events.filter((event) => event.type === 'task:start').map((event) => event.item),
          range(0, hangers),
        );
      }),
    );
  });

  describe('concurrency', () => {
    it('with concurrency 2, never more than 2 tasks run at once', caseOptions, async () => {
      const log = new EventLog();
      const expected = Math.min(2, executor().maxConcurrency);
      // A task runs from its 'started' report until its 'ended' report or its result,
      // whichever the test sees first.
      const running = new Set<string>();
      const finished = new Set<string>();
      let most = 0;
      log.bus.on((event) => {
        if (isProgress(event, tasks.startedMessage) && !finished.has(event.key)) {
          running.add(event.key);
          most = Math.max(most, running.size);
        } else if (
          isProgress(event, tasks.endedMessage) ||
          event.type === 'task:end' ||
          event.type === 'task:fail'
        ) {
          running.delete(event.key);
          finished.add(event.key);
        }
      });
      const items = Array.from({ length: 8 }, () => 20);
      assert.deepEqual(
        await map(items, tasks.busy, { executor: executor(), concurrency: 2, events: log.bus }),
        items,
      );
      assert.equal(finished.size, items.length);
      assert.ok(most <= expected, `${most} tasks ran at once; the bound is ${expected}`);
      assert.equal(most, expected, `${expected} tasks should have run at once`);
    });
  });
}

/** Declares the case on `close()`. */
export function describeClose({ makeExecutor }: ConformanceSuite): void {
  describe('close', () => {
    it(
      'after close(), new work is rejected with an error, not left hanging',
      caseOptions,
      async () => {
        const extra = makeExecutor();
        try {
          assert.deepEqual(await map([1, 2], tasks.double, { executor: extra }), [2, 4]);
        } finally {
          await extra.close();
        }
        const viaMap = await rejectionOf(
          map([1], tasks.double, { executor: extra }),
          'map on a closed executor',
        );
        assert.ok(viaMap instanceof Error, 'map rejects with an Error');
        const viaRun = await rejectionOf(
          runOne(extra, invocation(tasks.double, 1, 'direct:closed/0')),
          'run on a closed executor',
        );
        assert.ok(viaRun instanceof Error, 'run rejects with an Error');
      },
    );
  });
}
