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
import { type Executor, MemoryStore } from 'weftjs';
import { bullmq, startWorker } from 'weftjs/bullmq';
import { freshQueue } from '../fixtures/services.ts';
import { invocationOf, runOf, runOn, until, within } from './support/executor-helpers.ts';
import * as tasks from './support/executor-tasks.ts';
import { type OwnRedis, startOwnRedis } from './support/own-redis.ts';

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

/**
 * Hands `executor` a task outside a run, which waits in `queue` (no worker yet), kills
 * Redis, then hands it a new run's first task; returns both answers.
 */
async function newWorkWhileDown(executor: Executor, redis: OwnRedis, queue: string, label: string) {
  const before = runOn(executor, invocationOf(tasks.echo, 'before', `${label}/0`));
  await waitingJobs(redis.url, queue, 1);
  await redis.stop('SIGKILL');
  const during = runOn(
    executor,
    invocationOf(tasks.echo, 'during', `${label}/run/0`, {
      run: runOf(label, new MemoryStore(), 1),
    }),
  );
  return { before, during };
}

describe('bullmq executor: new work while Redis is out of reach', { timeout: 50_000 }, () => {
  it("a new run's first task waits for Redis to be back, then runs", async () => {
    const redis = await startOwnRedis();
    const queue = freshQueue('outage', redis.url);
    const executor = bullmq({ connection: redis.url, queue, reconnectTimeoutMs: 40_000 });
    try {
      const { before, during } = await newWorkWhileDown(executor, redis, queue, 'outage');
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
      const { before, during } = await newWorkWhileDown(executor, redis, queue, 'gone');
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
