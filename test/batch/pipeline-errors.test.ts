/**
 * Pipelines refusing what they cannot do, saying why: methods that are no actions, names
 * no batch has, bad options. And a pipeline is no promise, and prints plainly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ValidationError } from 'weftjs';
import { Dataset, type GenOptions, Pipeline } from 'weftjs/batch';
import { Numbers, Thenable } from './support/pipeline-batches.ts';

const numbers = (length: number) =>
  new Dataset(
    Array.from({ length }, (_, i) => i),
    Numbers,
  );

/** A pipeline that chains names TypeScript does not know. */
const loose = (pipeline: Pipeline<Numbers>) =>
  pipeline as unknown as Record<string, (...args: unknown[]) => Pipeline<Numbers>>;

describe('Pipeline: refusals', () => {
  it('refuses a method that is not an action, naming it and the fix', async () => {
    const log: number[] = [];
    const pipeline = loose(numbers(4).pipeline().noted(log)).helper!();
    await assert.rejects(pipeline.run({ batchSize: 2 }), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /Numbers\.helper is not an action/);
      assert.match(error.message, /decorate it with @action/);
      return true;
    });
    assert.deepEqual(log, [0, 1], 'the first batch stopped there, and no other started');
  });

  it('refuses a name the batch has no method for, listing its actions', async () => {
    const pipeline = loose(numbers(4).pipeline()).plusOen!();
    assert.ok(
      pipeline instanceof Pipeline,
      'any name chains: a batch of another class may have it',
    );
    await assert.rejects(pipeline.run({ batchSize: 2 }), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /Numbers has no method 'plusOen'/);
      assert.match(error.message, /Its actions are: plusOne, times, labelled/);
      return true;
    });
    // Properties of a batch are not methods either.
    await assert.rejects(
      loose(numbers(1).pipeline()).length!().run({ batchSize: 1 }),
      /no method 'length'/,
    );
  });

  it('is not a promise: awaiting it gives it back and never calls an action named then', async () => {
    const pipeline = new Dataset(3, Thenable).pipeline();
    assert.equal((pipeline as { then?: unknown }).then, undefined);
    assert.equal(await pipeline, pipeline);
    assert.equal(await Promise.resolve(pipeline), pipeline);
    // A pipeline returned by an async function is not unwrapped either.
    assert.equal(await (async () => pipeline)(), pipeline);
  });

  it('prints its batch class and chained calls, and turns into JSON without calling anything', () => {
    const pipeline = numbers(10).pipeline().plusOne().times(3, { nWorkers: 2 });
    assert.equal(
      inspect(pipeline),
      'Pipeline<Numbers>(10 items).plusOne().times(3, { nWorkers: 2 })',
    );
    assert.match(inspect({ pipeline }, { depth: 0 }), /pipeline: /);
    assert.equal(
      inspect(pipeline.run({ batchSize: 4, lazy: true })),
      'Pipeline<Numbers>(10 items).plusOne().times(3, { nWorkers: 2 }).run({ batchSize: 4, lazy: true })',
    );
    assert.doesNotThrow(() => JSON.stringify(pipeline.steps));
    assert.equal(typeof JSON.stringify(pipeline), 'string');
    assert.equal(String(pipeline), '[object Object]');
  });

  it('refuses what is not a dataset', () => {
    assert.throws(() => new Pipeline({} as never), /give a Dataset/);
  });
});

describe('Pipeline: options', () => {
  const bad: [GenOptions & Record<string, unknown>, RegExp][] = [
    [{ batchSize: 0 }, /batchSize must be a whole number ≥ 1, got 0/],
    [{ batchSize: 2.5 }, /batchSize must be a whole number ≥ 1, got 2\.5/],
    [{ batchSize: '4' as never }, /batchSize must be a whole number ≥ 1, got '4'/],
    [{ batchSize: 2, nEpochs: 0 }, /nEpochs must be a whole number ≥ 1 \(or Infinity\)/],
    [{ batchSize: 2, shuffle: 'yes' as never }, /shuffle must be true, false or a whole number/],
    [{ batchSize: 2, shuffle: 0.5 }, /shuffle must be/],
    [{ batchSize: 2, dropLast: 1 as never }, /dropLast must be true or false/],
    [{ batchSize: 2, prefetch: 0 }, /prefetch must be a whole number ≥ 1/],
    [{ batchSize: 2, signal: {} as never }, /signal must be an AbortSignal/],
    [{ batchSize: 2, name: '' }, /name must be a non-empty string/],
    [{ batch_size: 2 }, /unknown option 'batch_size'; the options are batchSize, nEpochs/],
  ];

  it('gen throws a ValidationError naming the option', () => {
    const pipeline = numbers(4).pipeline();
    for (const [options, message] of bad) {
      assert.throws(
        () => pipeline.gen(options),
        (error) => error instanceof ValidationError && message.test(error.message),
        inspect(options),
      );
    }
    assert.throws(() => pipeline.gen({ lazy: true } as never), /unknown option 'lazy'/);
  });

  it('run rejects, and a lazy run throws, with the same messages', async () => {
    const pipeline = numbers(4).pipeline();
    for (const [options, message] of bad) {
      await assert.rejects(pipeline.run(options), message, inspect(options));
      assert.throws(() => pipeline.run({ ...options, lazy: true }), message, inspect(options));
    }
  });

  it('takes nEpochs: Infinity, ended by leaving the loop', async () => {
    let batches = 0;
    for await (const _ of numbers(3)
      .pipeline()
      .gen({ batchSize: 2, nEpochs: Number.POSITIVE_INFINITY })) {
      if (++batches === 7) break;
    }
    assert.equal(batches, 7);
    // No batch in an epoch: an endless pipeline of nothing ends at once.
    assert.deepEqual(
      await numbers(3)
        .pipeline()
        .run({ batchSize: 4, dropLast: true, nEpochs: Number.POSITIVE_INFINITY }),
      { batches: 0, items: 0 },
    );
  });
});
