/**
 * How the bullmq executor reads its reply streams: an entry that is not a reply, or a
 * reply without a value or an error, fails at most the invocation it names, and the
 * replies after it are read as usual; progress a failed task reports after its outcome
 * (winding down after a timeout or a cancel) still reaches its invocation; a run's
 * stream nothing waits on is let go of, and read on from where it was when needed again.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryStore, type TaskInvocation } from 'weftjs';
import { bullmq, startWorker } from 'weftjs/bullmq';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import {
  invocationOf,
  queueOf,
  rejectionOf,
  replyTimedOut,
  runOf,
  runOn,
  until,
  within,
} from './support/executor-helpers.ts';
import * as tasks from './support/executor-tasks.ts';
import { readQueueAdds } from './support/queue-adds.ts';

/**
 * A queue no worker serves, the executor on it, and a connection to write replies as a
 * worker would, closed when the test is done. `waiting` runs an invocation and resolves
 * once its job waits, with the job and the reply stream it names (the executor's own).
 */
function withoutWorker() {
  const name = freshQueue('replies');
  const queue = queueOf(name);
  const redis = new Redis(redisUrl);
  const executor = bullmq({ connection: redisUrl, queue: name });
  after(async () => {
    await executor.close();
    redis.disconnect();
  });
  const waiting = async (invocation: TaskInvocation) => {
    const outcome = runOn(executor, invocation);
    await until('the job waiting', async () => (await queue.getWaitingCount()) === 1);
    const [job] = await queue.getWaiting();
    // Where the worker would reply: the job says.
    const stream = (job!.data as { reply: string }).reply;
    return { outcome, job: job!, stream };
  };
  return { name, queue, redis, executor, waiting };
}

describe('bullmq executor replies', () => {
  it('a malformed reply fails only the invocation it names, and reading goes on', async () => {
    const { name, queue, redis, executor, waiting } = withoutWorker();
    const { outcome, job, stream } = await waiting(invocationOf(tasks.echo, 1, 'replies/0'));
    assert.match(stream, new RegExp(`^bull:${name}:weft:replies:own:`));
    await redis.xadd(stream, '*', 'r', 'not json');
    await redis.xadd(stream, '*', 'other', 'field');
    await redis.xadd(stream, '*', 'r', JSON.stringify({ type: 'outcome', job: job.id }));
    const error = await rejectionOf(outcome, 'the malformed outcome');
    assert.match(error.message, /'executor-test:echo' \(replies\/0\)/);
    assert.match(error.message, /holds no value nor error/);

    await queue.remove(job.id!);
    const worker = await startWorker({ connection: redisUrl, queue: name });
    try {
      const value = runOn(executor, invocationOf(tasks.echo, 2, 'replies/1'));
      assert.equal(await within(value, 'the next invocation'), 2);
    } finally {
      await worker.close();
    }
  });

  it('progress a failed task reports after its outcome still reaches the invocation', async () => {
    const { redis, waiting } = withoutWorker();
    const reports: unknown[] = [];
    let reported: () => void = () => {};
    const windsDown = new Promise<void>((resolve) => {
      reported = resolve;
    });
    const { outcome, job, stream } = await waiting(
      invocationOf(tasks.echo, 1, 'late/0', {
        progress: (value) => {
          reports.push(value);
          reported();
        },
      }),
    );
    // As a worker replies for a task that timed out and reported on its way out later.
    const reply = (fields: object) => JSON.stringify({ job: job.id, ...fields });
    await replyTimedOut(redis, job);
    await redis.xadd(
      stream,
      '*',
      'r',
      reply({ type: 'progress', value: { done: 1, message: 'aborted' } }),
    );
    const error = await rejectionOf(outcome, 'the outcome');
    assert.equal(error.code, 'WEFT_TIMEOUT');
    await within(windsDown, 'the late progress');
    assert.deepEqual(reports, [{ done: 1, message: 'aborted' }]);
  });

  it("lets go of a run's stream once nothing waits on it, and reads on from where it was when the run comes back", async () => {
    const name = freshQueue('replies');
    const redis = new Redis(redisUrl);
    after(() => redis.disconnect());
    const worker = await startWorker({ connection: redisUrl, queue: name });
    const executor = bullmq({ connection: redisUrl, queue: name });
    // An orchestrator of the same run in another process.
    const other = bullmq({ connection: redisUrl, queue: name });
    try {
      const store = new MemoryStore();
      const run = () => runOf('idle', store, 1);
      assert.equal(
        await within(
          runOn(executor, invocationOf(tasks.echo, 'a', 'idle/0', { run: run() })),
          'the first task',
        ),
        'a',
      );
      const [stream] = await redis.keys(`bull:${name}:weft:replies:run:*`);
      // The executor trims what it read a while later: the stream is idle then.
      await until('the run stream trimmed', async () => (await redis.xlen(stream!)) === 0, 20_000);
      // Another task of the run finishes while this executor waits for nothing there.
      assert.equal(
        await within(
          runOn(other, invocationOf(tasks.echo, 'b', 'idle/1', { run: run() })),
          'the other task',
        ),
        'b',
      );
      // The run resumed in this process: the outcome that came meanwhile is taken, no job
      // is added.
      const adds = (await readQueueAdds(redisUrl, name)).addCalls;
      const again = runOn(
        executor,
        invocationOf(tasks.echo, 'b', 'idle/1', { run: runOf('idle', store, 2) }),
      );
      assert.equal(await within(again, 'the resumed task'), 'b');
      assert.equal((await readQueueAdds(redisUrl, name)).addCalls, adds, 'no job was added');
      assert.equal(tasks.executions.get('idle/1'), 1);
    } finally {
      await Promise.all([executor.close(), other.close()]);
      await worker.close();
    }
  });
});
