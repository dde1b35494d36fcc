/**
 * Executor conformance, aborts: a timeout and a fail-fast failure abort the signals of
 * tasks where they run, and nothing new starts after a failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import * as tasks from './conformance-tasks.ts';
import {
  assertTaskError,
  type ConformanceSuite,
  caseOptions,
  codeOf,
  EventLog,
  isProgress,
  range,
  rejectionOf,
} from './executor-conformance-support.ts';

/** Declares the cases on timeouts and fail-fast aborts. */
export function describeAborts({ executor, replacingOnFailure }: ConformanceSuite): void {
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
}
