/**
 * The bullmq executor passes the executor conformance suite with real workers: a weft
 * worker on the suite's queue, running jobs on two child processes (a task of the suite
 * ends its process, and must fail alone with WEFT_WORKER_CRASHED).
 */
import { after, before } from 'node:test';
import { bullmq, startWorker, type WeftWorker } from 'weftjs/bullmq';
import { describeExecutorConformance } from 'weftjs/testing';
import { freshQueue, redisUrl } from '../fixtures/services.ts';

const queue = freshQueue('conf');
let worker: WeftWorker | undefined;

before(async () => {
  worker = await startWorker({
    connection: redisUrl,
    queue,
    executor: 'processes',
    workers: 2,
    concurrency: 8,
  });
});
after(async () => {
  await worker?.close({ force: true });
});

describeExecutorConformance('bullmq', () => bullmq({ connection: redisUrl, queue }), {
  remote: true,
});
