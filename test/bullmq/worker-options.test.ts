/**
 * What `startWorker` refuses before taking any job: an executor that would send jobs back
 * to the queue, one it does not know, counts that are not counts, and a Redis that does
 * not answer (within its connect timeout, not after ioredis's endless retries).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError } from 'weftjs';
import { startWorker } from 'weftjs/bullmq';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import { rejectionOf } from './support/executor-helpers.ts';

const queue = freshQueue('wopts');

/** Why the worker `start` makes refuses to start. */
function refusal(start: () => Promise<unknown>): Promise<Error> {
  return rejectionOf(start(), 'the start');
}

describe('weft worker: options', () => {
  it("refuses 'bullmq' as its own executor: jobs would go back to the queue", async () => {
    const error = await refusal(() =>
      startWorker({ connection: redisUrl, queue, executor: 'bullmq' }),
    );
    assert.ok(isWeftError(error, 'WEFT_VALIDATION'));
    assert.match(error.message, /cannot be 'bullmq'/);
  });

  it('refuses an executor it does not know, listing those it does', async () => {
    const error = await refusal(() =>
      startWorker({ connection: redisUrl, queue, executor: 'gpu' }),
    );
    assert.match(error.message, /Unknown executor 'gpu'.*asyncPool, threads, processes or inline/);
  });

  it('refuses counts that are not whole numbers ≥ 1', async () => {
    for (const options of [{ concurrency: 0 }, { workers: 1.5 }, { lockDurationMs: -1 }]) {
      const error = await refusal(() => startWorker({ connection: redisUrl, queue, ...options }));
      assert.ok(isWeftError(error, 'WEFT_VALIDATION'), JSON.stringify(options));
    }
  });

  it('fails fast with RedisUnreachableError when Redis does not answer', async () => {
    const from = Date.now();
    const error = await refusal(() =>
      startWorker({ connection: 'redis://127.0.0.1:1', queue, connectTimeoutMs: 1000 }),
    );
    assert.ok(isWeftError(error, 'WEFT_REDIS_UNREACHABLE'), String(error));
    assert.match(error.message, /Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    assert.ok(Date.now() - from < 5000, `${Date.now() - from} ms`);
  });

  it('defaults: asyncPool with 16 jobs at once, or twice the workers of a pool', async () => {
    const worker = await startWorker({ connection: redisUrl, queue });
    assert.equal(worker.executor.name, 'asyncPool');
    assert.equal(worker.concurrency, 16);
    await worker.close();
    const threads = await startWorker({
      connection: redisUrl,
      queue,
      executor: 'threads',
      workers: 3,
    });
    assert.equal(threads.executor.name, 'threads');
    assert.equal(threads.concurrency, 6);
    await threads.close();
  });
});
