/**
 * Hostile input: keys that would reach a prototype or break text (`__proto__`,
 * `constructor`, NUL, a lone surrogate) in batches and outputs, NaN values and ragged
 * arrays — in this thread, on threads, and read back from a run recorded on SQLite.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { threads, withRun } from 'weftjs';
import {
  CompositeOperator,
  ConditionalParallelStrategy,
  ParallelStrategy,
  type Tensor,
  type Tree,
  tensor,
} from 'weftjs/compose';
import { SqliteStore } from 'weftjs/sqlite';
import { oddKeys, passThrough } from './support/operators.ts';
import { Workdir } from './support/workdir.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

const oddNames = ['__proto__', 'a\u0000b', '\ud800', 'constructor'];

/** A batch of two examples with a leaf under each odd key. */
function oddBatch(): Record<string, Tensor> {
  const batch: Record<string, Tensor> = {};
  oddNames.forEach((key, i) => {
    Object.defineProperty(batch, key, {
      value: tensor([
        [i, Number.NaN],
        [i + 10, -i],
      ]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return batch;
}

function checkOddTree(tree: Tree): Record<string, Tensor> {
  const out = tree as Record<string, Tensor>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), oddNames);
  for (const key of oddNames) assert.ok(Object.hasOwn(out, key), JSON.stringify(key));
  return out;
}

describe('odd keys and NaN', () => {
  for (const [where, options] of [
    ['in this thread', {}],
    ['on threads', { executor }],
  ] as const) {
    it(`batches whose leaves are under odd keys go through ${where}`, async () => {
      const composite = new CompositeOperator({
        operators: [passThrough, (x: Tree) => x],
        strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
      });
      const out = checkOddTree(await composite.apply(oddBatch(), options));
      assert.deepEqual(own(out, '__proto__').shape, [2, 2, 2]);
      assert.deepEqual(out['\ud800']!.toArray(), [
        [
          [2, Number.NaN],
          [2, Number.NaN],
        ],
        [
          [12, -2],
          [12, -2],
        ],
      ]);
      assert.equal(({} as Record<string, unknown>).shape, undefined);
    });
  }

  it('an operator on threads returns odd keys and NaN, merged as a dict', async () => {
    const composite = new CompositeOperator({
      operators: [oddKeys, oddKeys],
      strategy: new ParallelStrategy({ mergeStrategy: 'dict' }),
      executor,
    });
    const out = checkOddTree(await composite.apply(tensor([[1], [2]])));
    const nan = (out['\ud800'] as unknown as Record<string, Tensor>).operator_1!;
    assert.ok(nan.toArray().toString() === 'NaN,NaN');
    const doubled = (out['a\u0000b'] as unknown as Record<string, Tensor>).operator_0!;
    assert.deepEqual(doubled.toArray(), [[2], [4]]);
  });

  it('outputs under odd keys read back from a run recorded on SQLite are the same', async () => {
    const work = new Workdir();
    const store = await SqliteStore.open(join(work.dir, 'hostile.db'));
    try {
      const returning = new CompositeOperator({
        name: 'returning',
        operators: [oddKeys],
        examplesPerTask: 1,
        executor,
      });
      const given = new CompositeOperator({ name: 'given', operators: [passThrough], executor });
      const apply = () =>
        withRun({ store, runId: 'compose-hostile' }, () =>
          Promise.all([returning.apply(tensor([[1], [2]])), given.apply(oddBatch())]),
        );
      const first = await apply();
      assert.equal((await store.completedOutputs('compose-hostile')).size, 4);
      // Read back from the store this time: every chunk was recorded.
      const again = await apply();
      for (const tree of [...first, ...again]) checkOddTree(tree);
      assert.deepEqual(toArrays(again), toArrays(first));
    } finally {
      await store.close();
      work.remove();
    }
  });

  it('NaN as a condition counts as true, as in JAX', async () => {
    const composite = new CompositeOperator({
      operators: [(x: Tensor) => x.map((v) => v + 1)],
      strategy: new ConditionalParallelStrategy({ conditions: [(x) => (x as Tensor).get(0)] }),
    });
    const out = (await composite.apply(tensor([[Number.NaN], [0], [2]]))) as Tensor;
    assert.deepEqual(out.toArray(), [[Number.NaN], [0], [3]]);
  });

  it('ragged arrays are refused, naming where', async () => {
    const composite = new CompositeOperator({ operators: [(x: Tensor) => x] });
    await assert.rejects(
      composite.apply([[1, 2], [3]]),
      /values\[1\] has length 1 where length 2 was expected/,
    );
    await assert.rejects(
      new CompositeOperator({ operators: [() => [[1, 2], [3]]] }).apply(tensor([[1]])),
      /failed on example 0: .*length 2 was expected/,
    );
  });
});

/** The own property `key` of `tree`, `__proto__` included. */
function own(tree: Record<string, Tensor>, key: string): Tensor {
  return Object.getOwnPropertyDescriptor(tree, key)!.value as Tensor;
}

/** Trees as nested arrays of their leaves' values, keys in order, to compare. */
function toArrays(trees: readonly Tree[]): unknown {
  return trees.map((tree) =>
    Object.keys(tree).map((key) => [
      key,
      ((tree as Record<string, Tensor>)[key] as Tensor).toArray(),
    ]),
  );
}
