/**
 * Store conformance, events: read back in the order appended, every kind, errors included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WeftError } from '../core/errors.ts';
import type { TaskFailEvent } from '../core/events.ts';
import type { Store } from '../core/store.ts';
import {
  type CaseOptions,
  comparable,
  freshRunOpener,
  sampleEvents,
  startEvent,
} from './store-conformance-support.ts';

/** Declares the event cases on the suite's store. */
export function describeEventCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = freshRunOpener(store);

  describe('events', () => {
    it('events come back in the order appended, across calls', caseOptions, async () => {
      const runId = await openFreshRun('events-order');
      const events = Array.from({ length: 25 }, (_, i) => startEvent(`map:e/${i}`, i));
      await store().appendEvents(runId, events.slice(0, 10));
      await store().appendEvents(runId, []);
      await store().appendEvents(runId, events.slice(10));
      assert.deepEqual(await store().listEvents(runId), events);
    });

    it('events of every kind round-trip, errors included', caseOptions, async () => {
      const runId = await openFreshRun('events-kinds');
      const events = sampleEvents();
      await store().appendEvents(runId, events);
      const listed = await store().listEvents(runId);
      assert.deepStrictEqual(comparable(listed), comparable(events));
      const failure = listed.find((event): event is TaskFailEvent => event.type === 'task:fail');
      assert.ok(failure?.error instanceof Error, 'the error of task:fail is an Error');
      assert.equal((failure.error as WeftError).code, 'WEFT_TASK_FAILED');
    });

    it('a run without events lists none', caseOptions, async () => {
      assert.deepEqual(await store().listEvents(await openFreshRun('no-events')), []);
    });
  });
}
