/**
 * One remote call: one definition, one input, any executor; its own result or its own
 * error back; recorded under its key in a run and resumed from there.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { asyncPool, MemoryStore, TaskFailedError, task, threads, withRun } from 'weftjs';
import { callRemote } from '../../src/core/remote-call.ts';
import { refuse, triple, waitForAbort } from '../fixtures/remote-call-tasks.ts';

describe('callRemote', () => {
  const pool = threads({ workers: 1 });
  after(() => pool.close());

  it('returns the output of a task run on a worker thread', async () => {
    assert.equal(await callRemote(triple, 14, { executor: pool }), 42);
  });

  it("rejects with the task's own error, not a wrapper around it", async () => {
    for (const executor of [pool, asyncPool()]) {
      await assert.rejects(
        callRemote(refuse, 'this', { executor }),
        (error: Error & { code?: string }) => {
          assert.equal(error.name, 'ValidationError');
          assert.equal(error.code, 'WEFT_TEST_REFUSED');
          assert.equal(error.message, 'refused this');
          return true;
        },
      );
    }
  });

  it("rejects with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const call = callRemote(waitForAbort, null, { executor: pool, signal: controller.signal });
    setImmediate(() => controller.abort(reason));
    await assert.rejects(call, (error) => error === reason);
  });

  it('hands on an abort reason that is itself a TaskFailedError (a sibling failing fast)', async () => {
    const controller = new AbortController();
    const reason = new TaskFailedError(
      'sibling',
      'map:sibling/0',
      1,
      new Error("the sibling's own"),
    );
    const call = callRemote(waitForAbort, null, { executor: pool, signal: controller.signal });
    setImmediate(() => controller.abort(reason));
    await assert.rejects(call, (error) => error === reason);
  });

  it('is recorded under its key in a run, and resumed from the record', async () => {
    const store = new MemoryStore();
    let calls = 0;
    const counted = task('remote-call:counted', (x: number) => {
      calls++;
      return x + 1;
    });
    const once = () =>
      withRun({ store, runId: 'remote-call-run' }, (run) =>
        callRemote(counted, 1, { executor: asyncPool(), scope: run.scope, name: 'step' }),
      );
    assert.equal(await once(), 2);
    const records = await store.listTasks('remote-call-run');
    assert.deepEqual(
      records.map((record) => [record.key, record.status]),
      [['remote-call-run/step/0', 'completed']],
    );
    assert.equal(await once(), 2);
    assert.equal(calls, 1);
  });

  it('records nothing when told not to', async () => {
    const store = new MemoryStore();
    await withRun({ store, runId: 'unrecorded' }, (run) =>
      callRemote(triple, 1, { executor: asyncPool(), scope: run.scope, record: false }),
    );
    assert.deepEqual(await store.listTasks('unrecorded'), []);
  });
});
