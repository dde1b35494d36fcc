/**
 * Executor conformance, the concurrency bound: never more tasks at once than asked, and
 * as many as asked when the executor can run them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map } from '../core/map.ts';
import * as tasks from './conformance-tasks.ts';
import {
  type ConformanceSuite,
  caseOptions,
  EventLog,
  isProgress,
} from './executor-conformance-support.ts';

/** Declares the case on the concurrency bound. */
export function describeConcurrency({ executor }: ConformanceSuite): void {
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
