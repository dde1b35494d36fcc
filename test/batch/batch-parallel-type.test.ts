/**
 * `parallel(batch)`: the batch itself, typed for parallel calls; with names, only those
 * methods are (checked at run time), and ordinary methods keep their types. The type
 * checks here are the type-checker's: a wrong type fails the build, not the run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import { action, Batch, inbatchParallel, type Parallel, parallel } from 'weftjs/batch';

class Totals extends Batch<number[]> {
  @action
  @inbatchParallel({ init: 'items', post: 'store', target: 'for' })
  times(item: number, factor: number): number {
    return item * factor;
  }

  store(results: number[]): this {
    this.data = results;
    return this;
  }

  total(): number {
    return this.data.reduce((sum, x) => sum + x, 0);
  }
}

describe('parallel', () => {
  it('types every method as a parallel call without names, and is the batch itself', async () => {
    const batch = new Totals([1, 2, 3]);
    const typed: Parallel<Totals> = parallel(batch);
    assert.equal(typed, batch);
    const after: Totals = await typed.times(2);
    assert.deepEqual(after.data, [2, 4, 6]);
    // @ts-expect-error: without names, an ordinary method reads as a parallel call
    const total: number = typed.total();
    assert.equal(total, 12);
  });

  it('types only the methods named as parallel calls, the others keep their types', async () => {
    const batch = parallel(new Totals([1, 2, 3]), 'times');
    const typed: Parallel<Totals, 'times'> = batch;
    await typed.times(10, { nWorkers: 2 });
    const total: number = batch.total();
    assert.equal(total, 60);
    assert.equal(batch.position(2), 2, "Batch's own members keep theirs");
  });

  it('refuses a name that is no parallel method of the batch', () => {
    const batch = new Totals([1]);
    assert.throws(
      () => parallel(batch, 'total'),
      (error) =>
        error instanceof ValidationError &&
        /parallel\(batch, "total"\): Totals.total is no parallel method; name only methods decorated with @inbatchParallel/.test(
          error.message,
        ),
    );
    // @ts-expect-error: not a method of Totals
    assert.throws(() => parallel(batch, 'missing'), /Totals.missing is no method/);
  });
});
