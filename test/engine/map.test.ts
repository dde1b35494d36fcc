import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asyncPool,
  EventBus,
  type Executor,
  events,
  getDefaultExecutor,
  inline,
  KeyScope,
  map,
  type TaskContext,
  TaskFailedError,
  TimeoutError,
  type WeftEvent,
} from 'weftjs';
import {
  ConcurrencyProbe,
  call,
  type Deferred,
  deferred,
  deferreds,
  drainMicrotasks,
  FatalError,
  type FlakyInput,
  failsOnThree,
  flaky,
  flakyRetryIf,
  guard,
  innerKey,
  isValidation,
  keyOfA,
  keyOfB,
  neverSettles,
  neverSettlesUnlessNumber,
  records,
  reportsProgress,
  type SignalReport,
  sleep,
  slowDouble,
  slowFirstAttempt,
  square,
  waitForAbort,
  waitsOnSignal,
} from '../fixtures/map-dag-tasks.ts';

/** Executors every basic behaviour is checked on; `undefined` means the default executor. */
const executors: readonly (readonly [string, () => Executor | undefined])[] = [
  ['asyncPool', () => asyncPool()],
  ['inline', () => inline()],
  ['the default executor', () => undefined],
];

/** Gated items: each task reports its start, then waits for its gate before returning i * 10. */
function gatedItems(count: number) {
  const started = deferreds(count);
  const gates = deferreds(count);
  const finished: number[] = [];
  const fn = async (i: number) => {
    started[i]!.resolve();
    await gates[i]!.promise;
    finished.push(i);
    return i * 10;
  };
  const allStarted = () => Promise.all(started.map((d) => d.promise));
  return { started, gates, finished, fn, allStarted };
}

describe('map: awaited results', () => {
  for (const [label, make] of executors) {
    describe(`on ${label}`, () => {
      it('returns every output in input order', async () => {
        assert.deepEqual(await map([1, 2, 3, 4], slowDouble, { executor: make() }), [2, 4, 6, 8]);
        assert.deepEqual(await map([1, 2, 3], square, { executor: make() }), [1, 4, 9]);
      });

      it('returns [] for empty input without running the task', async () => {
        let calls = 0;
        const count = (x: number) => {
          calls++;
          return x;
        };
        assert.deepEqual(await map([], count, { executor: make() }), []);
        assert.deepEqual(await map(new Set<number>(), count, { executor: make() }), []);
        assert.deepEqual(await map((async function* () {})(), count, { executor: make() }), []);
        assert.equal(calls, 0);
      });

      it('accepts a Set, a generator and an async generator', async () => {
        function* numbers() {
          yield 1;
          yield 2;
          yield 3;
        }
        async function* asyncNumbers() {
          for (const n of [4, 5, 6]) {
            await sleep(1);
            yield n;
          }
        }
        assert.deepEqual(await map(new Set([3, 1, 2]), square, { executor: make() }), [9, 1, 4]);
        assert.deepEqual(await map(numbers(), square, { executor: make() }), [1, 4, 9]);
        assert.deepEqual(await map(asyncNumbers(), slowDouble, { executor: make() }), [8, 10, 12]);
      });
    });
  }

  it('keeps input order when tasks finish in reverse order (asyncPool)', guard, async () => {
    const { gates, finished, fn, allStarted } = gatedItems(5);
    const all = map([0, 1, 2, 3, 4], fn, { executor: asyncPool() }).then((values) => values);
    await allStarted();
    for (const gate of [...gates].reverse()) gate.resolve();
    assert.deepEqual(await all, [0, 10, 20, 30, 40]);
    assert.deepEqual(finished, [4, 3, 2, 1, 0], 'tasks really finished out of order');
  });

  it('runs async tasks one after another on inline, in input order', async () => {
    const probe = new ConcurrencyProbe();
    const order: number[] = [];
    const results = await map(
      [3, 1, 2],
      (x: number) =>
        probe.track(async () => {
          await sleep(x);
          order.push(x);
          return -x;
        }),
      { executor: inline(), concurrency: 4 },
    );
    assert.deepEqual(results, [-3, -1, -2]);
    assert.deepEqual(order, [3, 1, 2]);
    assert.equal(probe.max, 1);
  });
});

