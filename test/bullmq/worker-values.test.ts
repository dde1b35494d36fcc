/**
 * Large values on a weft worker: an output over the threshold goes through the worker's
 * store (PostgreSQL, which every machine reads) as an artifact of the job's run, and a
 * large input is read from it; without a store, or outside a run, the job fails saying
 * what to give the worker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultSerializer, openStore, type Store } from 'weftjs';
import { startWorker, type WeftWorker } from 'weftjs/bullmq';
import { freshPostgresSchema, freshQueue, redisUrl } from '../fixtures/services.ts';
import { TestQueue } from './support/worker-queue.ts';
import * as tasks from './support/worker-tasks.ts';

const schema = freshPostgresSchema('wvalues');
const runId = 'worker-values-run';
/** Small, so that values of a few kilobytes count as large. */
const largeValueBytes = 1024;
let store: Store;
let storeWorker: WeftWorker;
let bareWorker: WeftWorker;
const withStore = new TestQueue(freshQueue('wvstore'));
const without = new TestQueue(freshQueue('wvbare'));

before(async () => {
  store = await openStore(schema.url);
  await store.openRun(runId);
  storeWorker = await startWorker({
    connection: redisUrl,
    queue: withStore.name,
    store: schema.url,
    largeValueBytes,
  });
  bareWorker = await startWorker({ connection: redisUrl, queue: without.name, largeValueBytes });
});
after(async () => {
  await storeWorker?.close();
  await bareWorker?.close();
  await withStore.close();
  await without.close();
  await store?.close();
});

async function artifact(key: string): Promise<unknown> {
  const bytes = await store.getArtifact(runId, key);
  assert.ok(bytes, `artifact ${key}`);
  return defaultSerializer.decode(Buffer.from(bytes).toString('utf8'));
}

/** The data of a `lengthOf` job of the run whose input is the run's artifact `artifact`. */
function largeInputData(queue: TestQueue, artifact: string, bytes: number) {
  return { ...queue.dataOf({ task: tasks.lengthOf, runId }), input: { runId, artifact, bytes } };
}

describe('weft worker: large values', () => {
  it('opens the store it is given', () => {
    assert.equal(storeWorker.store?.kind, 'postgres');
    assert.equal(bareWorker.store, undefined);
  });

  it("sends a large output through its store, as an artifact of the job's run", async () => {
    const [id] = await withStore.add({ task: tasks.bigOutput, input: 5000, runId });
    const outcome = await withStore.outcome(id!);
    assert.equal(outcome.ok, true);
    const value = outcome.value as { runId: string; artifact: string; bytes: number };
    assert.deepEqual(value, {
      runId,
      artifact: `bullmq/${id}/output`,
      bytes: defaultSerializer.encode('x'.repeat(5000)).length,
    });
    assert.equal(await artifact(value.artifact), 'x'.repeat(5000));
  });

  it('keeps a small output inline', async () => {
    const [id] = await withStore.add({ task: tasks.bigOutput, input: 10, runId });
    assert.equal(withStore.valueOf(await withStore.outcome(id!)), 'x'.repeat(10));
  });

  it('reads a large input from its store', async () => {
    const text = defaultSerializer.encode('y'.repeat(7000));
    await store.putArtifact(runId, 'bullmq/in-1/input', Buffer.from(text, 'utf8'));
    const id = await withStore.addRaw(largeInputData(withStore, 'bullmq/in-1/input', text.length));
    assert.equal(withStore.valueOf(await withStore.outcome(id)), 7000);
  });

  it('fails a large input its store does not hold, naming the artifact', async () => {
    const id = await withStore.addRaw(largeInputData(withStore, 'bullmq/none/input', 9000));
    const outcome = await withStore.outcome(id);
    assert.equal(outcome.error?.code, 'WEFT_STORE_NOT_SHARED');
    assert.match(outcome.error!.message, /holds no artifact 'bullmq\/none\/input'/);
  });

  it('without a store, fails a large output of a run saying to start the worker with --store', async () => {
    const [id] = await without.add({ task: tasks.bigOutput, input: 5000, runId, key: 'k/big' });
    const outcome = await without.outcome(id!);
    assert.equal(outcome.error?.code, 'WEFT_STORE_NOT_SHARED');
    assert.match(
      outcome.error!.message,
      /^Task 'worker-test:bigOutput' \(k\/big\) output is too large/,
    );
    assert.match(outcome.error!.message, /start weft worker with --store/);
  });

  it('without a store, fails a large input saying to start the worker with --store', async () => {
    const id = await without.addRaw(largeInputData(without, 'bullmq/in-1/input', 7000));
    const outcome = await without.outcome(id);
    assert.equal(outcome.error?.code, 'WEFT_STORE_NOT_SHARED');
    assert.match(outcome.error!.message, /start it with --store/);
  });

  it('outside a run, fails a large output: there is no run to hold it', async () => {
    const [id] = await withStore.add({ task: tasks.bigOutput, input: 5000 });
    const outcome = await withStore.outcome(id!);
    assert.equal(outcome.error?.code, 'WEFT_STORE_NOT_SHARED');
    assert.match(outcome.error!.message, /outside a run/);
  });
});
