/** map: failures (onError 'throw' and 'collect') and retries. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asyncPool,
  EventBus,
  type Executor,
  inline,
  map,
  type TaskContext,
  TaskFailedError,
} from 'weftjs';
import {
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
  records,
  waitForAbort,
} from '../fixtures/map-dag-tasks.ts';
import { executors } from './support.ts';

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