describe('map: iterating', () => {
  for (const [label, make] of executors) {
    it(`streams every output with for await (${label})`, async () => {
      const seen: number[] = [];
      for await (const value of map([1, 2, 3], slowDouble, { executor: make() })) seen.push(value);
      assert.deepEqual(seen, [2, 4, 6]);
    });
  }

  it('ordered: true yields in input order even when tasks finish in reverse', guard, async () => {
    const { gates, finished, fn, allStarted } = gatedItems(4);
    const result = map([0, 1, 2, 3], fn, { executor: asyncPool(), ordered: true });
    const iterator = result[Symbol.asyncIterator]();
    const first = iterator.next();
    await allStarted();
    for (const gate of [...gates].reverse()) gate.resolve();
    const seen = [(await first).value];
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      seen.push(next.value);
    }
    assert.deepEqual(finished, [3, 2, 1, 0]);
    assert.deepEqual(seen, [0, 10, 20, 30]);
  });

  it('ordered: false yields each output as soon as its task finishes', guard, async () => {
    const { gates, fn, allStarted } = gatedItems(4);
    const iterator = map([0, 1, 2, 3], fn, { executor: asyncPool(), ordered: false })[
      Symbol.asyncIterator
    ]();
    let pending = iterator.next();
    await allStarted();
    const seen: number[] = [];
    for (const i of [3, 2, 1, 0]) {
      // Only task i may finish now; the next output must be its own.
      gates[i]!.resolve();
      const next = await pending;
      assert.equal(next.done, false);
      seen.push(next.value as number);
      pending = iterator.next();
    }
    assert.deepEqual(seen, [30, 20, 10, 0]);
    assert.deepEqual(await pending, { done: true, value: undefined });
  });

  it('for await with ordered: false collects every output', async () => {
    const seen: number[] = [];
    for await (const value of map([1, 2, 3, 4], slowDouble, { ordered: false })) seen.push(value);
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      [2, 4, 6, 8],
    );
  });

  it('an iterated failure is thrown from the loop after the outputs before it', async () => {
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const value of map([1, 2, 3, 4], failsOnThree, { executor: inline() }))
          seen.push(value);
      })(),
      (error: unknown) => error instanceof TaskFailedError && /bad item 3/.test(error.message),
    );
    assert.deepEqual(seen, [1, 2]);
  });
});

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

