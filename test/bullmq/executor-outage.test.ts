/**
 * The bullmq executor sent new work while Redis is out of reach, on a Redis of the
 * test's own: the work waits for Redis to be back, as the jobs in flight do, and runs
 * then (a new run's first task included: its stream is read once Redis answers), or
 * fails with a RedisUnreachableError once Redis stayed away longer than the executor
 * waits; never with a raw error of the Redis client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MemoryStore } from 'weftjs';
import { bullmq, startWorker } from 'weftjs/bullmq';
import { freshQueue } from '../fixtures/services.ts';
import { invocationOf, runOf, until, within } from './support/executor-helpers.ts';
import * as tasks from './support/executor-tasks.ts';
import { startOwnRedis } from './support/own-redis.ts';

/**
 * Longer than ioredis retries a command while its connection is lost (20 reconnections,
 * about 17 s with the executor's back-off), well within the executor's patience.
 */
const longOutageMs = 19_000;

/** Resolves once `count` jobs wait in `queue`: the executor is connected and sent them. */
async function waitingJobs(url: string, queue: string, count: number): Promise<void> {
  const redis = new Redis(url);
  try {
    await until(
      `${count} jobs waiting`,
      async () => (await redis.llen(`bull:${queue}:wait`)) === count,
    );
  } finally {
    redis.disconnect();
  }
}

describe('bullmq executor: new work while Redis is out of reach', { timeout: 50_000 }, () => {
  it("a new run's first task waits for Redis to be back, then runs", async () => {
    const redis = await startOwnRedis();
    const queue = freshQueue('outage', redis.url);
    const executor = bullmq({ connection: redis.url, queue, reconnectTimeoutMs: 40_000 });
    try {
      // Connected: a task outside a run waits in the queue (no worker yet).
      const before = Promise.resolve(executor.run(invocationOf(tasks.echo, 'before', 'outage/0')));
      before.catch(() => {});
      await waitingJobs(redis.url, queue, 1);
      await redis.stop('SIGKILL');
      const during = Promise.resolve(
        executor.run(
          invocationOf(tasks.echo, 'during', 'outage/run/0', {
            run: runOf('outage', new MemoryStore(), 1),
          }),
        ),
      );
      const settled = during.then(
        () => 'settled',
        (error: Error) => `failed: ${error.name}: ${error.message}`,
      );
      const early = await Promise.race([settled, sleep(longOutageMs, 'waiting')]);
      assert.equal(early, 'waiting', 'the task waited for Redis');
      await redis.start();
      const worker = await startWorker({ connection: redis.url, queue });
      try {
        assert.deepEqual(await within(Promise.all([before, during]), 'the tasks'), [
          'before',
          'during',
        ]);
      } finally {
        await worker.close();
      }
    } finally {
      await executor.close();
    }
  });

  it('fails new work with RedisUnreachableError once Redis stayed away longer than the executor waits', async () => {
    const redis = await startOwnRedis();
    const queue = freshQueue('outage', redis.url);
    const executor = bullmq({ connection: redis.url, queue, reconnectTimeoutMs: 1_500 });
    try {
      const before = Promise.resolve(executor.run(invocationOf(tasks.echo, 'before', 'gone/0')));
      before.catch(() => {});
      await waitingJobs(redis.url, queue, 1);
      await redis.stop('SIGKILL');
      const during = Promise.resolve(
        executor.run(
          invocationOf(tasks.echo, 'during', 'gone/run/0', {
            run: runOf('gone', new MemoryStore(), 1),
          }),
        ),
      );
      for (const task of [before, during]) {
        await assert.rejects(within(task, 'the failure'), (error: Error & { code?: unknown }) => {
          assert.equal(error.code, 'WEFT_REDIS_UNREACHABLE', String(error));
          assert.match(error.message, new RegExp(`Redis at ${redis.url.replace(/\./g, '\\.')} `));
          return true;
        });
      }
    } finally {
      await executor.close();
    }
  });
});
