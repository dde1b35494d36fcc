/**
 * Cancelling through the bullmq executor: an aborted invocation settles at once with its
 * signal's reason; its job is removed from the queue while no worker holds it, and the
 * worker running it aborts the task's signal (the task's last progress still arrives).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from 'weftjs';
import { bullmq, startWorker } from 'weftjs/bullmq';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import {
  invocationOf,
  queueOf,
  rejectionOf,
  runOf,
  runOn,
  until,
  within,
} from './support/executor-helpers.ts';
import * as tasks from './support/executor-tasks.ts';

describe('bullmq executor cancellation', () => {
  it('removes the jobs of aborted invocations that no worker took', async () => {
    const name = freshQueue('cancel');
    const queue = queueOf(name);
    const executor = bullmq({ connection: redisUrl, queue: name });
    try {
      const controller = new AbortController();
      const outcomes = Array.from({ length: 5 }, (_, i) =>
        executor.run(
          invocationOf(tasks.echo, i, `cancel/waiting/${i}`, { signal: controller.signal }),
        ),
      );
      await until('5 jobs waiting', async () => (await queue.getWaitingCount()) === 5);
      const reason = new Error('no longer wanted');
      controller.abort(reason);
      for (const outcome of outcomes)
        assert.equal(await rejectionOf(outcome, 'the aborted invocation'), reason);
      await until('no job waiting', async () => (await queue.getWaitingCount()) === 0);
      assert.equal((await queue.getJobCounts()).active, 0);
    } finally {
      await executor.close();
    }
  });

  it('aborts the signal of a task running on a worker, whose last progress still arrives', async () => {
    const name = freshQueue('cancel');
    const queue = queueOf(name);
    const worker = await startWorker({ connection: redisUrl, queue: name });
    const executor = bullmq({ connection: redisUrl, queue: name });
    try {
      const controller = new AbortController();
      const reports: string[] = [];
      let started: () => void = () => {};
      let aborted: () => void = () => {};
      const runs = new Promise<void>((resolve) => {
        started = resolve;
      });
      const windsDown = new Promise<void>((resolve) => {
        aborted = resolve;
      });
      const outcome = executor.run(
        invocationOf(tasks.untilAborted, 1, 'cancel/running/0', {
          signal: controller.signal,
          progress: (value) => {
            const { message } = value as { message: string };
            reports.push(message);
            if (message === 'started') started();
            if (message === 'aborted') aborted();
          },
        }),
      );
      await within(runs, "the task's 'started' report");
      const reason = new Error('stop now');
      controller.abort(reason);
      assert.equal(await rejectionOf(outcome, 'the aborted invocation'), reason);
      await within(windsDown, "the task's 'aborted' report");
      assert.deepEqual(reports, ['started', 'aborted']);
      await until('the job no longer active', async () => (await queue.getActiveCount()) === 0);
    } finally {
      await executor.close();
      await worker.close();
    }
  });

  it('a run resumed at once in this process runs an attempt whose cancelled job still winds down', async () => {
    const name = freshQueue('cancel');
    const worker = await startWorker({ connection: redisUrl, queue: name });
    const executor = bullmq({ connection: redisUrl, queue: name });
    const store = new MemoryStore();
    try {
      const key = 'resumed/map/0';
      const controller = new AbortController();
      let started: () => void = () => {};
      const runs = new Promise<void>((resolve) => {
        started = resolve;
      });
      const first = executor.run(
        invocationOf(tasks.haltFirst, 'value', key, {
          run: runOf('resumed', store, 1),
          signal: controller.signal,
          progress: () => started(),
        }),
      );
      await within(runs, 'the first attempt running');
      const reason = new Error('fail fast');
      controller.abort(reason);
      // Resumed before the cancelled job's failure came back: that failure is not its own.
      const again = runOn(
        executor,
        invocationOf(tasks.haltFirst, 'value', key, { run: runOf('resumed', store, 2) }),
      );
      assert.equal(await rejectionOf(first, 'the aborted invocation'), reason);
      assert.equal(await within(again, 'the resumed attempt'), 'value');
      assert.equal(tasks.executions.get(key), 2);
    } finally {
      await executor.close();
      await worker.close();
    }
  });
});
