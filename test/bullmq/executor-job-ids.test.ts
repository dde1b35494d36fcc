/**
 * The bullmq executor's job ids: derived from the run id, the task key and the attempt,
 * so that a resumed run adding an attempt again finds the job in flight (BullMQ adds no
 * second one), takes the outcome of a job that finished while no orchestrator read the
 * run's stream, and runs again a job that failed; any key gives a valid, distinct id.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { EventBus, MemoryStore, map, openStore, withRun } from 'weftjs';
import { bullmq, startWorker } from 'weftjs/bullmq';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import {
  invocationOf,
  queueOf,
  replyTimedOut,
  runOf,
  runOn,
  until,
  within,
} from './support/executor-helpers.ts';
import * as tasks from './support/executor-tasks.ts';
import { readQueueAdds } from './support/queue-adds.ts';
import { startWorkers } from './support/workers.ts';

/** A job id in a run: `r-` and 43 characters of base64url. */
const runJobId = /^r-[A-Za-z0-9_-]{43}$/;

/** Deletes the run streams of queue `name`: what a resume long after finds of them. */
async function deleteRunStreams(name: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const streams = await redis.keys(`bull:${name}:weft:replies:run:*`);
    if (streams.length > 0) await redis.del(...streams);
  } finally {
    redis.disconnect();
  }
}

