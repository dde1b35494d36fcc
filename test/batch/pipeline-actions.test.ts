/** Pipelines: chained actions over a dataset's batches, epochs, shuffling and lazy runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, ValidationError, withRun } from 'weftjs';
import { type Batch, Dataset, type GenOptions, Pipeline } from 'weftjs/batch';
import { Labels, Loaded, Numbers } from './support/pipeline-batches.ts';

const numbers = (length: number) =>
  new Dataset(
    Array.from({ length }, (_, i) => i),
    Numbers,
  );

/** Every batch of `pipeline.gen(options)`: its ids and data. */
async function batchesOf(
  pipeline: { gen(options: GenOptions): AsyncIterable<Batch> },
  options: GenOptions,
): Promise<{ ids: unknown[]; data: unknown }[]> {
  const seen: { ids: unknown[]; data: unknown }[] = [];
  for await (const batch of pipeline.gen(options)) {
    seen.push({ ids: [...batch.indices], data: batch.data });
  }
  return seen;
}

describe('Pipeline: actions', () => {
  it('runs every chained action on each batch, the last one partial', async () => {
    const pipeline = numbers(10).pipeline().plusOne().times(10).plusOne();
    assert.deepEqual(await batchesOf(pipeline, { batchSize: 4 }), [
      { ids: [0, 1, 2, 3], data: [11, 21, 31, 41] },
      { ids: [4, 5, 6, 7], data: [51, 61, 71, 81] },
      { ids: [8, 9], data: [91, 101] },
    ]);
  });

  it('drops the last partial batch with dropLast', async () => {
    const sizes = (await batchesOf(numbers(10).pipeline(), { batchSize: 4, dropLast: true })).map(
      ({ ids }) => ids.length,
    );
    assert.deepEqual(sizes, [4, 4]);
    assert.deepEqual(await numbers(10).pipeline().run({ batchSize: 4, dropLast: true }), {
      batches: 2,
      items: 8,
    });
  });

  it('passes over the dataset nEpochs times', async () => {
    const seen = await batchesOf(numbers(5).pipeline(), { batchSize: 2, nEpochs: 2 });
    assert.deepEqual(
      seen.map(({ ids }) => ids),
      [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]],
    );
    assert.deepEqual(await numbers(5).pipeline().run({ batchSize: 2, nEpochs: 3 }), {
      batches: 9,
      items: 15,
    });
  });

  it('goes on with the batch an action returns, and stays on the batch otherwise', async () => {
    const seen: Batch[] = [];
    for await (const batch of numbers(3)
      .pipeline()
      .plusOne()
      .labelled('n')
      .shout()
      .gen({ batchSize: 2 })) {
      seen.push(batch);
    }
    assert.ok(seen.every((batch) => batch instanceof Labels));
    assert.deepEqual(
      seen.map((batch) => batch.data),
      [['N1', 'N2'], ['N3']],
    );
    assert.deepEqual(seen[1]!.indices, [2]);
  });

  it('awaits async actions and parallel ones', async () => {
    const log: number[] = [];
    const pipeline = numbers(5).pipeline().times(2).square(log).plusOne();
    assert.deepEqual(
      (await batchesOf(pipeline, { batchSize: 3 })).map(({ data }) => data),
      [
        [1, 5, 17],
        [37, 65],
      ],
    );
    assert.deepEqual(log.sort(), [0, 1, 2, 3, 4]);
  });

  it('loads the items of a dataset of ids with a run_once action', async () => {
    const seen = await batchesOf(new Dataset(5, Loaded).pipeline().load(10), { batchSize: 3 });
    assert.deepEqual(seen, [
      { ids: [0, 1, 2], data: [0, 10, 20] },
      { ids: [3, 4], data: [30, 40] },
    ]);
  });

  it('is immutable: each chained call makes a new pipeline, so one can branch', async () => {
    const base = numbers(2).pipeline().plusOne();
    const doubled = base.times(2);
    const tripled = base.times(3);
    assert.notEqual(base, doubled);
    assert.ok(doubled instanceof Pipeline);
    assert.deepEqual(
      base.steps.map(({ name }) => name),
      ['plusOne'],
    );
    assert.deepEqual(doubled.steps, [
      { name: 'plusOne', args: [] },
      { name: 'times', args: [2] },
    ]);
    assert.deepEqual((await batchesOf(tripled, { batchSize: 2 }))[0]!.data, [3, 6]);
  });
});