describe("map: onError 'throw' (the default)", () => {
  it('rejects with a TaskFailedError naming the task and key, with the original cause', async () => {
    const error = await map([1, 2, 3, 4, 5], failsOnThree, { executor: inline() }).then(
      () => assert.fail('the map should reject'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.code, 'WEFT_TASK_FAILED');
    assert.equal(error.task, 'mapDag.failsOnThree');
    assert.match(error.key, /^map:mapDag\.failsOnThree(~\d+)?\/2$/);
    assert.equal(error.attempts, 1);
    assert.ok(error.cause instanceof Error);
    assert.equal(error.cause.message, 'bad item 3');
    assert.match(error.message, /mapDag\.failsOnThree.*bad item 3/);
  });

  it('starts no new task after a failure and aborts the running ones', guard, async () => {
    const { rejection, starts, reasons } = await failFast(asyncPool({ concurrency: 3 }), 3, 3);
    assert.ok(rejection instanceof TaskFailedError);
    assert.equal((rejection.cause as Error).message, 'item 1 failed');
    assert.equal(starts, 3, 'only the three first items ever started');
    assert.deepEqual(reasons, [rejection, rejection], 'running tasks aborted with the failure');
  });

  it('starts none of the tasks queued in the pool after a failure', guard, async () => {
    // Pool of 2, map of 4: items 2 and 3 wait in the pool's queue when item 1 fails.
    const { rejection, starts } = await failFast(asyncPool({ concurrency: 2 }), 4, 2);
    assert.ok(rejection instanceof TaskFailedError);
    assert.equal(starts, 2, 'queued items never started');
  });
});

/**
 * Runs items 0..9 where item 1 fails once `running - 1` other items have started; the
 * others wait on their signal. Returns the rejection, how many tasks started, and the
 * abort reasons the waiting tasks saw.
 */
async function failFast(executor: Executor, concurrency: number, running: number) {
  let starts = 0;
  const waiting: Deferred<unknown>[] = [];
  const othersStarted = deferreds(running - 1);
  const task = async (x: number, ctx: TaskContext) => {
    starts++;
    if (x === 1) {
      await Promise.all(othersStarted.map((d) => d.promise));
      throw new Error('item 1 failed');
    }
    const aborted = deferred<unknown>();
    waiting.push(aborted);
    othersStarted[waiting.length - 1]?.resolve();
    return waitForAbort(ctx.signal).catch((reason: unknown) => {
      aborted.resolve(reason);
      throw reason;
    });
  };
  const rejection = await map(
    Array.from({ length: 10 }, (_, i) => i),
    task,
    { executor, concurrency },
  ).then(
    () => assert.fail('the map should reject'),
    (reason: unknown) => reason,
  );
  const reasons = await Promise.all(waiting.map((d) => d.promise));
  await drainMicrotasks();
  return { rejection, starts, reasons };
}

describe("map: onError 'collect'", () => {
  for (const [label, make] of executors) {
    it(`puts Error instances in place of failed items (${label})`, async () => {
      const results = await map([1, 2, 3, 4, 5], failsOnThree, {
        executor: make(),
        onError: 'collect',
      });
      assert.equal(results.length, 5);
      assert.deepEqual([results[0], results[1], results[3], results[4]], [1, 2, 4, 5]);
      assert.ok(results[2] instanceof Error);
      assert.equal(results[2].message, 'bad item 3');
    });
  }

  it('wraps thrown non-errors in an Error, and streams errors in place when iterated', async () => {
    const thrower = (x: number) => {
      if (x === 2) throw 'plain string';
      return x;
    };
    const settled = await map([1, 2, 3], thrower, { onError: 'collect' });
    assert.ok(settled[1] instanceof Error);
    assert.equal(settled[1].message, 'plain string');
    const streamed: unknown[] = [];
    for await (const value of map([1, 2, 3], failsOnThree, { onError: 'collect' }))
      streamed.push(value);
    assert.deepEqual(streamed.slice(0, 2), [1, 2]);
    assert.ok(streamed[2] instanceof Error);
  });
});

describe('map: AbortSignal', () => {
  it('aborting mid-way rejects with signal.reason and aborts running tasks', guard, async () => {
    const controller = new AbortController();
    const started = deferreds(2);
    const aborted = deferreds<unknown>(2);
    let starts = 0;
    const task = (x: number, ctx: TaskContext) => {
      starts++;
      started[x]?.resolve();
      return waitForAbort(ctx.signal).catch((reason: unknown) => {
        aborted[x]?.resolve(reason);
        throw reason;
      });
    };
    const all = map([0, 1, 2, 3, 4], task, {
      executor: asyncPool(),
      concurrency: 2,
      signal: controller.signal,
    }).then(
      () => assert.fail('the map should reject'),
      (reason: unknown) => reason,
    );
    await Promise.all(started.map((d) => d.promise));
    const reason = new Error('cancelled by the test');
    controller.abort(reason);
    assert.equal(await all, reason);
    assert.deepEqual(await Promise.all(aborted.map((d) => d.promise)), [reason, reason]);
    await drainMicrotasks();
    assert.equal(starts, 2);
  });

  it(
    'an already-aborted signal rejects with its reason without running anything',
    guard,
    async () => {
      const controller = new AbortController();
      const reason = new Error('aborted before the map');
      controller.abort(reason);
      let calls = 0;
      const count = (x: number) => {
        calls++;
        return x;
      };
      await assert.rejects(
        Promise.resolve(map([1, 2, 3], count, { signal: controller.signal })),
        (error: unknown) => error === reason,
      );
      assert.equal(calls, 0);
    },
  );

  it('aborting a streamed map ends the loop with signal.reason', guard, async () => {
    const controller = new AbortController();
    const reason = new Error('stop streaming');
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const value of map(
          [1, 2, 3, 4],
          (x: number, ctx: TaskContext) => (x < 3 ? x : waitForAbort(ctx.signal)),
          { executor: asyncPool(), signal: controller.signal },
        )) {
          seen.push(value);
          if (value === 2) controller.abort(reason);
        }
      })(),
      (error: unknown) => error === reason,
    );
    assert.deepEqual(seen, [1, 2]);
  });
});

