/**
 * Jobs a weft worker did not expect on its queue: data that is not weft's, of another
 * version, with NUL characters or `__proto__` keys, naming another queue's reply stream,
 * or carrying an input no serializer wrote. Each fails alone, in BullMQ with a message
 * saying what is wrong, and the worker goes on with the next job.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisUrl } from '../fixtures/services.ts';
import { servedQueue, wireVersion } from './support/worker-queue.ts';
import * as tasks from './support/worker-tasks.ts';

const served = servedQueue('whostile', { concurrency: 2 });
const { queue } = served;
const { name } = queue;

/** Adds `data` as a job, then a good job after it, and checks that the good one still runs. */
async function refusedThenGoesOn(data: unknown): Promise<string> {
  const id = await queue.addRaw(data);
  const reason = await queue.failedReason(id);
  const [next] = await queue.add({ task: tasks.double, input: 4 });
  assert.equal(queue.valueOf(await queue.outcome(next!)), 8);
  return reason;
}

describe('weft worker: jobs that are not what it expects', () => {
  it("fails data that is not weft's, saying to give weft workers a queue of their own", async () => {
    for (const data of ['just text', 42, null, [], { task: 'x' }, { hello: 'world' }]) {
      const reason = await refusedThenGoesOn(data);
      assert.match(reason, /not added by a weft bullmq executor/, JSON.stringify(data));
      assert.match(reason, /queue of their own/);
    }
  });

  it('fails data of another version, naming both, and tells its orchestrator', async () => {
    const data = { ...queue.dataOf({ task: tasks.double, input: 1 }), v: wireVersion + 1 };
    const id = await queue.addRaw(data);
    const reason = await queue.failedReason(id);
    assert.match(reason, new RegExp(`wire version ${wireVersion + 1}`));
    assert.match(reason, new RegExp(`this worker speaks version ${wireVersion}`));
    // Its reply stream is one of this queue's: the orchestrator hears of it too.
    const outcome = await queue.outcome(id);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, reason);
    const [next] = await queue.add({ task: tasks.double, input: 2 });
    assert.equal(queue.valueOf(await queue.outcome(next!)), 4);
  });

  it('reads __proto__ keys as plain data and never as a prototype', async () => {
    const polluted = JSON.parse(
      `{"__proto__": ${JSON.stringify(queue.dataOf({ task: tasks.double, input: 3 }))}}`,
    ) as unknown;
    const reason = await refusedThenGoesOn(polluted);
    assert.match(reason, /not added by a weft bullmq executor/);
    assert.equal(({} as { task?: unknown }).task, undefined);
    // A job whose own fields are fine and which also has a __proto__ key runs.
    const good = JSON.parse(
      JSON.stringify(queue.dataOf({ task: tasks.double, input: 3 })).replace(
        /^\{/,
        '{"__proto__": {"task": "worker-test:throws"},',
      ),
    ) as unknown;
    const id = await queue.addRaw(good);
    assert.equal(queue.valueOf(await queue.outcome(id)), 6);
  });

  it('fails a task name, a module and a key holding NUL characters alone', async () => {
    const data = queue.dataOf({ task: tasks.double, input: 1 });
    const id = await queue.addRaw({
      ...data,
      task: 'worker-test:double\0evil',
      module: `${data.module as string}\0.js`,
      key: 'k\0ey',
    });
    const outcome = await queue.outcome(id);
    assert.equal(outcome.error?.code, 'WEFT_UNKNOWN_TASK');
    assert.ok(outcome.error!.message.includes("'worker-test:double\0evil'"));
    await queue.failedReason(id);
    const [next] = await queue.add({ task: tasks.double, input: 5 });
    assert.equal(queue.valueOf(await queue.outcome(next!)), 10);
  });

  it("refuses to write to another queue's reply stream", async () => {
    const other = `bull:${name}-other:weft:replies:own:x`;
    const reason = await refusedThenGoesOn({
      ...queue.dataOf({ task: tasks.double, input: 1 }),
      reply: other,
    });
    assert.match(reason, /is not one of this queue's/);
  });

  it('fails a job whose reply stream is a key of another type, and writes the others', async () => {
    const redis = new Redis(redisUrl);
    const taken = `bull:${name}:weft:replies:own:not-a-stream`;
    try {
      await redis.set(taken, 'a string');
      const bad = await queue.addRaw({
        ...queue.dataOf({ task: tasks.double, input: 1 }),
        reply: taken,
      });
      const [good] = await queue.add({ task: tasks.double, input: 7 });
      assert.match(await queue.failedReason(bad), /Could not write a reply to stream .*WRONGTYPE/);
      assert.equal(queue.valueOf(await queue.outcome(good!)), 14);
      assert.equal(await redis.get(taken), 'a string');
    } finally {
      await redis.del(taken);
      redis.disconnect();
    }
  });

  it('fails inputs that are not of the format, or that no serializer wrote', async () => {
    const data = queue.dataOf({ task: tasks.double, input: 1 });
    for (const input of [{ text: 5 }, { runId: 'r' }, 'text']) {
      const reason = await refusedThenGoesOn({ ...data, input });
      assert.match(reason, /not added by a weft bullmq executor/, JSON.stringify(input));
    }
    for (const attempt of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      const reason = await refusedThenGoesOn({ ...data, attempt });
      assert.match(reason, /attempt or input/, String(attempt));
    }
    const id = await queue.addRaw({ ...data, input: { text: 'not what a serializer writes' } });
    const outcome = await queue.outcome(id);
    assert.equal(outcome.error?.code, 'WEFT_NOT_CLONEABLE');
    assert.match(outcome.error!.message, /^Task 'worker-test:double' \(.*\) input cannot be read/);
    await queue.failedReason(id);
  });

  it('counts every refused job as failed and none as running', () => {
    const stats = served.worker.stats();
    assert.ok(stats.failed >= 15, JSON.stringify(stats));
    assert.equal(stats.running, 0);
  });
});
