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
  withState,
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
    // Gathered: the inner composite saw a batch of the two even examples, numbered as
    // they are in the outer batch.
    assert.deepEqual(seen, [1, 3]);
    const none = (await outer.apply(tensor([[1], [3]]))) as Tensor;
    assert.deepEqual(none.toArray(), [
      [1, 1],
      [3, 3],
    ]);
  });

  it('under a condition, draws what it draws over the whole batch', async () => {
    const noise = (x: Tensor, { random }: OperatorContext) => x.map((v) => v + random());
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [noise, noise],
      strategy: new ParallelStrategy({ mergeStrategy: 'sum' }),
    });
    const outer = (when: readonly boolean[]) =>
      new CompositeOperator({
        operators: [inner],
        strategy: new ConditionalParallelStrategy({
          conditions: [(x) => when[(x as Tensor).get(0)]!],
        }),
        examplesPerTask: 1,
      });
    const batch = tensor([[0], [1], [2], [3]], { dtype: 'float64' });
    const all = (await outer([true, true, true, true]).apply(batch, { seed: 42 })) as Tensor;
    const some = (await outer([false, true, false, true]).apply(batch, { seed: 42 })) as Tensor;
    const rows = (t: Tensor) => t.toArray() as number[][];
    assert.deepEqual(rows(some)[1], rows(all)[1]);
    assert.deepEqual(rows(some)[3], rows(all)[3]);
    assert.deepEqual(rows(some)[2], [2]);
    assert.notDeepEqual(rows(all)[1], rows(all)[3]);
  });

  it('under a condition, keeps a state and metadata per outer example, given where it did not run', async () => {
    const tag = (x: Tensor, { index }: OperatorContext) =>
      withState(x, { state: `ran ${index}`, metadata: { ran: index } });
    const deeper = new CompositeOperator({ name: 'deeper', operators: [tag] });
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [tag, deeper],
      strategy: new ParallelStrategy({ mergeStrategy: 'sum' }),
    });
    const outer = (when: readonly boolean[]) =>
      new CompositeOperator({
        operators: [inner, tag],
        strategy: new ConditionalParallelStrategy({
          conditions: [(x) => when[(x as Tensor).get(0)]!, () => true],
          mergeStrategy: 'stack',
        }),
      });
    const batch = tensor([[0], [1], [2]]);
    const options = { state: 'given', metadata: { source: 'apply' } };
    const some = await outer([true, false, true]).run(batch, options);
    const given = { source: 'apply' };
    assert.deepEqual(some.states, [
      [['ran 0', 'given', 'ran 2'], [['ran 0', 'given', 'ran 2']]],
      ['ran 0', 'ran 1', 'ran 2'],
    ]);
    assert.deepEqual(some.metadata[0], [
      [{ ran: 0 }, given, { ran: 2 }],
      [[{ ran: 0 }, given, { ran: 2 }]],
    ]);
    const none = await outer([false, false, false]).run(batch, options);
    assert.deepEqual(none.states[0], [['given', 'given', 'given'], [['given', 'given', 'given']]]);
    assert.deepEqual(none.metadata[0], [[given, given, given], [[given, given, given]]]);
  });

  it('under a condition, its failure names the outer example', async () => {
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [
        function breaks(x: Tensor, { index }: OperatorContext) {
          if (index === 2) throw new Error('not this one');
          return x;
        },
      ],
    });
    const outer = new CompositeOperator({
      name: 'outer',
      operators: [inner],
      strategy: new ConditionalParallelStrategy({ conditions: [(x) => (x as Tensor).get(0) > 0] }),
    });
    await assert.rejects(outer.apply(tensor([[0], [0], [1]])), (error) => {
      assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'));
      assert.match(
        error.message,
        /^Composite 'outer': operator_0 \('inner'\) failed on example 2: Composite 'inner': operator_0 \('breaks'\) failed on example 2: not this one$/,
      );
      return true;
    });
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
        /^Composite 'outer': operator_1 \('inner'\) failed on example 0: Composite 'inner': operator_0 \('breaks'\) failed on example 0: inside$/,
      );
      assert.ok(isWeftError(error.cause, 'WEFT_OPERATOR_FAILED'));
      return true;
    });
  });
});
