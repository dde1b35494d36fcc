/**
 * Aborts on a weft worker: a task's timeout is enforced where it runs, and its failure is
 * written even when the task ignores its signal and no orchestrator listens any more; a
 * cancel message aborts a running task, and one heard before a job starts keeps it from
 * starting; a cancel sent before a job was added (a resumed run adding it again) does not
 * touch it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startWorker } from 'weftjs/bullmq';
import { redisUrl } from '../fixtures/services.ts';
import { progressOf, servedQueue, testQueue } from './support/worker-queue.ts';
import * as tasks from './support/worker-tasks.ts';

// One job at a time, so that a job can be kept waiting behind another.
const { queue } = servedQueue('wabort', { concurrency: 1 });

describe('weft worker: timeouts', () => {
  it('fails a task past its timeoutMs with WEFT_TIMEOUT, also when it ignores its signal and nobody waits', async () => {
    const [id] = await queue.add({ task: tasks.ignoresTimeout, key: 'k/slow' });
    const outcome = await queue.outcome(id!, 10_000);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.code, 'WEFT_TIMEOUT');
    assert.equal(outcome.error?.name, 'TimeoutError');
    assert.equal(
      outcome.error?.message,
      "Task 'worker-test:ignoresTimeout' (k/slow) timed out after 200 ms on attempt 1; its signal was aborted.",
    );
    // Its clock started when the task did, and the task was given its grace to wind down.
    assert.ok(outcome.durationMs! >= 200, String(outcome.durationMs));
    assert.deepEqual(
      queue.repliesOf(id!).map((reply) => reply.type),
      ['started', 'progress', 'outcome'],
    );
    assert.match(await queue.failedReason(id!), /timed out after 200 ms/);
  });

  it("aborts the task's signal at the timeout; what it reports on its way out comes before the outcome", async () => {
    const [id] = await queue.add({ task: tasks.timedUntilAborted, key: 'k/timed' });
    const outcome = await queue.outcome(id!);
    assert.equal(outcome.error?.code, 'WEFT_TIMEOUT');
    assert.equal(outcome.progress, 2);
    const aborted = await queue.reply(
      'the aborted progress',
      progressOf(id!, `aborted: ${outcome.error!.message}`),
    );
    assert.ok(queue.replies.indexOf(aborted) < queue.replies.indexOf(outcome));
  });
});

describe('weft worker: cancels', () => {
  it('aborts a running task with the reason of the cancel message', async () => {
    const [id] = await queue.add({ task: tasks.untilAborted });
    await queue.reply('the started progress', progressOf(id!, 'started'));
    await queue.cancel([id!], 'the fan-out failed fast');
    const outcome = await queue.outcome(id!);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, 'AbortError');
    assert.equal(outcome.error?.message, 'the fan-out failed fast');
    await queue.reply('the aborted progress', progressOf(id!, 'aborted: the fan-out failed fast'));
    assert.equal(await queue.failedReason(id!), 'the fan-out failed fast');
  });

  it('keeps a job cancelled before it started from starting', async () => {
    const [holder] = await queue.add({ task: tasks.untilAborted });
    await queue.reply('the holder started', progressOf(holder!, 'started'));
    const [waiting] = await queue.add({ task: tasks.sleeps, input: 1 });
    await queue.cancel([waiting!], 'not needed any more');
    await queue.cancel([holder!], 'done holding');
    await queue.outcome(holder!);
    const outcome = await queue.outcome(waiting!);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, 'not needed any more');
    // It never ran: no start, no progress.
    assert.equal(outcome.startedAt, -1);
    assert.deepEqual(
      queue.repliesOf(waiting!).map((reply) => reply.type),
      ['outcome'],
    );
    assert.equal(await queue.failedReason(waiting!), 'not needed any more');
  });

  it('does not cancel a job added after the cancel was sent', async () => {
    const sentBefore = Date.now() - 60_000;
    const [running] = await queue.add({ task: tasks.untilAborted });
    await queue.reply('the job started', progressOf(running!, 'started'));
    // Sent before the job was added: a cancel of an earlier job of the same id.
    await queue.cancel([running!], 'an old cancel', sentBefore);
    const [waiting] = await queue.add({ task: tasks.double, input: 3 });
    await queue.cancel([waiting!], 'an old cancel', sentBefore);
    // Only the cancel sent now ends the running job, with its own reason.
    await queue.cancel([running!], 'a new cancel');
    assert.equal((await queue.outcome(running!)).error?.message, 'a new cancel');
    assert.equal(queue.valueOf(await queue.outcome(waiting!)), 6);
  });

  it('ignores cancel messages that are not of the format', async () => {
    const [id] = await queue.add({ task: tasks.untilAborted });
    await queue.reply('the job started', progressOf(id!, 'started'));
    for (const text of [
      'not json',
      '{"jobs": "x"}',
      `{"jobs": [${JSON.stringify(id)}, 5], "reason": {"name": "Error", "message": "mixed"}}`,
      'null',
    ]) {
      await queue.publishRaw(text);
    }
    await queue.cancel([id!], 'a proper cancel');
    assert.equal((await queue.outcome(id!)).error?.message, 'a proper cancel');
    // A cancel whose reason cannot be read still cancels, with a reason of its own.
    const [other] = await queue.add({ task: tasks.untilAborted });
    await queue.reply('the job started', progressOf(other!, 'started'));
    await queue.publishRaw(JSON.stringify({ jobs: [other], reason: 'text' }));
    const outcome = await queue.outcome(other!);
    assert.match(outcome.error!.message, /cancelled by the process that added it/);
  });
});

describe('weft worker: aborts on a processes executor', () => {
  it('sends what a task reports after its timeout from a child process, after the outcome', async () => {
    const pooled = testQueue('wabortp');
    const processes = await startWorker({
      connection: redisUrl,
      queue: pooled.name,
      executor: 'processes',
      workers: 1,
    });
    try {
      const [id] = await pooled.add({ task: tasks.timedUntilAborted, key: 'k/pool' });
      const outcome = await pooled.outcome(id!, 30_000);
      assert.equal(outcome.error?.code, 'WEFT_TIMEOUT');
      await pooled.reply(
        'the aborted progress from the child process',
        progressOf(id!, `aborted: ${outcome.error!.message}`),
      );
    } finally {
      await processes.close();
    }
  });
});
