/**
 * weftjs/flow: ForEach tasks on worker threads and processes.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { asyncPool, MemoryStore, processes, threads } from 'weftjs';
import { chainedFlow, readerFlow } from '../fixtures/flow-test-nested.ts';
import { flow as remoteRetryFlow } from '../fixtures/flow-test-remote.ts';
import { flow as threadsFlow } from '../fixtures/flow-threads.ts';

const executor = asyncPool({ concurrency: 16 });
after(() => executor.close());

describe('ForEach tasks on worker threads and processes', () => {
  const store = new MemoryStore();
  const onThreads = threads({ workers: 2 });
  const onProcesses = processes({ workers: 2 });
  after(async () => {
    await onThreads.close();
    await onProcesses.close();
    await store.close();
  });

  it('threads({ workers: 2 }) gives Sum.total 600', async () => {
    const result = await threadsFlow.run({ store, executor: onThreads });
    assert.equal((await result.layer('Sum')).total, 600);
    const pids = await (await result.layer('Multiply')).pid.toArray();
    assert.deepEqual(new Set(pids), new Set([process.pid]));
  });

  it('processes({ workers: 2 }) gives Sum.total 600, computed in other processes', async () => {
    const result = await threadsFlow.run({ store, executor: onProcesses });
    assert.equal((await result.layer('Sum')).total, 600);
    const pids: number[] = await (await result.layer('Multiply')).pid.toArray();
    assert.equal(pids.length, 8);
    assert.ok(pids.every((pid) => pid !== process.pid));
  });

  it('in this thread: a ForEach over a ForEach layer sharded attribute gets each task items', async () => {
    const result = await chainedFlow.run({ store, executor });
    const sum = await result.layer('Sum');
    assert.deepEqual(await sum.length.toArray(), [1, 2, 3]);
    assert.deepEqual(await sum.sum.toArray(), [10, 41, 93]);
    const read = await (await readerFlow.run({ store, executor })).layer('Read');
    assert.deepEqual({ tasks: read.tasks, last: read.last }, { tasks: 3, last: [30, 31, 32] });
  });

  it('on threads: a ForEach over a ForEach layer sharded attribute gets each task items', async () => {
    const result = await chainedFlow.run({ store, executor: onThreads });
    const sum = await result.layer('Sum');
    assert.deepEqual(await sum.length.toArray(), [1, 2, 3]);
    assert.deepEqual(await sum.sum.toArray(), [10, 41, 93]);
  });

  it('on threads: a ForEach layer sharded attribute reads as Accessors of Accessors', async () => {
    const read = await (await readerFlow.run({ store, executor: onThreads })).layer('Read');
    assert.deepEqual({ tasks: read.tasks, last: read.last }, { tasks: 3, last: [30, 31, 32] });
  });

  it('a ForEach task retried on a worker thread sees attempt 2 and accessor copies', async () => {
    const result = await remoteRetryFlow.run({ store, executor: onThreads });
    const work = await result.layer('Work');
    assert.deepEqual(await work.value.toArray(), [101, 102, 103, 104, 105, 106]);
    assert.deepEqual(await work.attempt.toArray(), [2, 1, 2, 1, 2, 1]);
    assert.deepEqual(await work.splits.toArray(), [6, 6, 6, 6, 6, 6]);
    assert.deepEqual(new Set(await work.mainThread.toArray()), new Set([false]));
    assert.deepEqual(new Set(await work.lastW.toArray()), new Set([8]));
    assert.deepEqual(new Set(await work.wLength.toArray()), new Set([2]));
  });
});
