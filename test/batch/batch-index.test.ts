/**
 * A batch's index: ids are distinct, `position` finds each, and the inits that hand out
 * items ('items', a component) walk the positions instead of looking every id up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import { action, Batch, Dataset, inbatchParallel, parallel } from 'weftjs/batch';

/** Counts the ids looked up: an init that looked up each of n ids would cost n of them. */
class Counted extends Batch {
  static override components = ['values', 'labels'];
  declare values: number[];
  declare labels: string[];
  lookups = 0;

  override position(id: string | number): number {
    this.lookups++;
    return super.position(id);
  }

  @action
  @inbatchParallel({ init: 'items', post: 'collect', target: 'for' })
  items(item: { values: number; labels: string }): number {
    return item.values;
  }

  @action
  @inbatchParallel({ init: 'labels', post: 'collect', target: 'for' })
  labelled(label: string): string {
    return label;
  }

  collect(results: unknown[]): unknown[] {
    return results;
  }
}

describe('Batch index', () => {
  it('refuses an index that repeats an id, naming it', () => {
    assert.throws(
      () => new Batch([10, 20, 30], { index: ['a', 'a', 'b'] }),
      (error) =>
        error instanceof ValidationError &&
        /Batch: the index holds id "a" twice \(at 0 and 1\); give each item its own id/.test(
          error.message,
        ),
    );
    assert.throws(() => new Batch(undefined, { index: [1, 2, 1] }), /id 1 twice/);
    assert.throws(() => new Dataset([1, 2, 3]).createBatch([2, 0, 2]), /id 2 twice/);
    // 1 and '1' are two ids, as they are two keys of a Map.
    assert.equal(new Batch([5, 6], { index: [1, '1'] }).position('1'), 1);
  });

  it("finds each id's position, and refuses an id it does not hold", () => {
    const batch = new Batch(['x', 'y', 'z'], { index: ['c', 'a', 'b'] });
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => batch.position(id)),
      [1, 2, 0],
    );
    assert.equal(batch.get('b'), 'z');
    assert.throws(
      () => batch.position(0),
      (error) =>
        error instanceof ValidationError &&
        /Batch has no item with id 0 \(it has 3\)/.test(error.message),
    );
  });

  it("hands out an indexed batch's items and components by position, never looking ids up", async () => {
    const n = 50_000;
    const values = Array.from({ length: n }, (_, position) => position * 2);
    const labels = values.map((value) => `v${value}`);
    // Ids in another order than the positions, as a shuffled dataset's batch has them.
    const index = Array.from({ length: n }, (_, position) => n - 1 - position);
    const batch = new Counted({ values, labels }, { index });
    assert.deepEqual(await parallel(batch).items(), values);
    assert.deepEqual(await parallel(batch).labelled(), labels);
    assert.equal(batch.lookups, 0);
  });
});