describe('map: retries', () => {
  it('retries a failing task and passes ctx.attempt 1, 2, 3', async () => {
    const input: FlakyInput = { failTimes: 2, value: 'v', attempts: [] };
    assert.deepEqual(await map([input], flaky, { executor: asyncPool() }), ['v@3']);
    assert.deepEqual(input.attempts, [1, 2, 3]);
  });

  it('fails with the last error once the retries are used up', async () => {
    const input: FlakyInput = { failTimes: 5, value: 'v', attempts: [] };
    const error = await map([input], flaky, { executor: inline() }).then(
      () => assert.fail('the map should reject'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.attempts, 3);
    assert.equal((error.cause as Error).message, 'flaky on attempt 3');
    assert.deepEqual(input.attempts, [1, 2, 3]);
  });

  it('stops retrying when retryIf returns false', async () => {
    const fatal: FlakyInput = { failTimes: 5, value: 'f', attempts: [], fatal: true };
    const error = await map([fatal], flakyRetryIf).then(
      () => assert.fail('the map should reject'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof TaskFailedError);
    assert.ok(error.cause instanceof FatalError);
    assert.equal(error.attempts, 1);
    assert.deepEqual(fatal.attempts, [1]);
    // Errors retryIf accepts are still retried.
    const transient: FlakyInput = { failTimes: 1, value: 't', attempts: [] };
    assert.deepEqual(await map([transient], flakyRetryIf), ['t@2']);
    assert.deepEqual(transient.attempts, [1, 2]);
  });

  it('emits task:retry before each retry', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    const input: FlakyInput = { failTimes: 2, value: 'v', attempts: [] };
    await map([input], flaky, { events: bus });
    const retries = seen.filter((e) => e.type === 'task:retry');
    assert.deepEqual(
      retries.map((e) => [e.attempt, (e.error as Error).message]),
      [
        [1, 'flaky on attempt 1'],
        [2, 'flaky on attempt 2'],
      ],
    );
    for (const event of retries) {
      assert.ok(event.delayMs >= 0 && event.delayMs <= 2, `delay ${event.delayMs}`);
      assert.match(event.key, /\/0$/);
    }
    const starts = seen.filter((e) => e.type === 'task:start').map((e) => e.attempt);
    assert.deepEqual(starts, [1, 2, 3]);
    assert.equal(seen.filter((e) => e.type === 'task:end').length, 1);
    assert.equal(seen.filter((e) => e.type === 'task:fail').length, 0);
  });
});

describe('map: timeouts', () => {
  it("aborts the task's signal with a TimeoutError and fails the map", guard, async () => {
    const report: SignalReport = { started: deferred(), aborted: deferred<unknown>() };
    const error = await map([report], waitsOnSignal, { executor: asyncPool() }).then(
      () => assert.fail('the map should reject'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof TaskFailedError);
    const cause = error.cause;
    assert.ok(cause instanceof TimeoutError);
    assert.equal(cause.code, 'WEFT_TIMEOUT');
    assert.match(cause.message, /timed out after 20 ms/);
    assert.equal(await report.aborted.promise, cause, "the task's signal carries the TimeoutError");
  });

  it('settles even when the task ignores its signal and never resolves', guard, async () => {
    const started = deferred();
    const error = await map([started], neverSettles, { executor: asyncPool() }).then(
      () => assert.fail('the map should reject'),
      (reason: unknown) => reason,
    );
    assert.equal(started.settled, true);
    assert.ok(error instanceof TaskFailedError);
    assert.ok(error.cause instanceof TimeoutError);
  });

  it('collects a TimeoutError in place when onError is collect', guard, async () => {
    const started = deferred();
    const results = await map([started], neverSettles, { executor: inline(), onError: 'collect' });
    assert.ok(results[0] instanceof TimeoutError);
  });

  it('retries a timed-out attempt', guard, async () => {
    const attempts: number[] = [];
    assert.deepEqual(await map([attempts], slowFirstAttempt), ['done on attempt 2']);
    assert.deepEqual(attempts, [1, 2]);
  });

  it('a timed-out task that ignores its signal does not hold its pool slot', guard, async () => {
    const pool = asyncPool({ concurrency: 1 });
    const results = await map([deferred(), 2], neverSettlesUnlessNumber, {
      executor: pool,
      onError: 'collect',
    });
    assert.ok(results[0] instanceof TimeoutError);
    assert.equal(results[1], 2, 'the second item ran once the first timed out');
  });
});

describe('map: keys', () => {
  it('keys items map:<task>/<index>, with ~2 for a second map in the same scope', async () => {
    assert.deepEqual(await map(['a', 'b', 'c'], keyOfA), [
      'map:mapDag.keyOfA/0',
      'map:mapDag.keyOfA/1',
      'map:mapDag.keyOfA/2',
    ]);
    assert.deepEqual(await map(['a'], keyOfA), ['map:mapDag.keyOfA~2/0']);
    assert.deepEqual(await map(['a'], keyOfA, { executor: inline() }), ['map:mapDag.keyOfA~3/0']);
  });

  it('uses the name and itemKey options', async () => {
    assert.deepEqual(
      await map(['x.txt', 'y.txt'], keyOfB, {
        name: 'files',
        itemKey: (item: string, index: number) => `${index}-${item}`,
      }),
      ['files/0-x.txt', 'files/1-y.txt'],
    );
    assert.deepEqual(await map([7], keyOfB, { name: 'files' }), ['files~2/0']);
  });

  it('prefixes keys with a given scope', async () => {
    const scope = new KeyScope('run-7');
    assert.deepEqual(await map([1, 2], keyOfB, { scope }), [
      'run-7/map:mapDag.keyOfB/0',
      'run-7/map:mapDag.keyOfB/1',
    ]);
    assert.deepEqual(await map([1], keyOfB, { scope }), ['run-7/map:mapDag.keyOfB~2/0']);
  });

  it('nests the keys of maps started with scope: ctx.scope under the parent key', async () => {
    const outer = await map(['p', 'q'], nestedOuter);
    assert.deepEqual(outer, [
      {
        key: 'map:nestedOuter/0',
        inner: [
          'map:nestedOuter/0/map:mapDag.innerKey/0',
          'map:nestedOuter/0/map:mapDag.innerKey/1',
        ],
      },
      {
        key: 'map:nestedOuter/1',
        inner: [
          'map:nestedOuter/1/map:mapDag.innerKey/0',
          'map:nestedOuter/1/map:mapDag.innerKey/1',
        ],
      },
    ]);
  });

  it('gives a second nested map of the same task in one task a ~2 key', async () => {
    const keys = await map(['p'], nestedTwice);
    assert.deepEqual(keys, [
      ['map:nestedTwice/0/map:mapDag.innerKey/0', 'map:nestedTwice/0/map:mapDag.innerKey~2/0'],
    ]);
  });
});

describe('map: events', () => {
  it('reports map:start, task start/end/fail and map:end with counts', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await map([1, 2, 3, 4], failsOnThree, { events: bus, onError: 'collect', executor: inline() });
    const types = seen.map((e) => e.type);
    assert.equal(types[0], 'map:start');
    assert.equal(types.at(-1), 'map:end');
    const start = seen[0]!;
    assert.ok(start.type === 'map:start');
    assert.equal(start.task, 'mapDag.failsOnThree');
    assert.equal(start.total, 4);
    assert.match(start.scope, /^map:mapDag\.failsOnThree(~\d+)?$/);
    const starts = seen.filter((e) => e.type === 'task:start');
    assert.deepEqual(
      starts.map((e) => [e.item, e.attempt, e.key]),
      [0, 1, 2, 3].map((i) => [i, 1, `${start.scope}/${i}`]),
    );
    assert.deepEqual(
      seen.filter((e) => e.type === 'task:end').map((e) => e.item),
      [0, 1, 3],
    );
    const fails = seen.filter((e) => e.type === 'task:fail');
    assert.equal(fails.length, 1);
    assert.equal(fails[0]!.item, 2);
    assert.equal((fails[0]!.error as Error).message, 'bad item 3');
    const end = seen.at(-1)!;
    assert.ok(end.type === 'map:end');
    assert.equal(end.completed, 3);
    assert.equal(end.failed, 1);
    assert.equal(end.error, undefined);
    assert.ok(end.durationMs >= 0);
  });

  it('reports the error of a failed map in map:end', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await map([1, 2, 3], failsOnThree, { events: bus, executor: inline() }).then(
      () => assert.fail('the map should reject'),
      () => {},
    );
    const end = seen.at(-1)!;
    assert.ok(end.type === 'map:end');
    assert.ok(end.error instanceof TaskFailedError);
    assert.equal(end.completed, 2);
    assert.equal(end.failed, 1);
  });

  it('turns ctx.progress calls into task:progress events', async () => {
    const bus = new EventBus();
    const seen = records(bus);
    await map([5, 6], reportsProgress, { events: bus });
    const reports = seen.filter((e) => e.type === 'task:progress');
    assert.deepEqual(
      reports.map((e) => [e.item, e.progress]),
      [
        [0, 0.5],
        [0, { done: 1, total: 1, message: 'item 5' }],
        [1, 0.5],
        [1, { done: 1, total: 1, message: 'item 6' }],
      ],
    );
    assert.match(reports[0]!.key, /^map:mapDag\.reportsProgress(~\d+)?\/0$/);
  });

  it('does not emit on the shared bus when given its own', async () => {
    const own = new EventBus();
    const mine = records(own);
    const shared: WeftEvent[] = [];
    const off = events.on((e) => shared.push(e));
    await map([1], square, { events: own });
    off();
    assert.equal(shared.length, 0);
    assert.ok(mine.length > 0);
  });

  it('bus.stream() yields the events as an async iterable and ends on abort', guard, async () => {
    const bus = new EventBus();
    const controller = new AbortController();
    const streamed = (async () => {
      const types: string[] = [];
      for await (const event of bus.stream({ signal: controller.signal })) {
        types.push(event.type);
        if (event.type === 'map:end') controller.abort();
      }
      return types;
    })();
    await map([1, 2], slowDouble, { events: bus, executor: asyncPool() });
    assert.deepEqual(await streamed, [
      'map:start',
      'task:start',
      'task:start',
      'task:end',
      'task:end',
      'map:end',
    ]);
  });

  it('bus.stream() filters by type and ends when aborted while waiting', guard, async () => {
    const bus = new EventBus();
    const controller = new AbortController();
    const firstEnd = deferred();
    const streamed = (async () => {
      const items: unknown[] = [];
      for await (const event of bus.stream({ signal: controller.signal, types: ['task:end'] })) {
        assert.equal(event.type, 'task:end');
        items.push(event.type === 'task:end' ? event.item : undefined);
        if (items.length === 3) firstEnd.resolve();
      }
      return items;
    })();
    await map([1, 2, 3], square, { events: bus, executor: inline() });
    await firstEnd.promise;
    controller.abort();
    assert.deepEqual(await streamed, [0, 1, 2]);
  });

  it(
    'bus.stream() receives events emitted after stream() and before the first read',
    guard,
    async () => {
      const bus = new EventBus();
      const controller = new AbortController();
      const stream = bus.stream({ signal: controller.signal, types: ['map:start'] });
      await map([1], square, { events: bus, name: 'before-first-read' });
      const iterator = stream[Symbol.asyncIterator]();
      const first = iterator.next();
      // A second map, so that the read settles with or without the bug.
      await map([1], square, { events: bus, name: 'after-first-read' });
      const { value } = await first;
      controller.abort();
      await iterator.return?.();
      assert.equal(value?.scope, 'before-first-read');
    },
  );
});

