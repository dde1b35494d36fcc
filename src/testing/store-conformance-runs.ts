/**
 * Store conformance, runs: opened, reopened and finished, read back one by one and listed
 * newest first with a limit; and kept apart, each seeing only its own tasks, events and
 * artifacts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toWire } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import {
  assertNewestFirst,
  assertTime,
  type CaseOptions,
  completedRecord,
  freshId,
  freshRunOpener,
  sampleError,
  startEvent,
} from './store-conformance-support.ts';

/** Declares the cases on opening, finishing, reading and listing runs. */
export function describeRunCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = freshRunOpener(store);

  describe('runs', () => {
    it('openRun creates a run: running, attempts 1, meta as given', caseOptions, async () => {
      const id = freshId('create');
      const meta = { file: 'flows/etl.ts', workers: 4, nested: { tags: ['a', 1, true, null] } };
      const calledAt = Date.now();
      const opened = await store().openRun(id, meta);
      assert.equal(opened.id, id);
      assert.equal(opened.status, 'running');
      assert.equal(opened.attempts, 1);
      assert.deepEqual(opened.meta, meta);
      assert.equal(opened.error, undefined);
      assertTime(opened.createdAt, calledAt);
      assert.ok(opened.updatedAt >= opened.createdAt, 'updatedAt is not before createdAt');
      assert.deepEqual(await store().getRun(id), opened);
      assert.equal(typeof store().kind, 'string');
      assert.equal(typeof store().location, 'string');
    });

    it(
      'opening an id again reopens the run: attempts + 1, running, meta merged, no error',
      caseOptions,
      async () => {
        const id = freshId('reopen');
        const first = await store().openRun(id, { a: 1, b: 1 });
        await store().finishRun(id, 'failed', toWire(new Error('first attempt broke')));
        const second = await store().openRun(id, { b: 2, c: 3 });
        assert.equal(second.attempts, 2);
        assert.equal(second.status, 'running');
        assert.deepEqual(second.meta, { a: 1, b: 2, c: 3 });
        assert.equal(second.error, undefined);
        assert.equal(second.createdAt, first.createdAt);
        assert.ok(second.updatedAt >= first.updatedAt, 'updatedAt moves forward');
        assert.deepEqual(await store().getRun(id), second);
        const third = await store().openRun(id);
        assert.equal(third.attempts, 3);
        assert.deepEqual(third.meta, { a: 1, b: 2, c: 3 });
      },
    );

    it('finishRun records the status, and the error that ended the run', caseOptions, async () => {
      const completed = await openFreshRun('completed');
      const failed = await openFreshRun('failed');
      const interrupted = await openFreshRun('interrupted');
      const wire = toWire(sampleError());
      await store().finishRun(completed, 'completed');
      await store().finishRun(failed, 'failed', wire);
      await store().finishRun(interrupted, 'interrupted');

      const done = await store().getRun(completed);
      assert.ok(done, 'the completed run is found');
      assert.equal(done.status, 'completed');
      assert.equal(done.error, undefined);
      assert.equal(done.attempts, 1);
      assert.ok(done.updatedAt >= done.createdAt, 'updatedAt is not before createdAt');
      const broken = await store().getRun(failed);
      assert.equal(broken?.status, 'failed');
      assert.deepEqual(broken?.error, wire);
      assert.equal((await store().getRun(interrupted))?.status, 'interrupted');
    });

    it('getRun of an unknown id returns undefined', caseOptions, async () => {
      assert.equal(await store().getRun(freshId('unknown')), undefined);
    });

    it('listRuns lists runs newest first', caseOptions, async () => {
      const ids = [await openFreshRun('old'), await openFreshRun('mid')];
      ids.push(await openFreshRun('new'));
      const listed = await store().listRuns({ limit: 500 });
      const ours = listed.filter((run) => ids.includes(run.id)).map((run) => run.id);
      assert.deepEqual(ours, [...ids].reverse());
      assertNewestFirst(listed.map((run) => run.createdAt));
    });

    it('listRuns returns at most limit runs, 50 by default', caseOptions, async () => {
      for (let i = 0; i < 51; i++) await openFreshRun(`many-${i}`);
      const newest = await store().getRun(await openFreshRun('newest'));
      assert.equal((await store().listRuns()).length, 50);
      const two = await store().listRuns({ limit: 2 });
      assert.equal(two.length, 2);
      assertNewestFirst(two.map((run) => run.createdAt));
      // Another writer sharing the database may have opened a run since, never an older one.
      const [first] = await store().listRuns({ limit: 1 });
      assert.ok(first && newest && first.createdAt >= newest.createdAt, 'limit 1 is the newest');
      assert.deepEqual(await store().listRuns({ limit: 0 }), []);
    });
  });
}

/** Declares the case on runs kept apart. */
export function describeIsolationCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = freshRunOpener(store);

  describe('isolation', () => {
    it('runs do not see each other’s tasks, events or artifacts', caseOptions, async () => {
      const a = await openFreshRun('iso-a');
      const b = await openFreshRun('iso-b');
      await store().recordTasks(a, [completedRecord('same/key', 'from a')]);
      await store().recordTasks(b, [completedRecord('same/key', 'from b')]);
      await store().appendEvents(a, [startEvent('same/key', 0)]);
      await store().putArtifact(a, 'same', Uint8Array.of(1));
      await store().putArtifact(b, 'same', Uint8Array.of(2));
      assert.deepEqual(await store().completedOutputs(a), new Map([['same/key', 'from a']]));
      assert.deepEqual(await store().completedOutputs(b), new Map([['same/key', 'from b']]));
      assert.equal((await store().listTasks(b)).length, 1);
      assert.equal((await store().listEvents(a)).length, 1);
      assert.deepEqual(await store().listEvents(b), []);
      assert.deepEqual([...((await store().getArtifact(b, 'same')) ?? [])], [2]);
      await store().finishRun(a, 'completed');
      assert.equal((await store().getRun(b))?.status, 'running');
    });
  });
}
