/**
 * Workers that die: a job whose worker died more often than the queue allows fails with a
 * WorkerCrashedError outcome naming its task (its orchestrator would otherwise wait for
 * ever), and a task that ends the child process running it on a `processes` executor
 * fails alone with the executor's own WorkerCrashedError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startWorker } from 'weftjs/bullmq';
import { redisUrl } from '../fixtures/services.ts';
import { testQueue } from './support/worker-queue.ts';
import * as tasks from './support/worker-tasks.ts';

describe('weft worker: workers that die', () => {
  it('fails a job that stalled more than maxStalledCount times with a WorkerCrashedError outcome', async () => {
    const queue = testQueue('wstall');
    const [id] = await queue.add({ task: tasks.double, input: 1, key: 'k/stalls' });
    // A worker that takes the job and dies with it: its lock is never renewed.
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const dying = new Worker(queue.name, () => new Promise<never>(() => {}), {
      connection,
      lockDuration: 500,
      skipLockRenewal: true,
      skipStalledCheck: true,
    });
    await new Promise<void>((resolve) => dying.once('active', () => resolve()));
    await dying.close(true);
    connection.disconnect();
    const worker = await startWorker({
      connection: redisUrl,
      queue: queue.name,
      maxStalledCount: 0,
      stalledIntervalMs: 200,
    });
    try {
      const outcome = await queue.outcome(id!);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.code, 'WEFT_WORKER_CRASHED');
      assert.match(
        outcome.error!.message,
        /^Task 'worker-test:double' \(k\/stalls\) did not finish: the weft worker running it died or stopped answering 1 time/,
      );
      assert.equal(outcome.startedAt, -1);
      assert.match(await queue.failedReason(id!), /stalled more than allowable limit/);
      assert.equal(worker.stats().failed, 1);
    } finally {
      await worker.close();
    }
  });

  it('fails a task that ends its child process with WEFT_WORKER_CRASHED, alone', async () => {
    const queue = testQueue('wcrash');
    const worker = await startWorker({
      connection: redisUrl,
      queue: queue.name,
      executor: 'processes',
      workers: 1,
    });
    try {
      assert.equal(worker.executor.name, 'processes');
      assert.equal(worker.concurrency, 2);
      const [crash, next] = await queue.add(
        { task: tasks.exits },
        { task: tasks.double, input: 6 },
      );
      const outcome = await queue.outcome(crash!, 30_000);
      assert.equal(outcome.error?.code, 'WEFT_WORKER_CRASHED');
      assert.equal(queue.valueOf(await queue.outcome(next!, 30_000)), 12);
      assert.ok((await queue.failedReason(crash!)).length > 0);
    } finally {
      await worker.close();
    }
  });
});