describe('map: the result object', () => {
  it('gives the same array when awaited twice, running each task once', async () => {
    let calls = 0;
    const result = map([1, 2, 3], (x: number) => {
      calls++;
      return x + 1;
    });
    const first = await result;
    const second = await result;
    assert.equal(first, second);
    assert.deepEqual(first, [2, 3, 4]);
    assert.equal(calls, 3);
    assert.deepEqual(await result.catch(() => 'unused'), [2, 3, 4]);
    let finalized = false;
    assert.deepEqual(
      await result.finally(() => {
        finalized = true;
      }),
      [2, 3, 4],
    );
    assert.equal(finalized, true);
  });

  it('throws a ValidationError when iterated after being awaited', async () => {
    const result = map([1, 2], square);
    await result;
    assert.throws(() => result[Symbol.asyncIterator](), isValidation(/already/));
    await assert.rejects(async () => {
      for await (const _ of result) assert.fail('must not yield');
    }, isValidation());
  });

  it('rejects with a ValidationError when awaited after being iterated', async () => {
    const result = map([1, 2], square);
    const iterator = result[Symbol.asyncIterator]();
    await assert.rejects(Promise.resolve(result), isValidation(/already being iterated/));
    assert.deepEqual(await iterator.next(), { done: false, value: 1 });
    assert.throws(() => result[Symbol.asyncIterator](), isValidation());
  });

  it('rejects invalid input with a ValidationError', async () => {
    for (const bad of [42, null, undefined, { length: 2 }]) {
      await assert.rejects(
        Promise.resolve(map(bad as unknown as number[], square)),
        isValidation(/input must be an iterable/),
      );
    }
  });

  it('rejects an unknown onError policy', async () => {
    let calls = 0;
    await assert.rejects(
      Promise.resolve(
        map(
          [1],
          (x: number) => {
            calls++;
            return x;
          },
          { onError: 'bogus' as 'throw' },
        ),
      ),
      isValidation(/onError/),
    );
    assert.equal(calls, 0);
  });

  it('rejects something that is neither a task nor a function', async () => {
    await assert.rejects(
      Promise.resolve(map([1], 'square' as unknown as typeof square)),
      isValidation(/task or a function/),
    );
  });

  it('passes the task its input and a context, and accepts the call task for any behaviour', async () => {
    const results = await map(
      [(ctx: TaskContext) => ctx.attempt, (ctx: TaskContext) => ctx.signal.aborted],
      call,
    );
    assert.deepEqual(results, [1, false]);
  });
});