describe('Pipeline: shuffle', () => {
  const order = async (shuffle: boolean | number, nEpochs = 2) =>
    (await batchesOf(numbers(12).pipeline(), { batchSize: 5, shuffle, nEpochs })).map(
      ({ ids }) => ids,
    );

  it('shuffles each epoch anew, the same way for the same seed', async () => {
    const first = await order(7);
    assert.deepEqual(await order(7), first);
    assert.notDeepEqual(await order(8), first);
    assert.deepEqual(
      first.map((ids) => ids.length),
      [5, 5, 2, 5, 5, 2],
    );
    const epochs = [first.slice(0, 3).flat(), first.slice(3).flat()];
    for (const epoch of epochs) {
      assert.deepEqual(
        [...epoch].sort((a, b) => Number(a) - Number(b)),
        numbers(12).indices,
      );
    }
    assert.notDeepEqual(epochs[0], epochs[1], 'each epoch its own order');
    assert.notDeepEqual(epochs[0], numbers(12).indices);
  });

  it('draws the same order everywhere and in every version: a resumed run relies on it', async () => {
    const ids = (
      await batchesOf(new Dataset(12).pipeline(), {
        batchSize: 12,
        shuffle: 7,
        nEpochs: 2,
      })
    ).map(({ ids }) => ids);
    assert.deepEqual(ids, [
      [11, 0, 9, 1, 2, 10, 6, 7, 8, 5, 4, 3],
      [4, 1, 2, 10, 3, 0, 9, 8, 7, 6, 5, 11],
    ]);
  });

  it('takes the seed of shuffle: true from the run id inside a run', async () => {
    const store = new MemoryStore();
    const inRun = (runId: string) => withRun({ store, runId }, () => order(true, 1));
    const first = await inRun('shuffled');
    assert.deepEqual(await inRun('shuffled'), first, 'a resumed run makes the same batches');
    assert.notDeepEqual(await inRun('another'), first);
    // Outside a run: a permutation, in no promised order.
    const random = (await order(true, 1)).flat();
    assert.deepEqual(
      [...random].sort((a, b) => Number(a) - Number(b)),
      numbers(12).indices,
    );
  });

  it('gives each pipeline of a run its own order, the same again when the run resumes', async () => {
    const store = new MemoryStore();
    const orders = (runId: string) =>
      withRun({ store, runId }, async () => [
        await order(true, 1),
        await order(true, 1),
        (
          await batchesOf(numbers(12).pipeline(), { batchSize: 5, shuffle: true, name: 'other' })
        ).map(({ ids }) => ids),
      ]);
    const [first, second, named] = await orders('pipelines');
    assert.notDeepEqual(second, first, 'pipeline and pipeline~2');
    assert.notDeepEqual(named, first, 'pipelines of other names');
    assert.deepEqual(await orders('pipelines'), [first, second, named]);
  });
});

describe('Pipeline: lazy run', () => {
  it('holds the options of run({ lazy: true }) for a later run or gen, which may override them', async () => {
    const lazy = numbers(10).pipeline().plusOne().run({ batchSize: 4, lazy: true });
    assert.ok(lazy instanceof Pipeline);
    assert.equal(typeof (lazy as { then?: unknown }).then, 'undefined');
    assert.deepEqual(lazy.runOptions, { batchSize: 4 });
    assert.deepEqual(await lazy.run(), { batches: 3, items: 10 });
    assert.deepEqual(await lazy.run({ batchSize: 5, nEpochs: 2 }), { batches: 4, items: 20 });
    assert.deepEqual(
      (await batchesOf(lazy.times(2), {})).map(({ data }) => data),
      [
        [2, 4, 6, 8],
        [10, 12, 14, 16],
        [18, 20],
      ],
      'chained calls keep the held options; gen uses them too',
    );
  });

  it('refuses to run with no batch size given or held, saying how to give one', async () => {
    const pipeline = numbers(3).pipeline().plusOne();
    await assert.rejects(
      pipeline.run(),
      (error) =>
        error instanceof ValidationError &&
        /pass \{ batchSize \}, or configure the pipeline with \.run\(\{ batchSize, lazy: true \}\)/.test(
          error.message,
        ),
    );
    assert.throws(() => pipeline.gen(), /needs a batch size/);
    await assert.rejects(pipeline.run({ nEpochs: 2, lazy: true }).run(), /needs a batch size/);
  });
});
