/**
 * Stopping a weft worker: `close()` stops taking jobs and lets those in flight finish,
 * their outcomes written; `close({ force: true })` aborts them at once and writes no
 * outcome, leaving them to another worker, which runs them again once their locks lapse.
 * A drain that does not wait for a Redis out of reach is tested through `weft worker`
 * (test/cli/cli-worker.test.ts): BullMQ's loops go on retrying in the process that gave up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startWorker } from 'weftjs/bullmq';
import { redisUrl } from '../fixtures/services.ts';
import { progressOf, testQueue } from './support/worker-queue.ts';
import * as tasks from './support/worker-tasks.ts';

describe('weft worker: close', () => {
  it('finishes the jobs in flight, writes their outcomes, and takes no new job', async () => {
    const queue = testQueue('wdrain');
    const worker = await startWorker({ connection: redisUrl, queue: queue.name, concurrency: 2 });
    const [inFlight] = await queue.add({ task: tasks.sleeps, input: 300 });
    await queue.reply('the job started', progressOf(inFlight!, 'started'));
    const closing = worker.close();
    const [late] = await queue.add({ task: tasks.double, input: 1 });
    await closing;
    await worker.closed;
    // The outcome was written before close resolved: it is in the stream already.
    assert.equal(queue.valueOf(await queue.outcome(inFlight!, 1)), 300);
    assert.equal((await queue.finished(inFlight!)).state, 'completed');
    assert.equal(await queue.state(late!), 'waiting');
    assert.deepEqual(worker.stats(), { completed: 1, failed: 0, running: 0 });
    // Closing again is the same close.
    await worker.close();
  });

  it('with force, aborts the jobs in flight and leaves them to another worker', async () => {
    const queue = testQueue('wforce');
    // Short locks and stalled checks, so that the job is handed on within a second or two.
    const fast = {
      connection: redisUrl,
      queue: queue.name,
      lockDurationMs: 1000,
      stalledIntervalMs: 300,
    };
    const first = await startWorker(fast);
    const [id] = await queue.add({ task: tasks.sleeps, input: 3000 });
    await queue.reply('the job started', progressOf(id!, 'started'));
    const from = Date.now();
    await first.close({ force: true });
    assert.ok(Date.now() - from < 2000, 'stopped at once, not after the job');
    assert.equal(await queue.state(id!), 'active');
    // A long lock of its own, so that its run is not handed on again while it goes.
    const second = await startWorker({ ...fast, lockDurationMs: 30_000 });
    try {
      const outcome = await queue.outcome(id!, 20_000);
      assert.equal(queue.valueOf(outcome), 3000);
      // No outcome from the first worker: the job's only outcome is the second run's.
      const replies = queue.repliesOf(id!).map((reply) => reply.type);
      assert.deepEqual(replies, ['progress', 'progress', 'outcome']);
      assert.equal((await queue.finished(id!)).state, 'completed');
    } finally {
      await second.close();
    }
  });

  it('stops when its signal aborts', async () => {
    const queue = testQueue('wsignal');
    const controller = new AbortController();
    const worker = await startWorker({
      connection: redisUrl,
      queue: queue.name,
      signal: controller.signal,
    });
    const [id] = await queue.add({ task: tasks.double, input: 2 });
    assert.equal(queue.valueOf(await queue.outcome(id!)), 4);
    controller.abort();
    await worker.closed;
    const [late] = await queue.add({ task: tasks.double, input: 1 });
    assert.equal(await queue.state(late!), 'waiting');
  });
});
