/**
 * `startWorker` runs the jobs of a queue: each job's task on the worker's executor, its
 * outcome (value or error), progress and start written to the job's reply stream, failed
 * jobs marked failed in BullMQ, and a job whose task cannot be found failing alone with a
 * message naming the task, its module and the project root. Jobs are added with BullMQ's
 * own Queue and replies read from the stream (support/worker-queue.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { redisUrl } from '../fixtures/services.ts';
import { root } from '../fixtures/weft-cli.ts';
import { servedQueue } from './support/worker-queue.ts';
import * as tasks from './support/worker-tasks.ts';

const served = servedQueue('wjobs', { concurrency: 4 });
const { queue } = served;

const projectRoot = root.replace(/\/$/, '');

describe('weft worker: jobs', () => {
  it('serves the queue it was given from the project it was started in', () => {
    const { worker } = served;
    assert.equal(worker.queue, queue.name);
    assert.equal(worker.location, redisUrl);
    assert.equal(worker.executor.name, 'asyncPool');
    assert.equal(worker.concurrency, 4);
    assert.equal(worker.projectRoot, projectRoot);
  });

  it('runs a job and writes its outcome: the value, when it started and how long it ran', async () => {
    const from = Date.now();
    const [id] = await queue.add({ task: tasks.double, input: 21 });
    const outcome = await queue.outcome(id!);
    assert.equal(queue.valueOf(outcome), 42);
    // startedAt has a fraction of a millisecond, Date.now() none: one more for the rounding.
    assert.ok(outcome.startedAt! >= from - 5 && outcome.startedAt! <= Date.now() + 1);
    assert.ok(outcome.durationMs! >= 0 && outcome.durationMs! < 5000);
    assert.equal(outcome.progress, 0);
    assert.equal((await queue.finished(id!)).state, 'completed');
  });

  it('hands the task its key, attempt and a scope named by the key', async () => {
    const [id] = await queue.add({ task: tasks.context, key: 'run-1/map:x/7', attempt: 3 });
    assert.deepEqual(queue.valueOf(await queue.outcome(id!)), {
      key: 'run-1/map:x/7',
      attempt: 3,
      scope: 'run-1/map:x/7',
      aborted: false,
    });
  });

  it('writes progress replies before the outcome, which counts them', async () => {
    const [id] = await queue.add({ task: tasks.reports, input: 3 });
    const outcome = await queue.outcome(id!);
    assert.equal(outcome.progress, 3);
    const replies = queue.repliesOf(id!);
    assert.deepEqual(
      replies.map((reply) => reply.type),
      ['progress', 'progress', 'progress', 'outcome'],
    );
    assert.deepEqual(
      replies.slice(0, 3).map((reply) => reply.value),
      [1, 2, 3].map((done) => ({ done, total: 3 })),
    );
  });

  it('writes a started reply first for a timed task only', async () => {
    const [timed, untimed] = await queue.add(
      { task: tasks.timedDouble, input: 2 },
      { task: tasks.double, input: 2 },
    );
    assert.equal(queue.valueOf(await queue.outcome(timed!)), 4);
    assert.equal(queue.valueOf(await queue.outcome(untimed!)), 4);
    assert.deepEqual(
      queue.repliesOf(timed!).map((reply) => reply.type),
      ['started', 'outcome'],
    );
    assert.deepEqual(
      queue.repliesOf(untimed!).map((reply) => reply.type),
      ['outcome'],
    );
  });

  it("sends a task's error back with its name and message, and BullMQ marks the job failed", async () => {
    const [id] = await queue.add({ task: tasks.throws, input: 'input' });
    const outcome = await queue.outcome(id!);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, 'TypeError');
    assert.equal(outcome.error?.message, 'bad input');
    assert.ok(outcome.startedAt! > 0);
    assert.equal(await queue.failedReason(id!), 'bad input');
  });

  it('fails an output the serializer refuses with WEFT_NOT_CLONEABLE naming the task and what was found', async () => {
    const [id] = await queue.add({ task: tasks.returnsFunction, key: 'k/1' });
    const outcome = await queue.outcome(id!);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.code, 'WEFT_NOT_CLONEABLE');
    assert.match(outcome.error!.message, /^Task 'worker-test:returnsFunction' \(k\/1\) output /);
    assert.match(outcome.error!.message, /\.f is a function/);
    assert.match(await queue.failedReason(id!), /worker-test:returnsFunction/);
  });

  it('fails a job whose module is missing, naming the task, the module and the project root, and goes on', async () => {
    const module = './test/bullmq/support/no-such-module.ts';
    const [missing, next] = await queue.add(
      { task: { name: 'worker-test:gone', module } },
      { task: tasks.double, input: 5 },
    );
    const outcome = await queue.outcome(missing!);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.code, 'WEFT_UNKNOWN_TASK');
    const { message } = outcome.error!;
    assert.match(message, /'worker-test:gone'/);
    assert.ok(message.includes(module), message);
    assert.ok(message.includes(projectRoot), message);
    assert.equal(outcome.startedAt, -1);
    assert.equal(queue.valueOf(await queue.outcome(next!)), 10);
    assert.match(await queue.failedReason(missing!), /no-such-module\.ts/);
    // Known from now on: the next job of that module fails the same way.
    const [again] = await queue.add({ task: { name: 'worker-test:gone', module } });
    assert.equal((await queue.outcome(again!)).error?.message, message);
  });

  it('fails a task its module does not define, listing what it defines', async () => {
    const module = tasks.double.ref!.module;
    const [id] = await queue.add({ task: { name: 'worker-test:nope', module } });
    const outcome = await queue.outcome(id!);
    assert.equal(outcome.error?.code, 'WEFT_UNKNOWN_TASK');
    assert.match(outcome.error!.message, /No task named 'worker-test:nope' after importing/);
    assert.match(outcome.error!.message, /worker-test:double/);
    assert.ok(outcome.error!.message.includes(projectRoot));
  });

  it('refuses file URLs outside the project root, and URLs with a query or a hash', async () => {
    const outsideFile = join(mkdtempSync(join(tmpdir(), 'weft-outside-')), 'evil.mjs');
    writeFileSync(outsideFile, 'globalThis.weftOutsideRan = true;\n');
    const inside = pathToFileURL(join(projectRoot, tasks.double.ref!.module)).href;
    const outsideUrl = pathToFileURL(outsideFile).href;
    const name = tasks.double.name;
    const ids = await queue.add(
      { task: { name, module: outsideUrl } },
      { task: { name, module: `${inside}?fresh=1` } },
      { task: { name, module: `${inside}#again` } },
      { task: { name, module: inside }, input: 4 },
    );
    const [outside, query, hash, plain] = ids as [string, string, string, string];
    const escaped = (await queue.outcome(outside)).error!;
    assert.equal(escaped.code, 'WEFT_UNKNOWN_TASK');
    assert.ok(escaped.message.includes(outsideUrl), escaped.message);
    assert.ok(escaped.message.includes(projectRoot), escaped.message);
    assert.match(escaped.message, /outside the project root/);
    assert.match(escaped.message, /Define the task in a module inside the project/);
    assert.equal((globalThis as { weftOutsideRan?: unknown }).weftOutsideRan, undefined);
    for (const [id, module] of [
      [query, `${inside}?fresh=1`],
      [hash, `${inside}#again`],
    ] as const) {
      const { error } = await queue.outcome(id);
      assert.equal(error?.code, 'WEFT_UNKNOWN_TASK');
      assert.ok(error!.message.includes(module), error!.message);
      assert.match(error!.message, /has a query or a hash/);
    }
    // The same file by its plain URL runs.
    assert.equal(queue.valueOf(await queue.outcome(plain)), 8);
  });

  it('imports nothing but files of the project or file URLs', async () => {
    const [dataUrl, outside] = await queue.add(
      { task: { name: 'worker-test:x', module: 'data:text/javascript,globalThis.pwned=1' } },
      { task: { name: 'worker-test:x', module: './../../etc/passwd' } },
    );
    const refused = await queue.outcome(dataUrl!);
    assert.equal(refused.error?.code, 'WEFT_UNKNOWN_TASK');
    assert.match(refused.error!.message, /weft workers import nothing else/);
    assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
    const escaped = await queue.outcome(outside!);
    assert.match(escaped.error!.message, /outside the project root/);
  });

  it('counts what it did', async () => {
    const before = served.worker.stats();
    const [ok, bad] = await queue.add({ task: tasks.double, input: 1 }, { task: tasks.throws });
    await queue.outcome(ok!);
    await queue.outcome(bad!);
    await queue.failedReason(bad!);
    const after = served.worker.stats();
    assert.equal(after.completed - before.completed, 1);
    assert.equal(after.failed - before.failed, 1);
    assert.equal(after.running, 0);
  });
});
