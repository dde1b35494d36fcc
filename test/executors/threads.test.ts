/** What only off-thread executors do: moving and sharing buffers, surviving dying workers, finding task modules. */
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { after, describe, it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { EventBus, isWeftError, map, processes, threads, transfer } from 'weftjs';
import { hoardOrDouble } from '../../src/testing/conformance-tasks.ts';
import {
  echo,
  exitOn5,
  failsFirst,
  holdOrReport,
  nestedScopes,
  spinOrDouble,
} from '../fixtures/batch-tasks.ts';
import { heapLimitMb } from '../fixtures/memory-tasks.ts';
import {
  exhaustMemory,
  exitWorker,
  fillShared,
  square,
  sumAndReturn,
  throwLater,
  whereAmI,
} from '../fixtures/tasks.ts';

describe('threads executor', () => {
  const executor = threads({ workers: 2 });
  after(() => executor.close());

  it('runs tasks on worker threads, not the main thread', async () => {
    const places = await map([1, 2, 3, 4], whereAmI, { executor });
    for (const place of places) {
      assert.equal(place.pid, process.pid);
      assert.equal(place.isMainThread, false);
      assert.ok(place.threadId > 0);
    }
  });

  it('moves a transferred buffer instead of copying it, both ways', async () => {
    const data = new Float64Array(1024).fill(0.5);
    const [result] = await map([transfer(data)], sumAndReturn, { executor });
    // Moved to the worker: this thread's view is detached.
    assert.equal(data.length, 0);
    assert.equal(data.buffer.byteLength, 0);
    assert.equal(result!.sum, 512);
    // Moved back: the worker returned it with transfer().
    assert.equal(result!.data.length, 1024);
    assert.equal(result!.data[0], 0.5);
  });

  it('copies a buffer that was not marked for transfer', async () => {
    const data = new Float64Array(16).fill(1);
    const [result] = await map([data], sumAndReturn, { executor });
    assert.equal(data.length, 16);
    assert.equal(result!.sum, 16);
  });

  it('shares SharedArrayBuffer-backed arrays: writes in the worker are seen here', async () => {
    const data = new Int32Array(new SharedArrayBuffer(4 * 8));
    const [result] = await map([data], fillShared, { executor });
    assert.deepEqual(result, { shared: true, length: 8 });
    assert.deepEqual([...data], [0, 2, 4, 6, 8, 10, 12, 14]);
  });

  it('fails only the task whose worker calls process.exit, and keeps working', async () => {
    const mixed = await map([3, 4, 5, 6], square, { executor });
    assert.deepEqual(mixed, [9, 16, 25, 36]);
    const settled = await map([7], exitWorker, { executor, onError: 'collect' });
    assert.ok(settled[0] instanceof Error);
    assert.ok(isWeftError(settled[0], 'WEFT_WORKER_CRASHED'));
    assert.match(settled[0].message, /fixtures:exitWorker/);
    assert.match(settled[0].message, /exited with code 7/);
    assert.deepEqual(await map([1, 2, 3], square, { executor }), [1, 4, 9]);
  });

  it('fails only the task whose worker throws outside the task', async () => {
    const settled = await map([1], throwLater, { executor, onError: 'collect' });
    assert.ok(isWeftError(settled[0], 'WEFT_WORKER_CRASHED'));
    assert.match((settled[0] as Error).message, /thrown outside the task/);
    assert.deepEqual(await map([2, 3], square, { executor }), [4, 9]);
  });
});

describe('threads executor with memory limits', () => {
  const executor = threads({ workers: 1, resourceLimits: { maxOldGenerationSizeMb: 32 } });
  after(() => executor.close());

  it('fails only the task that runs out of memory, and replaces the worker', async () => {
    const settled = await map([1], exhaustMemory, { executor, onError: 'collect' });
    assert.ok(isWeftError(settled[0], 'WEFT_WORKER_CRASHED'));
    assert.match((settled[0] as Error).message, /out of memory/);
    assert.match((settled[0] as Error).message, /resourceLimits\.maxOldGenerationSizeMb/);
    assert.deepEqual(await map([5], square, { executor }), [25]);
  });
});

describe('memory caps of worker threads and child processes', () => {
  const kinds = [
    ['threads', threads, 'worker thread'],
    ['processes', processes, 'child process'],
  ] as const;
  /** V8 adds the young generation (a few MB, up to 48) to the limit of the old one. */
  const assertLimit = (limit: number | undefined, megabytes: number, what: string) =>
    assert.ok(
      limit !== undefined && limit >= megabytes && limit <= megabytes + 64,
      `${what}: a heap limit of ${limit} MB for a cap of ${megabytes} MB`,
    );

  it('each worker gets the heap limit maxMemoryMb gives', async () => {
    for (const [kind, make] of kinds) {
      const executor = make({ workers: 1, maxMemoryMb: 100 });
      try {
        const [limit] = await map([0], heapLimitMb, { executor });
        assertLimit(limit, 100, kind);
      } finally {
        await executor.close();
      }
    }
  });

  it("by default the workers share half of the machine's memory (at least 256 MB each, at most Node's limit)", async () => {
    // Enough workers that on most machines the share is below Node's own limit.
    const workers = 4;
    const share = Math.floor(totalmem() / 2 ** 20 / 2 / workers);
    const nodeLimit = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
    const expected = Math.min(nodeLimit, Math.max(256, share));
    for (const [kind, make] of kinds) {
      const executor = make({ workers });
      try {
        for (const limit of await map([0, 1, 2, 3], heapLimitMb, { executor })) {
          assertLimit(limit, expected, kind);
        }
      } finally {
        await executor.close();
      }
    }
  });

  it('a task leaking past maxMemoryMb fails with WEFT_WORKER_CRASHED, saying its worker ran out of memory and naming the option; the pool goes on', async () => {
    for (const [kind, make, worker] of kinds) {
      const executor = make({ workers: 1, maxMemoryMb: 64 });
      try {
        const [outcome] = await map([{ kind: 'leak', megabytes: 512 }] as const, hoardOrDouble, {
          executor,
          onError: 'collect',
        });
        assert.ok(isWeftError(outcome, 'WEFT_WORKER_CRASHED'), `${kind}: ${String(outcome)}`);
        const { message } = outcome as Error;
        assert.match(message, new RegExp(`its ${worker} ran out of memory`), kind);
        assert.match(message, /maxMemoryMb/, kind);
        assert.match(message, /64 MB/, kind);
        assert.deepEqual(await map([5, 6], square, { executor }), [25, 36], kind);
      } finally {
        await executor.close();
      }
    }
  });

  it('maxMemoryMb is a whole number of megabytes, not given twice to threads', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const [kind, make] of kinds) {
        assert.throws(
          () => make({ maxMemoryMb: bad }),
          (error: Error) =>
            isWeftError(error, 'WEFT_VALIDATION') && error.message.includes('maxMemoryMb'),
          `${kind}: ${bad}`,
        );
      }
    }
    assert.throws(
      () => threads({ maxMemoryMb: 64, resourceLimits: { maxOldGenerationSizeMb: 128 } }),
      /maxMemoryMb or resourceLimits\.maxOldGenerationSizeMb/,
    );
  });
});