describe('map: a large run', () => {
  for (const [label, make] of [executors[0]!, executors[1]!]) {
    it(`maps 100,000 sync items without starving the event loop (${label})`, guard, async () => {
      const n = 100_000;
      let processed = 0;
      let processedWhenImmediateRan = -1;
      setImmediate(() => {
        processedWhenImmediateRan = processed;
      });
      const squares = await map(
        (function* () {
          for (let i = 0; i < n; i++) yield i;
        })(),
        (x: number) => {
          processed++;
          return x * x;
        },
        { executor: make() },
      );
      assert.equal(squares.length, n);
      assert.equal(
        squares.reduce((a, b) => a + b, 0),
        ((n - 1) * n * (2 * n - 1)) / 6,
      );
      assert.ok(
        processedWhenImmediateRan > 0 && processedWhenImmediateRan < n,
        `setImmediate ran after ${processedWhenImmediateRan} of ${n} items`,
      );
    });
  }

  it('sums 100,000 items of a named sync task on the default executor', guard, async () => {
    const items = Array.from({ length: 100_000 }, (_, i) => i % 10);
    const squares = await map(items, square);
    assert.equal(
      squares.reduce((a, b) => a + b, 0),
      10_000 * (0 + 1 + 4 + 9 + 16 + 25 + 36 + 49 + 64 + 81),
    );
  });
});

// Plain functions used as tasks; their names are the task names in keys.
async function nestedOuter(_: string, ctx: TaskContext) {
  return { key: ctx.key, inner: await map([0, 1], innerKey, { scope: ctx.scope }) };
}

async function nestedTwice(_: string, ctx: TaskContext) {
  const [first] = await map([0], innerKey, { scope: ctx.scope });
  const [second] = await map([0], innerKey, { scope: ctx.scope });
  return [first, second];
}
