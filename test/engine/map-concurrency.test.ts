/** map: bounded concurrency, and backpressure on the input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, getDefaultExecutor, inline, map, type TaskContext } from 'weftjs';
import {
  ConcurrencyProbe,
  type Deferred,
  deferred,
  guard,
  isValidation,
  sleep,
  slowDouble,
  square,
  waitForAbort,
} from '../fixtures/map-dag-tasks.ts';

describe('map: bounded concurrency', () => {
  it('never runs more than `concurrency` tasks at once, and reaches it', async () => {
    const probe = new ConcurrencyProbe();
    const results = await map(
      Array.from({ length: 20 }, (_, i) => i),
      (x: number) =>
        probe.track(async () => {
          await sleep(1);
          return x;
        }),
      { executor: asyncPool(), concurrency: 3 },
    );
    assert.equal(results.length, 20);
    assert.equal(probe.started, 20);
    assert.equal(probe.max, 3);
  });

  it('honours the pool size when it is smaller than the map concurrency', async () => {
    const probe = new ConcurrencyProbe();
    await map(
      Array.from({ length: 10 }, (_, i) => i),
      (x: number) => probe.track(() => sleep(1).then(() => x)),
      { executor: asyncPool({ concurrency: 2 }), concurrency: 5 },
    );
    assert.equal(probe.max, 2);
  });

  it('defaults to the executor concurrency (asyncPool({ concurrency: 4 }))', async () => {
    const probe = new ConcurrencyProbe();
    await map(
      Array.from({ length: 12 }, (_, i) => i),
      (x: number) => probe.track(() => sleep(1).then(() => x)),
      { executor: asyncPool({ concurrency: 4 }) },
    );
    assert.equal(probe.max, 4);
  });

  it('bounds the default executor with the concurrency option', async () => {
    const probe = new ConcurrencyProbe();
    await map(
      Array.from({ length: 8 }, (_, i) => i),
      (x: number) => probe.track(() => sleep(1).then(() => x)),
      { concurrency: 2 },
    );
    // 2 on the default asyncPool; 1 when WEFT_EXECUTOR=inline.
    assert.equal(probe.max, Math.min(2, getDefaultExecutor().maxConcurrency));
  });

  it('runs one task at a time on inline, whatever concurrency is asked', async () => {
    const probe = new ConcurrencyProbe();
    await map([1, 2, 3, 4], (x: number) => probe.track(() => sleep(1).then(() => x)), {
      executor: inline(),
      concurrency: 8,
    });
    assert.equal(probe.max, 1);
    assert.equal(probe.started, 4);
  });

  it('bounds concurrency when streaming an async input too', async () => {
    const probe = new ConcurrencyProbe();
    async function* source() {
      for (let i = 0; i < 15; i++) yield i;
    }
    const seen: number[] = [];
    for await (const value of map(
      source(),
      (x: number) => probe.track(() => sleep(1).then(() => x)),
      { executor: asyncPool(), concurrency: 3, ordered: false },
    ))
      seen.push(value);
    assert.equal(seen.length, 15);
    assert.ok(probe.max <= 3, `max running ${probe.max}`);
  });

  it('rejects a concurrency below 1', async () => {
    await assert.rejects(
      Promise.resolve(map([1], square, { concurrency: 0 })),
      isValidation(/concurrency/),
    );
  });
});

describe('map: backpressure', () => {
  it(
    'pulls an async input at most about 2 × concurrency + 1 items ahead of a slow reader',
    guard,
    async () => {
      const concurrency = 3;
      let pulled = 0;
      let consumed = 0;
      let maxAhead = 0;
      async function* source() {
        for (let i = 0; i < 60; i++) {
          pulled++;
          maxAhead = Math.max(maxAhead, pulled - consumed);
          yield i;
        }
      }
      const seen: number[] = [];
      for await (const value of map(source(), slowDouble, { executor: asyncPool(), concurrency })) {
        seen.push(value);
        consumed++;
        // A slow reader: several event-loop turns per output.
        await sleep(2);
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 60 }, (_, i) => i * 2),
      );
      assert.ok(maxAhead <= 2 * concurrency + 1, `read ${maxAhead} items ahead of the reader`);
      assert.ok(maxAhead >= concurrency, `read only ${maxAhead} ahead: no parallelism`);
    },
  );

  it('stops an endless input on break, closes it, and aborts running tasks', guard, async () => {
    const concurrency = 2;
    const closed = deferred();
    let pulled = 0;
    async function* endless() {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closed.resolve();
      }
    }
    const aborted: Deferred<unknown>[] = [];
    const task = async (x: number, ctx: TaskContext) => {
      if (x < 3) return x;
      // Later items run until the map stops.
      const report = deferred<unknown>();
      aborted.push(report);
      return waitForAbort(ctx.signal).catch((reason: unknown) => {
        report.resolve(reason);
        throw reason;
      });
    };
    const seen: number[] = [];
    for await (const value of map(endless(), task, { executor: asyncPool(), concurrency })) {
      seen.push(value);
      if (seen.length === 3) break;
    }
    await closed.promise;
    assert.deepEqual(seen, [0, 1, 2]);
    assert.ok(pulled <= 3 + 2 * concurrency + 1, `pulled ${pulled} items`);
    assert.ok(aborted.length > 0, 'some later item was running');
    for (const report of aborted) {
      const reason = await report.promise;
      assert.equal((reason as Error).name, 'AbortError');
    }
  });

  it('stops a sync endless generator on break and runs its finally', guard, async () => {
    let closed = false;
    function* endless() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    for await (const value of map(endless(), square, { executor: asyncPool(), concurrency: 4 })) {
      seen.push(value);
      if (seen.length === 4) break;
    }
    assert.deepEqual(seen, [0, 1, 4, 9]);
    assert.equal(closed, true);
  });
});
