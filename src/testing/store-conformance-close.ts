/**
 * Store conformance, a store's life: every operation after `close()` rejects with a
 * StoreError, and a persistent store reads back what an earlier, closed one wrote.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, toWire } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import {
  assertCheckpoint,
  type CaseOptions,
  checkpoint,
  comparable,
  completedRecord,
  failedRecord,
  freshId,
  rejectionOf,
  sampleEvents,
  sampleValues,
  startEvent,
} from './store-conformance-support.ts';

/** Declares the case on `close()`, on a store of its own. */
export function describeCloseCases(
  makeStore: () => Promise<Store> | Store,
  caseOptions: CaseOptions,
): void {
  describe('close()', () => {
    it('operations after close() reject with a StoreError', caseOptions, async () => {
      const closing = await makeStore();
      const runId = freshId('closed');
      await closing.openRun(runId);
      await closing.close();
      const operations: Record<string, () => Promise<unknown>> = {
        openRun: () => closing.openRun(runId),
        renewLease: () => closing.renewLease(runId, 'owner', 1_000),
        finishRun: () => closing.finishRun(runId, 'completed'),
        getRun: () => closing.getRun(runId),
        listRuns: () => closing.listRuns(),
        recordTasks: () => closing.recordTasks(runId, [completedRecord('k', 1)]),
        completedOutputs: () => closing.completedOutputs(runId),
        listTasks: () => closing.listTasks(runId),
        findCompleted: () => closing.findCompleted(runId, ['k']),
        countCompleted: () => closing.countCompleted(runId),
        streamTasks: async () => {
          for await (const _ of closing.streamTasks(runId)) assert.fail('nothing to read');
        },
        saveCheckpoint: () => closing.saveCheckpoint(checkpoint(freshId('app'), '', 0)),
        loadCheckpoint: () => closing.loadCheckpoint(freshId('app')),
        putArtifact: () => closing.putArtifact(runId, 'k', Uint8Array.of(1)),
        getArtifact: () => closing.getArtifact(runId, 'k'),
        artifactKeys: async () => {
          for await (const _ of closing.artifactKeys(runId)) assert.fail('nothing to list');
        },
        appendEvents: () => closing.appendEvents(runId, [startEvent('k', 0)]),
        listEvents: () => closing.listEvents(runId),
      };
      const { queries } = closing;
      if (queries) {
        Object.assign(operations, {
          countTasks: () => queries.countTasks([runId]),
          countRuns: () => queries.countRuns(),
          summarizeTasks: () => queries.summarizeTasks(runId),
          countTasksByPrefix: () => queries.countTasksByPrefix(runId, ['k']),
          taskPage: () => queries.taskPage(runId),
          taskEndHistogram: () => queries.taskEndHistogram(runId, 0, 1, 2),
          eventsAfter: () => queries.eventsAfter(runId, 0),
        });
      }
      for (const [operation, call] of Object.entries(operations)) {
        const error = await rejectionOf(Promise.resolve().then(call), operation);
        assert.ok(isWeftError(error), `${operation}: a weft error, not ${error}`);
        assert.equal((error as Error).name, 'StoreError', operation);
      }
      await closing.close();
    });
  });
}

/** Declares the persistence case: one store writes and closes, a new one reads. */
export function describePersistenceCases(
  makeStore: () => Promise<Store> | Store,
  caseOptions: CaseOptions,
): void {
  describe('persistence', () => {
    it('a new store reads back what a closed one wrote', caseOptions, async () => {
      const runId = freshId('persist');
      const appId = freshId('persist-app');
      const saved = checkpoint(appId, 'p', 4);
      // Made once: an Error's stack names its caller, so two calls would differ.
      const output = sampleValues().nested;
      const events = sampleEvents();
      const writer = await makeStore();
      try {
        // One owner for both: the writer is closed without finishing the run.
        await writer.openRun(runId, { note: 'first' }, { owner: 'persist-owner' });
        await writer.recordTasks(runId, [
          completedRecord('kept', output),
          failedRecord('lost', toWire(new Error('lost'))),
        ]);
        await writer.saveCheckpoint(saved);
        await writer.putArtifact(runId, 'bytes', Uint8Array.of(4, 5, 6));
        await writer.appendEvents(runId, events);
      } finally {
        await writer.close();
      }
      const reader = await makeStore();
      try {
        const resumed = await reader.openRun(runId, {}, { owner: 'persist-owner' });
        assert.equal(resumed.attempts, 2);
        assert.deepEqual(resumed.meta, { note: 'first' });
        const outputs = await reader.completedOutputs(runId);
        assert.deepEqual([...outputs.keys()], ['kept']);
        assert.deepStrictEqual(comparable(outputs.get('kept')), comparable(output));
        assertCheckpoint(await reader.loadCheckpoint(appId, 'p'), saved);
        assert.deepEqual([...((await reader.getArtifact(runId, 'bytes')) ?? [])], [4, 5, 6]);
        assert.deepStrictEqual(comparable(await reader.listEvents(runId)), comparable(events));
      } finally {
        await reader.close();
      }
    });
  });
}
