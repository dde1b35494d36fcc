/**
 * A composite nested as an operator runs its own apply over the batch: its seed folded
 * with its index, its keys under the outer composite's, its executor the outer one's
 * unless it has its own; under a condition, over the examples where the condition holds.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isWeftError, MemoryStore, threads, withRun } from 'weftjs';
import {
  CompositeOperator,
  ConditionalParallelStrategy,
  type OperatorContext,
  ParallelStrategy,
  type Tensor,
  tensor,
} from 'weftjs/compose';
import { double, noisy } from './support/operators.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

const times = (k: number) => (x: Tensor) => x.map((v) => v * k);

describe('a nested composite', () => {
  it('merges its own outputs, then takes its place among the outer operators', async () => {
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [times(2), times(3)],
      strategy: new ParallelStrategy({ mergeStrategy: 'sum' }),
    });
    const outer = new CompositeOperator({ name: 'outer', operators: [times(10), inner] });
    const out = (await outer.apply(tensor([[1], [2]]))) as Tensor;
    assert.deepEqual(out.toArray(), [
      [10, 5],
      [20, 10],
    ]);
  });

  it('draws from its own streams: the same seed gives the same output, on threads too', async () => {
    const inner = new CompositeOperator({ name: 'inner', operators: [noisy, noisy] });
    const outer = new CompositeOperator({
      name: 'outer',
      operators: [noisy, inner],
      strategy: new ParallelStrategy({ mergeStrategy: 'concat', mergeAxis: -1 }),
    });
    const batch = tensor([[0], [0], [0]]);
    const here = (await outer.apply(batch, { seed: 4 })) as Tensor;
    const there = (await outer.apply(batch, { seed: 4, executor })) as Tensor;
    assert.deepEqual(there.toArray(), here.toArray());
    const [a, b, c] = (here.toArray() as number[][])[0]!;
    assert.ok(a !== b && b !== c && a !== c);
  });

  it('records its chunks under the outer composite’s keys', async () => {
    const store = new MemoryStore();
    try {
      const inner = new CompositeOperator({
        name: 'inner',
        operators: [double],
        examplesPerTask: 2,
      });
      const outer = new CompositeOperator({
        name: 'outer',
        operators: [times(1), inner],
        examplesPerTask: 4,
      });
      await withRun({ store, runId: 'nested-keys' }, () =>
        outer.apply(tensor([[1], [2], [3], [4]]), { executor }),
      );
      const keys = [...(await store.completedOutputs('nested-keys')).keys()].sort();
      assert.deepEqual(keys, [
        'nested-keys/compose:outer/operator_0/0-4',
        'nested-keys/compose:outer/operator_1/compose:inner/operator_0/0-2',
        'nested-keys/compose:outer/operator_1/compose:inner/operator_0/2-4',
      ]);
    } finally {
      await store.close();
    }
  });

  it('under a condition, runs over the examples where it holds and passes the others through', async () => {
    const seen: number[] = [];
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [
        (x: Tensor, { index }: OperatorContext) => {
          seen.push(index);
          return x.map((v) => v * 100);
        },
      ],
    });
    const outer = new CompositeOperator({
      operators: [times(1), inner],
      strategy: new ConditionalParallelStrategy({
        conditions: [() => true, (x) => (x as Tensor).get(0) % 2 === 0],
      }),
    });
    const out = (await outer.apply(tensor([[1], [2], [3], [4]]))) as Tensor;
    assert.deepEqual(out.toArray(), [
      [1, 1],
      [2, 200],
      [3, 3],
      [4, 400],
    ]);
    // Gathered: the inner composite saw a batch of the two even examples.
    assert.deepEqual(seen, [0, 1]);
    const none = (await outer.apply(tensor([[1], [3]]))) as Tensor;
    assert.deepEqual(none.toArray(), [
      [1, 1],
      [3, 3],
    ]);
  });

  it('its failure is named as the outer operator’s, with its own error as cause', async () => {
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [
        function breaks() {
          throw new Error('inside');
        },
      ],
    });
    const outer = new CompositeOperator({ name: 'outer', operators: [times(1), inner] });
    await assert.rejects(outer.apply(tensor([[1]])), (error) => {
      assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'));
      assert.match(
        error.message,
        /^Composite 'outer': operator 1 \('inner'\) failed on example 0: Composite 'inner': operator 0 \('breaks'\) failed on example 0: inside$/,
      );
      assert.ok(isWeftError(error.cause, 'WEFT_OPERATOR_FAILED'));
      return true;
    });
  });
});