describe('bullmq job ids', () => {
  it('come from the run, the key and the attempt: a resumed run adds no second job for an attempt still waiting', async () => {
    const name = freshQueue('ids');
    const queue = queueOf(name);
    const store = new MemoryStore();
    const keys = ['ids/map/0', 'ids/map/1', 'ids/map/2'];
    // No worker yet: the jobs wait in the queue.
    const first = bullmq({ connection: redisUrl, queue: name });
    const firstRun = runOf('ids', store, 1);
    const firstOutputs = keys.map((key, i) =>
      first.run(invocationOf(tasks.echo, i, key, { run: firstRun })),
    );
    await until('3 jobs waiting', async () => (await queue.getWaitingCount()) === 3);
    const waiting = (await queue.getWaiting()).map((job) => job.id!).sort();
    assert.equal(new Set(waiting).size, 3);
    for (const id of waiting) assert.match(id, runJobId);

    // The run resumed by another orchestrator: the same attempts, the same ids.
    const second = bullmq({ connection: redisUrl, queue: name });
    const resumed = runOf('ids', store, 2);
    const secondOutputs = keys.map((key, i) =>
      second.run(invocationOf(tasks.echo, i, key, { run: resumed })),
    );
    await until('3 adds found their job', async () => {
      return (await readQueueAdds(redisUrl, name)).duplicated === 3;
    });
    assert.deepEqual((await queue.getWaiting()).map((job) => job.id!).sort(), waiting);
    // Another attempt is another job.
    const retry = runOn(
      second,
      invocationOf(tasks.echo, 9, keys[0]!, { run: resumed, attempt: 2 }),
    );
    await until('the retry waits', async () => (await queue.getWaitingCount()) === 4);
    const adds = await readQueueAdds(redisUrl, name);
    assert.deepEqual([...adds.added.values()], [1, 1, 1, 1]);

    const worker = await startWorker({ connection: redisUrl, queue: name });
    try {
      assert.deepEqual(await within(Promise.all(secondOutputs), 'the resumed outputs'), [0, 1, 2]);
      assert.equal(await within(retry, 'the retry'), 9);
      // The first orchestrator, still waiting, hears the same outcomes on the run's stream.
      assert.deepEqual(await within(Promise.all(firstOutputs), 'the first outputs'), [0, 1, 2]);
      for (const key of keys) assert.equal(tasks.executions.get(key), key === keys[0] ? 2 : 1);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await worker.close();
    }
  });

  it('a resumed run takes the outcome of a job that finished while nobody read its stream, without adding it again', async () => {
    const name = freshQueue('ids');
    const store = new MemoryStore();
    const worker = await startWorker({ connection: redisUrl, queue: name });
    const first = bullmq({ connection: redisUrl, queue: name });
    const second = bullmq({ connection: redisUrl, queue: name });
    try {
      const key = 'finished/map/0';
      const output = await within(
        runOn(first, invocationOf(tasks.echo, 'done', key, { run: runOf('finished', store, 1) })),
        'the first run',
      );
      assert.equal(output, 'done');
      // Its orchestrator went away before recording it (never closed: nothing is cancelled).
      const again = await within(
        runOn(second, invocationOf(tasks.echo, 'done', key, { run: runOf('finished', store, 2) })),
        'the resumed run',
      );
      assert.equal(again, 'done');
      assert.equal(tasks.executions.get(key), 1);
      const adds = await readQueueAdds(redisUrl, name);
      assert.equal(adds.addCalls, 1, 'the resumed run added no job');
    } finally {
      await Promise.all([first.close(), second.close()]);
      await worker.close();
    }
  });

  it('a resumed run removes the failed job BullMQ keeps and runs the attempt again', async () => {
    const name = freshQueue('ids');
    const queue = queueOf(name);
    const store = new MemoryStore();
    const worker = await startWorker({ connection: redisUrl, queue: name });
    const first = bullmq({ connection: redisUrl, queue: name });
    const second = bullmq({ connection: redisUrl, queue: name });
    try {
      const key = 'failed/map/0';
      await assert.rejects(
        within(
          runOn(first, invocationOf(tasks.failFirst, 7, key, { run: runOf('failed', store, 1) })),
          'the first run',
        ),
        /first run of failed\/map\/0 fails/,
      );
      await until('the failed job kept', async () => (await queue.getFailedCount()) === 1);
      // The failure was trimmed from the run's stream (a resume days later): only the
      // failed job BullMQ keeps is left of the attempt.
      await deleteRunStreams(name);
      const again = await within(
        runOn(second, invocationOf(tasks.failFirst, 7, key, { run: runOf('failed', store, 2) })),
        'the resumed run',
      );
      assert.equal(again, 7);
      assert.equal(tasks.executions.get(key), 2);
      assert.equal(await queue.getFailedCount(), 0);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await worker.close();
    }
  });

  it('a resumed run adds again, under a new id, an attempt whose failure came while BullMQ still holds its job as active', async () => {
    const name = freshQueue('ids');
    const queue = queueOf(name);
    const store = new MemoryStore();
    const redis = new Redis(redisUrl);
    // A worker that takes the job and holds it active: it stands for a weft worker between
    // the failure's reply and BullMQ's move of the job to failed, held there for as long as
    // the test needs rather than for as long as a busy event loop happens to last.
    const holding = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const holder = new Worker(name, () => new Promise<never>(() => {}), { connection: holding });
    const first = bullmq({ connection: redisUrl, queue: name });
    const second = bullmq({ connection: redisUrl, queue: name });
    try {
      const key = 'window/map/0';
      const timedOut = runOn(
        first,
        invocationOf(tasks.windDownTimed, { ms: 60_000, busyMs: 0 }, key, {
          run: runOf('window', store, 1),
        }),
      );
      await until('the job active', async () => (await queue.getActiveCount()) === 1);
      const [job] = await queue.getActive();
      // The failure's reply, where and as a weft worker writes it when the task times out.
      await replyTimedOut(redis, job!);
      await assert.rejects(within(timedOut, 'the first attempt'), { code: 'WEFT_TIMEOUT' });
      // Its orchestrator went away; the run is resumed while the job is still active.
      assert.equal(await queue.getActiveCount(), 1, 'BullMQ still holds the job as active');
      await holder.close(true);
      await startWorkers(1, { queue: name });
      const again = await within(
        runOn(
          second,
          invocationOf(tasks.windDownTimed, { ms: 10, busyMs: 0 }, key, {
            run: runOf('window', store, 2),
          }),
        ),
        'the resumed run',
      );
      assert.equal(again, 'wound down');
      // The old job is still where its worker left it: the resumed attempt was another job.
      assert.equal(await queue.getJobState(job!.id!), 'active');
    } finally {
      await holder.close(true);
      holding.disconnect();
      redis.disconnect();
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("a run resumed at once after its orchestrator closed runs the attempt again, without the close's cancel", async () => {
    const name = freshQueue('ids');
    const queue = queueOf(name);
    const store = new MemoryStore();
    // A worker process, whose task keeps it busy when cancelled: it has not replied yet
    // when the run is resumed.
    await startWorkers(1, { queue: name });
    const first = bullmq({ connection: redisUrl, queue: name });
    const second = bullmq({ connection: redisUrl, queue: name });
    try {
      const key = 'closed/map/0';
      const closed = runOn(
        first,
        invocationOf(tasks.windDown, { ms: 60_000, busyMs: 2_000 }, key, {
          run: runOf('closed', store, 1),
        }),
      );
      await until('the job runs', async () => (await queue.getActiveCount()) === 1);
      await first.close();
      await assert.rejects(closed, { code: 'WEFT_EXECUTOR_CLOSED' });
      const again = await within(
        runOn(
          second,
          invocationOf(tasks.windDown, { ms: 10, busyMs: 0 }, key, {
            run: runOf('closed', store, 2),
          }),
        ),
        'the resumed run',
      );
      assert.equal(again, 'wound down');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('a new run that reuses a run id is another run: the failed job BullMQ keeps of the earlier one does not stand in its way', async () => {
    const name = freshQueue('ids');
    const queue = queueOf(name);
    const worker = await startWorker({ connection: redisUrl, queue: name });
    const first = bullmq({ connection: redisUrl, queue: name });
    const second = bullmq({ connection: redisUrl, queue: name });
    try {
      const key = 'reused/map/0';
      // A memory store per process: each opens run 'nightly' for the first time.
      await assert.rejects(
        within(
          runOn(
            first,
            invocationOf(tasks.failFirst, 1, key, {
              run: runOf('nightly', new MemoryStore(), 1),
            }),
          ),
          'the first run',
        ),
        /first run of reused\/map\/0 fails/,
      );
      await until('the failed job kept', async () => (await queue.getFailedCount()) === 1);
      const again = await within(
        runOn(
          second,
          invocationOf(tasks.failFirst, 2, key, { run: runOf('nightly', new MemoryStore(), 1) }),
        ),
        'the new run',
      );
      assert.equal(again, 2);
      assert.equal(tasks.executions.get(key), 2);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await worker.close();
    }
  });

  it('hostile keys give valid, distinct job ids and round-trip in a run on SQLite', async () => {
    const name = freshQueue('ids');
    const queue = queueOf(name);
    const dir = mkdtempSync(join(tmpdir(), 'weft-bullmq-ids-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const hostile = [
      '\uD800',
      '\uDC00',
      '\uD800\uDC00',
      'a\0b',
      'a\0c',
      '__proto__',
      'constructor',
      'x'.repeat(20_000),
      'x'.repeat(20_001),
      'a/b',
      'a%2Fb',
      ':',
      '',
      '123',
      ' ',
    ];
    const worker = await startWorker({ connection: redisUrl, queue: name });
    // Completed jobs kept, to read their ids.
    const executor = bullmq({
      connection: redisUrl,
      queue: name,
      jobOptions: { removeOnComplete: false },
    });
    const url = `sqlite:${join(dir, 'weft.db')}`;
    try {
      const bus = new EventBus();
      const keys: string[] = [];
      bus.on('task:start', (event) => {
        keys[event.item as number] = event.key;
      });
      const run = async () => {
        const store = await openStore(url);
        try {
          return await withRun({ store, runId: 'hostile' }, () =>
            map(hostile, tasks.keyOf, {
              executor,
              itemKey: (item) => item as string,
              events: bus,
            }),
          );
        } finally {
          await store.close();
        }
      };
      const outputs = await within(run(), 'the run');
      assert.equal(keys.length, hostile.length);
      assert.equal(new Set(keys).size, hostile.length);
      // Each task saw its key exactly as the orchestrator made it.
      assert.deepEqual(outputs, keys);
      // A worker moves a job to completed just after its outcome is written: the last may lag.
      await until(
        'every job completed',
        async () => (await queue.getCompletedCount()) === hostile.length,
      );
      const ids = (await queue.getCompleted()).map((job) => job.id!);
      assert.equal(ids.length, hostile.length);
      assert.equal(new Set(ids).size, hostile.length);
      for (const id of ids) assert.match(id, runJobId);

      // Resumed: every key is found in the store, no job is added.
      const before = (await readQueueAdds(redisUrl, name)).addCalls;
      keys.length = 0;
      assert.deepEqual(await within(run(), 'the resumed run'), outputs);
      assert.equal((await readQueueAdds(redisUrl, name)).addCalls, before);
    } finally {
      await executor.close();
      await worker.close();
    }
  });
});
