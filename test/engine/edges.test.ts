/** Edge cases of the engine found in review: each once hung, crashed or misled. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asyncPool, dag, EventBus, isWeftError, map, task, threads } from 'weftjs';

const flaky = task(
  'edges:flaky',
  () => {
    throw new Error('task failed');
  },
  {
    retries: 3,
    retryIf: () => {
      throw new Error('retryIf is broken');
    },
  },
);

const retriedOnClose = task('edges:retriedOnClose', (x: number) => x, {
  retries: 3,
  backoff: { delayMs: 1 },
});

describe('engine edges', () => {
  it('a retryIf that throws fails the task with that error instead of crashing', async () => {
    await assert.rejects(map([1], flaky), (error: Error) => {
      assert.equal((error as Error & { code?: string }).code, 'WEFT_TASK_FAILED');
      assert.match((error.cause as Error).message, /retryIf is broken/);
      return true;
    });
  });

  it('dag rejects a concurrency that is not a number ≥ 1 instead of never starting', async () => {
    for (const concurrency of [Number.NaN, 0, -1]) {
      await assert.rejects(Promise.resolve(dag([{ id: 'a', task: () => 1 }], { concurrency })), {
        code: 'WEFT_VALIDATION',
        message: /concurrency/,
      });
    }
  });

  it('an infinite timeout is no timeout; one beyond what a timer can wait is refused', async () => {
    const patient = task('edges:patient', async (x: number) => x, {
      timeoutMs: Number.POSITIVE_INFINITY,
    });
    assert.equal(patient.options.timeoutMs, undefined);
    assert.deepEqual(await map([1, 2], patient), [1, 2]);
    assert.throws(() => task('edges:tooLong', (x: number) => x, { timeoutMs: 3_000_000_000 }), {
      code: 'WEFT_VALIDATION',
      message: /timeoutMs/,
    });
  });

  it('a dag that fails validation leaves nothing listening on the caller signal', async () => {
    const bus = new EventBus();
    const ends: string[] = [];
    bus.on('dag:end', (event) => ends.push(event.scope));
    const controller = new AbortController();
    const bad = [{ id: 'a', task: () => 1, dependencies: ['missing'] }];
    await assert.rejects(Promise.resolve(dag(bad, { signal: controller.signal, events: bus })), {
      code: 'WEFT_VALIDATION',
    });
    const before = ends.length;
    controller.abort();
    assert.equal(ends.length, before);
  });

  it('closing an asyncPool fails the tasks waiting for a slot, and they are not retried', async () => {
    const pool = asyncPool({ concurrency: 1 });
    let release: () => void = () => {};
    const blocker = new Promise<number>((resolve) => {
      release = () => resolve(0);
    });
    let attempts = 0;
    const run = map(
      [0, 1, 2],
      (x: number) => {
        attempts++;
        return x === 0 ? blocker : x;
      },
      { executor: pool, concurrency: 3, onError: 'collect' },
    );
    const settled = run.then((values) => values);
    // Items 1 and 2 wait for the pool's only slot; closing fails them.
    await new Promise((resolve) => setImmediate(resolve));
    await pool.close();
    release();
    const values = await settled;
    assert.equal(values[0], 0);
    for (const value of values.slice(1))
      assert.ok(isWeftError(value, 'WEFT_EXECUTOR_CLOSED'), String(value));
    assert.equal(attempts, 1);
    await assert.rejects(map([1], retriedOnClose, { executor: pool }), (error: Error) => {
      assert.ok(isWeftError(error.cause, 'WEFT_EXECUTOR_CLOSED'));
      assert.equal((error as Error & { attempts: number }).attempts, 1);
      return true;
    });
  });

  it('a threads executor closed in the same tick as a run rejects it and starts no pool', async () => {
    const executor = threads({ workers: 1 });
    const run = map([1], retriedOnClose, { executor, onError: 'collect' });
    const settled = run.then((values) => values);
    await executor.close();
    const [value] = await settled;
    assert.ok(isWeftError(value, 'WEFT_EXECUTOR_CLOSED'), String(value));
  });
});
