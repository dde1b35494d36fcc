/**
 * Target `threads`: the decorated method itself runs on worker threads, on the batch
 * rebuilt there from its exported class; results come back in init order, each failed
 * item's own error in its place. A class (or a function form) that workers cannot find
 * is a ValidationError naming what to export, before any item runs.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { asyncPool, isWeftError, setDefaultExecutorFactory, threads } from 'weftjs';
import { Batch } from 'weftjs/batch';
import { defaultExecutor } from '../../src/executors/from-env.ts';
import { calls } from './support/conventions.ts';
import {
  callUnexported,
  hiddenBatch,
  OddItemError,
  Probe,
  tripled,
} from './support/remote-batches.ts';
import { Decorated } from './support/remote-decorated.ts';
import { Recording } from './support/remote-executors.ts';
import { Bare, Derived } from './support/remote-subclass.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

describe('target threads', () => {
  it('runs the method on worker threads and gives the results in init order', async () => {
    const data = [1, 2, 3, 4, 5, 6, 7, 8];
    const results = await calls(new Probe(data)).where(10, { executor });
    assert.deepEqual(
      results.map((result: { value: number }) => result.value),
      data.map((x) => x * 10),
    );
    for (const result of results) {
      assert.equal(result.mainThread, false);
      assert.notEqual(result.threadId, threadId);
    }
  });

  it("puts each failed item's own error in its place, with its name, code and message", async () => {
    const results = await calls(new Probe([5, 6, 7, 8])).failing({ executor });
    assert.equal(results[0], 5);
    assert.equal(results[2], 7);
    for (const item of [1, 3]) {
      const error = results[item] as Error & { code?: string };
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'OddItemError');
      assert.equal(error.code, 'E_ODD_ITEM');
      assert.equal(error.message, `item ${item} is odd`);
    }
    assert.equal(new OddItemError('x').name, 'OddItemError');
  });

  it('runs the function form, exported from its module, on a Batch of its own', async () => {
    const values = await tripled.call(new Batch([1, 2, 3]), { executor });
    assert.deepEqual(values, [
      { value: 3, mainThread: false, length: 3 },
      { value: 6, mainThread: false, length: 3 },
      { value: 9, mainThread: false, length: 3 },
    ]);
  });

  it('runs a method a subclass inherits from another module, finding the subclass in its own', async () => {
    const batch = new Derived([1, 2, 3]);
    const results = await calls(batch).where(2, { executor });
    assert.deepEqual(
      results.map((result: { value: number }) => result.value),
      [2, 4, 6],
    );
    const other = new Derived([1, 2]);
    assert.equal(await calls(other).negate({ executor }), other);
  });

  it('runs a method whose decorator was made in another module than the class', async () => {
    const results = await calls(new Decorated([1, 2, 3])).squared({ executor });
    assert.deepEqual(results, [
      [1, false],
      [4, false],
      [9, false],
    ]);
  });

  it('without an executor, runs on a shared pool of worker threads', async () => {
    const results = await calls(new Probe([1, 2])).where(3);
    assert.deepEqual(
      results.map((result: { value: number; mainThread: boolean }) => [
        result.value,
        result.mainThread,
      ]),
      [
        [3, false],
        [6, false],
      ],
    );
  });
});

describe('target threads: what workers cannot find', () => {
  it('a class its module does not export: a ValidationError naming it and the fix, before any item runs', async () => {
    const recording = new Recording(executor);
    const batch = hiddenBatch([1, 2, 3]);
    await assert.rejects(
      calls(batch as Batch & { touch: never }).touch({ executor: recording }),
      (error: Error) => {
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
        assert.equal(
          error.message,
          'Hidden.touch runs on threads: export the class Hidden from its module ' +
            "(./test/batch/support/remote-batches.ts) so that worker threads can build the batch; or use target 'async' or 'for'.",
        );
        return true;
      },
    );
    assert.equal(recording.seen.length, 0);
  });

  it('a function form its module does not export: a ValidationError naming it and the fix', async () => {
    const recording = new Recording(executor);
    await assert.rejects(
      callUnexported(new Batch([1, 2]), { executor: recording }),
      (error: Error) => {
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
        assert.match(
          error.message,
          /^Batch\.anonymous runs on threads: export it from its module \(\.\/test\/batch\/support\/remote-batches\.ts\)/,
        );
        assert.match(error.message, /or use target 'async' or 'for'\.$/);
        return true;
      },
    );
    assert.equal(recording.seen.length, 0);
  });

  it('a class of the function form that is not exported: a ValidationError naming the module', async () => {
    await assert.rejects(tripled.call(hiddenBatch([1]), { executor }), (error: Error) => {
      assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
      assert.equal(
        error.message,
        'Hidden.tripled runs on threads: export the class Hidden from the module that defines tripled ' +
          "(./test/batch/support/remote-batches.ts) so that worker threads can build the batch; or use target 'async' or 'for'.",
      );
      return true;
    });
  });

  it('a subclass with no parallel method of its own in its module: a ValidationError naming where workers look', async () => {
    await assert.rejects(calls(new Bare([1])).where(2, { executor }), (error: Error) => {
      assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
      assert.equal(
        error.message,
        'Bare.where runs on threads: worker threads look for the class Bare in the modules that define ' +
          'its parallel methods (./test/batch/support/remote-batches.ts), and none exports it: export it ' +
          "from its module and define a parallel method there; or use target 'async' or 'for'.",
      );
      return true;
    });
  });

  it('a batch holding a function: a ValidationError naming where it is', async () => {
    const batch = new Probe([1, 2]) as Probe & { onDone?: () => void };
    batch.onDone = () => {};
    await assert.rejects(calls(batch).where(2, { executor }), (error: Error) => {
      assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
      assert.match(
        error.message,
        /^Probe\.where runs on threads: the batch holds a function at this\.onDone, which cannot be copied to worker threads\. /,
      );
      return true;
    });
  });
});

describe('target threads and the default executor', () => {
  afterEach(() => setDefaultExecutorFactory(defaultExecutor));

  it('runs the items on the default executor when it is a threads pool (weft run --executor threads)', async () => {
    const recording = new Recording(executor);
    setDefaultExecutorFactory(() => recording);
    const results = await calls(new Probe([1, 2])).where(2);
    assert.equal(results.length, 2);
    assert.equal(recording.seen.length, 2);
  });

  it('runs them on its own pool when the default executor is of another kind', async () => {
    const recording = new Recording(asyncPool());
    setDefaultExecutorFactory(() => recording);
    const results = await calls(new Probe([1, 2])).where(2);
    assert.equal(results.length, 2);
    assert.equal(recording.seen.length, 0);
  });
});
