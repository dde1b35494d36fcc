/**
 * Dtypes of an operator's outputs: where it ran they set the output's dtype, and where its
 * condition is false its output is its input, which must have that dtype too (datarax's
 * `lax.cond` requires both branches to agree). An output is never converted, so the result
 * never depends on how the examples are chunked: it is the same, or the same refusal.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isWeftError, threads } from 'weftjs';
import {
  CompositeOperator,
  ConditionalParallelStrategy,
  type OperatorContext,
  type Tensor,
  tensor,
} from 'weftjs/compose';
import { toTenths } from './support/operators.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

const failed = (pattern: RegExp) => (error: unknown) => {
  assert.ok(isWeftError(error, 'WEFT_OPERATOR_FAILED'), String(error));
  assert.match(error.message, pattern);
  return true;
};

/** Halves, as float32 whatever its input's dtype. */
const half = (x: Tensor) => x.map((v) => v / 2, 'float32');
const firstAbove = (limit: number) => (x: unknown) => (x as Tensor).get(0) > limit;

function conditional(operators: unknown[], examplesPerTask: number): CompositeOperator {
  return new CompositeOperator({
    operators: operators as never[],
    strategy: new ConditionalParallelStrategy({
      conditions: operators.map((_, i) => (i === 0 ? firstAbove(1) : () => true)),
    }),
    examplesPerTask,
  });
}

describe('dtypes of a conditional operator', () => {
  it('an input passed through in another dtype is refused, however the examples are chunked', async () => {
    const batch = tensor([[1], [3], [5], [7]], { dtype: 'int32' });
    for (const per of [1, 2, 4]) {
      await assert.rejects(
        conditional([half, (x: Tensor) => x], per).apply(batch),
        failed(
          /operator_0 \('half'\) failed on example [01]: its output for example [01].* is (int32|float32), but for example [01].* it is (float32|int32)\..*must return its input's dtype.*x\.map\(fn, x\.dtype\)/,
        ),
        `examplesPerTask ${per}`,
      );
    }
  });

  it('an operator that returns its input’s dtype gives one result for every chunking', async () => {
    const batch = tensor([[1], [3], [5], [7]], { dtype: 'float64' });
    const keepsDtype = (x: Tensor) => x.map((v) => v / 2);
    const results = [];
    for (const per of [1, 2, 4]) {
      results.push((await conditional([keepsDtype, (x: Tensor) => x], per).apply(batch)) as Tensor);
    }
    for (const result of results) {
      assert.equal(result.dtype, 'float64');
      assert.deepEqual(result.toArray(), [
        [1, 1],
        [1.5, 3],
        [2.5, 5],
        [3.5, 7],
      ]);
    }
  });

  it('on threads too, a task operator whose dtype differs from its input is refused', async () => {
    const batch = tensor([[0.25], [1.5], [2.75], [4]]);
    for (const per of [1, 4]) {
      const composite = new CompositeOperator({
        operators: [toTenths],
        strategy: new ConditionalParallelStrategy({ conditions: [firstAbove(1)] }),
        examplesPerTask: per,
        executor,
      });
      await assert.rejects(
        composite.apply(batch),
        failed(
          /'compose-test\/toTenths'\) failed on example [01]: .*(float32.*int32|int32.*float32)/,
        ),
      );
    }
  });

  it('a nested composite whose dtype differs from its input is refused, naming the example', async () => {
    const inner = new CompositeOperator({
      name: 'inner',
      operators: [(x: Tensor) => x.map((v) => Math.round(v * 10), 'int32')],
    });
    const outer = new CompositeOperator({
      name: 'outer',
      operators: [inner],
      strategy: new ConditionalParallelStrategy({ conditions: [(x) => (x as Tensor).get(0) < 1] }),
    });
    await assert.rejects(
      outer.apply(tensor([[0.25], [1.5], [2.75]])),
      failed(
        /^Composite 'outer': operator_0 \('inner'\) failed on example 1: its output for example 1 \(its input: the condition is false there\) is float32, but for example 0 it is int32/,
      ),
    );
  });
});

describe('dtypes of an operator', () => {
  it('outputs of different dtypes where it ran are refused, however chunked', async () => {
    const wavers = (x: Tensor, { index }: OperatorContext) =>
      x.map((v) => v, index === 2 ? 'float64' : 'float32');
    for (const per of [1, 4]) {
      const composite = new CompositeOperator({ operators: [wavers], examplesPerTask: per });
      await assert.rejects(
        composite.apply(tensor([[1], [2], [3], [4]])),
        failed(
          /failed on example [23]: its output for example [23] is (float64|float32), but for example [02] it is (float32|float64)\. Every example's output must have the same dtype: make it in one dtype/,
        ),
      );
    }
  });
});
