/**
 * weftjs/flow: ForEach tasks on worker threads and processes, which find the flow through
 * the registry of definitions by its name and the module that created it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  asyncPool,
  DuplicateTaskError,
  type Executor,
  isWeftError,
  MemoryStore,
  processes,
  threads,
} from 'weftjs';
import { Flow, LayerFailedError } from 'weftjs/flow';
import { callRemote } from '../../src/core/remote-call.ts';
import { flowRef, type RemoteLayerInput, remoteLayerTask } from '../../src/flow/remote.ts';
import { chainedFlow, readerFlow } from '../fixtures/flow-test-nested.ts';
import { flow as remoteRetryFlow } from '../fixtures/flow-test-remote.ts';
import { flow as threadsFlow } from '../fixtures/flow-threads.ts';
import { makeLateFlow } from './fixtures/late-flow.ts';

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

/** `inner`, keeping the input of every task sent to it. */
function watched(inner: Executor, sent: unknown[]): Executor {
  return {
    name: inner.name,
    remote: inner.remote,
    concurrency: inner.concurrency,
    maxConcurrency: inner.maxConcurrency,
    reportsStart: inner.reportsStart,
    check: (task) => inner.check(task),
    run: (invocation) => {
      sent.push(invocation.input);
      return inner.run(invocation);
    },
    runBatch: (invocations) => {
      sent.push(...invocations.map((invocation) => invocation.input));
      return inner.runBatch(invocations);
    },
    close: () => inner.close(),
  };
}

describe('flows in the registry of definitions', () => {
  const store = new MemoryStore();
  const onThreads = threads({ workers: 2 });
  after(async () => {
    await onThreads.close();
    await store.close();
  });
  const threadsRef = {
    kind: 'flow',
    name: 'ThreadsGrid',
    module: './test/fixtures/flow-threads.ts',
  } as const;

  it("a flow's tasks on threads() carry it as a reference from the project root, and workers find it", async () => {
    const sent: unknown[] = [];
    const result = await threadsFlow.run({ store, executor: watched(onThreads, sent) });
    assert.equal((await result.layer('Sum')).total, 600);
    // Shard, Multiply's 8 ForEach tasks, Sum.
    assert.equal(sent.length, 10);
    for (const input of sent) assert.deepEqual((input as RemoteLayerInput).flow, threadsRef);
    assert.deepEqual(flowRef('ThreadsGrid'), threadsRef);
  });

  it('a worker process that has not loaded the flow imports its module from the reference', async () => {
    const fresh = processes({ workers: 1 });
    try {
      const input: RemoteLayerInput = {
        flow: threadsRef,
        layer: 'Multiply',
        index: 3,
        splits: 8,
        attempt: 1,
        views: [
          {
            values: new Map<string, unknown>([
              ['x', 2],
              ['y', 10],
              ['scale', 2],
            ]),
            accessors: new Map(),
          },
        ],
      };
      const output = await callRemote(remoteLayerTask, input, { executor: fresh, record: false });
      assert.equal(output.values.get('product'), 40);
      assert.notEqual(output.values.get('pid'), process.pid);
    } finally {
      await fresh.close();
    }
  });

  it('an unknown flow name fails naming the flow, the module and the fix', async () => {
    const input: RemoteLayerInput = {
      flow: { ...threadsRef, name: 'NoSuchFlow' },
      layer: 'Multiply',
      index: 0,
      splits: 1,
      attempt: 1,
      views: [],
    };
    await assert.rejects(
      callRemote(remoteLayerTask, input, { executor: onThreads, record: false }),
      (error: unknown) => {
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `got ${error}`);
        assert.match(error.message, /No flow named 'NoSuchFlow'/);
        assert.match(error.message, /after importing \.\/test\/fixtures\/flow-threads\.ts/);
        assert.match(error.message, /Create the flow at the top level of its module\./);
        return true;
      },
    );
  });

  it('a flow made inside a function fails its layers on threads, saying where to create it', async () => {
    const flow = makeLateFlow('LateFlow');
    await assert.rejects(flow.run({ store, executor: onThreads }), (error: unknown) => {
      assert.ok(error instanceof LayerFailedError, `got ${error}`);
      assert.match(error.message, /^Layer Shard failed: No flow named 'LateFlow'/);
      const cause = error.cause;
      assert.ok(isWeftError(cause, 'WEFT_VALIDATION'), `got ${cause}`);
      assert.match(
        cause.message,
        /No flow named 'LateFlow' after importing \.\/test\/flow\/fixtures\/late-flow\.ts/,
      );
      assert.match(cause.message, /Create the flow at the top level of its module\./);
      return true;
    });
  });

  it('another module may not reuse a flow name; the same module may', () => {
    assert.throws(
      () => new Flow('ThreadsGrid'),
      (error: unknown) => {
        assert.ok(error instanceof DuplicateTaskError, `got ${error}`);
        assert.match(
          error.message,
          /^Two flows are named 'ThreadsGrid': one created in file:.*\/test\/fixtures\/flow-threads\.ts, another in file:.*\/test\/flow\/remote-flow\.test\.ts\. Workers and artifacts find flows by name: rename one\.$/,
        );
        return true;
      },
    );
    new Flow('RemoteFlowTest-Again');
    new Flow('RemoteFlowTest-Again');
    assert.deepEqual(flowRef('RemoteFlowTest-Again'), {
      kind: 'flow',
      name: 'RemoteFlowTest-Again',
      module: './test/flow/remote-flow.test.ts',
    });
  });

  it('a flow made where no module is known (an eval) fails its layers on threads, saying so', async () => {
    const made = new Function('Flow', "return new Flow('RemoteFlowTest-Eval');") as (
      flowClass: typeof Flow,
    ) => Flow;
    const flow = made(Flow);
    flow.layer('Only', (self) => self.set({ x: 1 }));
    await assert.rejects(flow.run({ store, executor: onThreads }), (error: unknown) => {
      assert.ok(error instanceof LayerFailedError, `got ${error}`);
      assert.ok(isWeftError(error.cause, 'WEFT_VALIDATION'), `got ${error.cause}`);
      assert.match(
        error.cause.message,
        /^Flow RemoteFlowTest-Eval cannot run its layers on workers: the module that created it is not known .*Create the flow at the top level of its module\.$/,
      );
      return true;
    });
  });
});
