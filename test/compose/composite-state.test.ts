/**
 * State and metadata: every operator's are kept, per example (datarax keeps only the last
 * operator's). An operator reports them with withState; one that does not keeps what it
 * was given.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { threads } from 'weftjs';
import {
  CompositeOperator,
  type OperatorContext,
  type Tensor,
  tensor,
  withState,
} from 'weftjs/compose';
import { counting } from './support/operators.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

const batch = tensor([[1], [2], [3]]);

describe('state and metadata of a composite', () => {
  it('keeps every operator’s state and metadata, per example', async () => {
    const composite = new CompositeOperator({
      operators: [
        function reporting(x: Tensor, ctx: OperatorContext) {
          return withState(x, {
            state: { sum: (ctx.state as { sum: number }).sum + x.get(0) },
            metadata: { seen: ctx.index },
          });
        },
        function quiet(x: Tensor) {
          return x;
        },
      ],
      examplesPerTask: 2,
    });
    const result = await composite.run(batch, {
      state: { sum: 10 },
      metadata: { source: 'test' },
    });
    assert.deepEqual(result.states, [
      [{ sum: 11 }, { sum: 12 }, { sum: 13 }],
      [{ sum: 10 }, { sum: 10 }, { sum: 10 }],
    ]);
    assert.deepEqual(result.metadata, [
      [{ seen: 0 }, { seen: 1 }, { seen: 2 }],
      [{ source: 'test' }, { source: 'test' }, { source: 'test' }],
    ]);
  });

  it('gives each operator its own state with `states`, and reports only what changed', async () => {
    const composite = new CompositeOperator({
      operators: [
        (x: Tensor, ctx: OperatorContext) =>
          ctx.index === 1 ? withState(x, { state: `changed by ${ctx.operator.name}` }) : x,
        (x: Tensor) => x,
      ],
    });
    const result = await composite.run(batch, { states: ['a', 'b'] });
    assert.deepEqual(result.states, [
      ['a', 'changed by operator_0', 'a'],
      ['b', 'b', 'b'],
    ]);
    assert.deepEqual(result.metadata, [
      [undefined, undefined, undefined],
      [undefined, undefined, undefined],
    ]);
  });

  it('an operator sees its context: index, operator, extraParams, metadata, signal', async () => {
    const seen: unknown[] = [];
    const composite = new CompositeOperator({
      name: 'ctx',
      operators: [
        (x: Tensor) => x,
        function look(x: Tensor, ctx: OperatorContext) {
          seen.push({
            index: ctx.index,
            operator: ctx.operator,
            extraParams: ctx.extraParams,
            metadata: ctx.metadata,
            aborted: ctx.signal.aborted,
            seed: typeof ctx.random.seed,
          });
          return x;
        },
      ],
    });
    await composite.run(tensor([[5]]), { extraParams: { k: 1 }, metadata: { m: 2 } });
    assert.deepEqual(seen, [
      {
        index: 0,
        operator: { index: 1, name: 'look' },
        extraParams: { k: 1 },
        metadata: { m: 2 },
        aborted: false,
        seed: 'number',
      },
    ]);
  });

  it('a task operator on threads reports its state and metadata back', async () => {
    const composite = new CompositeOperator({
      operators: [(x: Tensor) => x, counting],
      examplesPerTask: 1,
      executor,
    });
    const result = await composite.run(batch, { states: [undefined, { n: 7 }] });
    assert.deepEqual(
      result.states[1],
      [0, 1, 2].map((index) => ({ given: { n: 7 }, index, operator: 1 })),
    );
    assert.deepEqual(
      result.metadata[1],
      [0, 1, 2].map(() => ({ name: 'compose-test/counting' })),
    );
  });

  it('a nested composite keeps its own operators’ states', async () => {
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [(x: Tensor) => withState(x, { state: 'inner-0' }), (x: Tensor) => x],
    });
    const outer = new CompositeOperator({
      name: 'outer',
      operators: [(x: Tensor) => withState(x, { state: 'outer-0' }), inner],
    });
    const result = await outer.run(tensor([[1], [2]]), { state: 's' });
    assert.deepEqual(result.states, [
      ['outer-0', 'outer-0'],
      [
        ['inner-0', 'inner-0'],
        ['s', 's'],
      ],
    ]);
    assert.deepEqual((result.data as Tensor).toArray(), [
      [1, 1, 1],
      [2, 2, 2],
    ]);
  });
});
