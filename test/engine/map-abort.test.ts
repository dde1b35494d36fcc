/** map: stopping by AbortSignal and by timeout. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, inline, map, type TaskContext, TaskFailedError, TimeoutError } from 'weftjs';
import {
  deferred,
  deferreds,
  drainMicrotasks,
  guard,
  neverSettles,
  neverSettlesUnlessNumber,
  type SignalReport,
  slowFirstAttempt,
  waitForAbort,
  waitsOnSignal,
} from '../fixtures/map-dag-tasks.ts';

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
