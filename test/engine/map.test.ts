/** map: awaited and iterated results, the result object, and large runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, inline, map, type TaskContext, TaskFailedError } from 'weftjs';
import {
  ConcurrencyProbe,
  call,
  deferreds,
  failsOnThree,
  guard,
  isValidation,
  sleep,
  slowDouble,
  square,
} from '../fixtures/map-dag-tasks.ts';
import { executors } from './support.ts';

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
