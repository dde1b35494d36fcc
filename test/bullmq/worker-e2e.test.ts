/**
 * The worker behind the bullmq executor, end to end: `map` over a queue served by an
 * in-process `startWorker` returns the values in order, hears progress, gets a task's
 * error and a refused output back, times tasks out where they run, and aborts running
 * tasks on the worker when a fan-out fails fast.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventBus, type Executor, isWeftError, map } from 'weftjs';
import { bullmq, startWorker, type WeftWorker } from 'weftjs/bullmq';
import { freshQueue, redisUrl } from '../fixtures/services.ts';
import { rejectionOf, within } from './support/executor-helpers.ts';
import * as tasks from './support/worker-tasks.ts';

const queue = freshQueue('we2e');
let worker: WeftWorker;
let executor: Executor;

before(async () => {
  worker = await startWorker({ connection: redisUrl, queue, concurrency: 8 });
  executor = bullmq({ connection: redisUrl, queue });
});
after(async () => {
  await executor?.close();
  await worker?.close();
});

describe('weft worker behind bullmq()', () => {
  it('runs a map: values in input order', async () => {
    const inputs = Array.from({ length: 500 }, (_, i) => i);
    assert.deepEqual(
      await map(inputs, tasks.double, { executor }),
      inputs.map((n) => n * 2),
    );
  });

  it("reports the tasks' progress to the fan-out", async () => {
    const events = new EventBus();
    const progress: unknown[] = [];
    events.on('task:progress', (event) => progress.push(event.progress));
    assert.deepEqual(await map([2, 3], tasks.reports, { executor, events }), [2, 3]);
    assert.equal(progress.length, 5);
  });

  it("gets a task's error and a refused output back, each failing its own item", async () => {
    const thrown = await map(['input'], tasks.throws, { executor, onError: 'collect' });
    assert.equal((thrown[0] as Error).name, 'TypeError');
    assert.equal((thrown[0] as Error).message, 'bad input');
    const refused = await map([0], tasks.returnsFunction, { executor, onError: 'collect' });
    assert.ok(isWeftError(refused[0], 'WEFT_NOT_CLONEABLE'));
    assert.match((refused[0] as Error).message, /'worker-test:returnsFunction'/);
  });

  it('times a task out where it runs', async () => {
    const error = await rejectionOf(map(['x'], tasks.ignoresTimeout, { executor }), 'the map');
    assert.ok(isWeftError(error, 'WEFT_TASK_FAILED'));
    assert.ok(isWeftError(error.cause, 'WEFT_TIMEOUT'));
  });

  it('aborts a running task on the worker when its fan-out fails fast', async () => {
    tasks.failFast.reset();
    const error = await rejectionOf(
      map([0, 1], tasks.hangsOrFails, { executor, concurrency: 2 }),
      'the map',
    );
    assert.ok(isWeftError(error, 'WEFT_TASK_FAILED'));
    assert.equal((error.cause as Error).message, 'item 1 fails');
    // The cancel reached the worker, which aborted the task still running there.
    const reason = await within(tasks.failFast.aborted.promise, 'the running task aborted');
    assert.ok(reason !== undefined);
  });
});