describe('crash isolation within a batch', () => {
  const executor = threads({ workers: 1 });
  after(() => executor.close());

  it('reruns the innocent tasks of a crashed batch and fails only the culprit', async () => {
    // Warm up so the executor knows these tasks are tiny: the ten below then share one message.
    await map(
      Array.from({ length: 200 }, (_, i) => i),
      square,
      { executor },
    );
    const crashing = await map([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], exitOn5, {
      executor,
      onError: 'collect',
    });
    crashing.forEach((value, i) => {
      if (i === 4)
        assert.ok(isWeftError(value, 'WEFT_WORKER_CRASHED'), `item ${i}: ${String(value)}`);
      else assert.equal(value, (i + 1) * 10);
    });
  });
});

describe('aborts reach tasks still queued for a worker', () => {
  const executor = threads({ workers: 1 });
  after(() => executor.close());

  it('skips a queued task whose signal aborted before a worker took it', async () => {
    const bus = new EventBus();
    const messages: string[] = [];
    let holding: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      holding = resolve;
    });
    bus.on('task:progress', (event) => {
      const { message } = event.progress as { message: string };
      messages.push(message);
      if (message === 'holding') holding();
    });
    const controller = new AbortController();
    // One worker: 'hold' occupies it while 'report' waits in the pool's queue.
    const run = map(['hold', 'report'] as const, holdOrReport, {
      executor,
      events: bus,
      signal: controller.signal,
    });
    const settled = run.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await held;
    controller.abort(new Error('stop now'));
    assert.equal(((await settled) as Error).message, 'stop now');
    // The worker handles one batch at a time: once this map is done, the queued one was seen.
    assert.deepEqual(await map([3], square, { executor }), [9]);
    assert.deepEqual(messages, ['holding']);
  });
});

describe('timed tasks that never stop', () => {
  const executor = threads({ workers: 1, terminateAfterMs: 100 });
  after(() => executor.close());

  it('a task spinning past its timeout does not hold back the others: its worker is replaced', async () => {
    const settled = await map(['spin', 1, 2, 3] as const, spinOrDouble, {
      executor,
      onError: 'collect',
    });
    assert.ok(isWeftError(settled[0], 'WEFT_TIMEOUT'), String(settled[0]));
    assert.deepEqual(settled.slice(1), [2, 4, 6]);
  });
});

describe('transferred inputs', () => {
  const executor = threads({ workers: 1 });
  after(() => executor.close());

  it('a retry of a task whose input was moved away fails clearly instead of hanging', async () => {
    const [outcome] = await map([transfer(new Float64Array(8))], failsFirst, {
      executor,
      onError: 'collect',
    });
    assert.ok(isWeftError(outcome, 'WEFT_NOT_CLONEABLE'), String(outcome));
    assert.match((outcome as Error).message, /moved to a worker with transfer\(\)/);
  });
});

describe('scopes inside workers', () => {
  const executor = threads({ workers: 1 });
  after(() => executor.close());

  it('nested fan-outs of one task get distinct keys off-thread too', async () => {
    const [paths] = await map([0], nestedScopes, { executor, name: 'scoped' });
    assert.deepEqual(paths, ['scoped/0/inner', 'scoped/0/inner~2']);
  });
});

describe('processes executor', () => {
  const executor = processes({ workers: 2 });
  after(() => executor.close());

  it('runs tasks in child processes', async () => {
    const places = await map([1, 2, 3, 4], whereAmI, { executor });
    for (const place of places) assert.notEqual(place.pid, process.pid);
    assert.equal(new Set(places.map((p) => p.pid)).size <= 2, true);
  });

  it('round-trips Map, Set, Date, BigInt and typed arrays', async () => {
    const value = {
      map: new Map([['a', 1]]),
      set: new Set([1, 2]),
      date: new Date(0),
      big: 2n ** 70n,
      bytes: new Uint8Array([1, 2, 3]),
    };
    const [out] = await map([value], echo, { executor });
    assert.deepEqual(out, value);
  });
});
