/**
 * Pipelines in a run: each batch's parallel items are recorded under the batch's key
 * (`pipeline/<n>/<method>/<i>`), `run` records each batch, and a resumed run skips the
 * batches that finished and, in the batch cut short, the items that did.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, withRun } from 'weftjs';
import { Dataset } from 'weftjs/batch';
import { Numbers } from './support/pipeline-batches.ts';

const numbers = (length: number) =>
  new Dataset(
    Array.from({ length }, (_, i) => i),
    Numbers,
  );

/** The keys a run recorded, without the run id, sorted. */
async function keysOf(store: MemoryStore, runId: string): Promise<string[]> {
  const records = await store.listTasks(runId);
  return records.map(({ key }) => key.slice(runId.length + 1)).sort();
}

describe('Pipeline: keys in a run', () => {
  it('run records each batch and its parallel items under pipeline/<n>, batches at once apart', async () => {
    const store = new MemoryStore();
    const log: number[] = [];
    const summary = await withRun({ store, runId: 'keys-run' }, () =>
      numbers(5).pipeline().square(log).run({ batchSize: 2, prefetch: 2 }),
    );
    assert.deepEqual(summary, { batches: 3, items: 5 });
    assert.deepEqual(await keysOf(store, 'keys-run'), [
      'pipeline/0',
      'pipeline/0/square/0',
      'pipeline/0/square/1',
      'pipeline/1',
      'pipeline/1/square/0',
      'pipeline/1/square/1',
      'pipeline/2',
      'pipeline/2/square/0',
    ]);
    const batchRecord = (await store.listTasks('keys-run')).find(
      ({ key }) => key === 'keys-run/pipeline/1',
    );
    assert.equal(batchRecord?.output, 2, "a batch's output is its item count");
  });

  it('gen records the parallel items, not the batches; a second pipeline gets pipeline~2', async () => {
    const store = new MemoryStore();
    await withRun({ store, runId: 'keys-gen' }, async () => {
      for await (const _ of numbers(3).pipeline().square([]).gen({ batchSize: 2 })) {
        // consumed
      }
      await numbers(1).pipeline().square([]).run({ batchSize: 1, name: 'second' });
      await numbers(1).pipeline().square([]).run({ batchSize: 1, name: 'second' });
    });
    assert.deepEqual(await keysOf(store, 'keys-gen'), [
      'pipeline/0/square/0',
      'pipeline/0/square/1',
      'pipeline/1/square/0',
      'second/0',
      'second/0/square/0',
      'second~2/0',
      'second~2/0/square/0',
    ]);
  });

  it('a resumed run skips finished batches, and the finished items of the batch cut short', async () => {
    const store = new MemoryStore();
    const attempt = (failing: number | undefined) => {
      const noted: number[] = [];
      const squared: number[] = [];
      const running = withRun({ store, runId: 'resumed' }, () =>
        numbers(10).pipeline().noted(noted).square(squared, failing).run({ batchSize: 4 }),
      );
      return { running, noted, squared };
    };
    const first = attempt(9);
    await assert.rejects(first.running, /item 9 fails/);
    assert.deepEqual(first.noted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const second = attempt(undefined);
    assert.deepEqual(await second.running, { batches: 3, items: 10 });
    assert.deepEqual(second.noted, [8, 9], 'batches 0 and 1 were skipped whole');
    assert.deepEqual(second.squared, [9], "item 8's square was recorded, item 9's runs again");
  });
});
