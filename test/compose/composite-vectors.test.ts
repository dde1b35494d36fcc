/**
 * datarax's vectors at the composite's level: operators work per example, as under JAX's
 * vmap, and their batched outputs merge along the example's axes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompositeOperator,
  ConditionalParallelStrategy,
  ParallelStrategy,
  type Tensor,
  tensor,
  WeightedParallelStrategy,
  zeros,
} from 'weftjs/compose';

const times = (k: number) => (x: Tensor) => x.map((v) => v * k);

function parallel(ops: ((x: Tensor) => unknown)[], options = {}): CompositeOperator {
  return new CompositeOperator({
    operators: ops as never[],
    strategy: new ParallelStrategy(options),
  });
}

describe('ParallelStrategy at the composite', () => {
  it('concat axis 0 of x*2 and x*3 over [[1], [2]] gives [[2, 3], [4, 6]]', async () => {
    const out = (await parallel([times(2), times(3)], { mergeStrategy: 'concat' }).apply(
      tensor([[1], [2]]),
    )) as Tensor;
    assert.deepEqual(out.shape, [2, 2]);
    assert.deepEqual(out.toArray(), [
      [2, 3],
      [4, 6],
    ]);
  });

  it('concat is the default strategy', async () => {
    const out = (await new CompositeOperator({ operators: [times(2), times(3)] }).apply(
      tensor([[1], [2]]),
    )) as Tensor;
    assert.deepEqual(out.toArray(), [
      [2, 3],
      [4, 6],
    ]);
  });

  it('stack axis 0 gives [[[2], [3]], [[4], [6]]], shape [2, 2, 1]', async () => {
    const out = (await parallel([times(2), times(3)], { mergeStrategy: 'stack' }).apply(
      tensor([[1], [2]]),
    )) as Tensor;
    assert.deepEqual(out.shape, [2, 2, 1]);
    assert.deepEqual(out.toArray(), [
      [[2], [3]],
      [[4], [6]],
    ]);
  });

  it('concat axis -1 of outputs [B, 10] and [B, 5] gives [B, 15]', async () => {
    const batch = zeros([4, 3]);
    const wide = (n: number) => (x: Tensor) => zeros([n]).map((_, i) => i + x.size);
    const out = (await parallel([wide(10), wide(5)], {
      mergeStrategy: 'concat',
      mergeAxis: -1,
    }).apply(batch)) as Tensor;
    assert.deepEqual(out.shape, [4, 15]);
    assert.deepEqual(
      (out.toArray() as number[][])[3],
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 3, 4, 5, 6, 7],
    );
  });

  it('sum and mean are element-wise', async () => {
    const batch = tensor([
      [1, 2],
      [3, 4],
    ]);
    const sum = (await parallel([times(1), times(3)], { mergeStrategy: 'sum' }).apply(
      batch,
    )) as Tensor;
    assert.deepEqual(sum.toArray(), [
      [4, 8],
      [12, 16],
    ]);
    const mean = (await parallel([times(1), times(3)], { mergeStrategy: 'mean' }).apply(
      batch,
    )) as Tensor;
    assert.deepEqual(mean.toArray(), [
      [2, 4],
      [6, 8],
    ]);
  });

  it('merges trees leaf by leaf, and dict puts operator_i under each leaf', async () => {
    const batch = { image: tensor([[1, 2]]), label: tensor([[7]]) };
    const ops = [
      (x: { image: Tensor; label: Tensor }) => ({
        image: x.image.map((v) => v * 2),
        label: x.label,
      }),
      (x: { image: Tensor; label: Tensor }) => ({ image: x.image.map((v) => -v), label: x.label }),
    ];
    const out = (await parallel(ops as never[], { mergeStrategy: 'dict' }).apply(batch)) as Record<
      string,
      Record<string, Tensor>
    >;
    assert.deepEqual(out.image!.operator_0!.toArray(), [[2, 4]]);
    assert.deepEqual(out.image!.operator_1!.toArray(), [[-1, -2]]);
    assert.deepEqual(out.label!.operator_1!.toArray(), [[7]]);
  });

  it('a mergeFn is called per example, as under vmap, its results stacked', async () => {
    const out = (await parallel([times(2), times(3)], {
      mergeFn: function maxOf(outputs: unknown[]) {
        const [a, b] = outputs as Tensor[];
        assert.deepEqual(a!.shape, [1]);
        return a!.map((v, i) => Math.max(v, b!.data[i]!));
      },
    }).apply(tensor([[1], [-2]]))) as Tensor;
    assert.deepEqual(out.toArray(), [[3], [-4]]);
  });
});

describe('WeightedParallelStrategy at the composite', () => {
  it('weights 0.1 and 0.9 on outputs 10 and 20 give 19', async () => {
    const composite = new CompositeOperator({
      operators: [(x: Tensor) => x.map(() => 10), (x: Tensor) => x.map(() => 20)],
      strategy: new WeightedParallelStrategy(),
    });
    const out = (await composite.apply(tensor([[0]]), {
      extraParams: { weights: [0.1, 0.9] },
    })) as Tensor;
    assert.ok(Math.abs((out.toArray() as number[][])[0]![0]! - 19) < 1e-5);
  });

  it('weights 0.7 and 0.3 on x*2 and x*3 at 10 give 23, from the strategy or from extraParams', async () => {
    const given = new CompositeOperator({
      operators: [times(2), times(3)],
      strategy: new WeightedParallelStrategy({ weights: [0.7, 0.3] }),
    });
    const fromParams = new CompositeOperator({
      operators: [times(2), times(3)],
      strategy: new WeightedParallelStrategy(),
    });
    const batch = tensor([[10], [10]]);
    for (const out of [
      await given.apply(batch),
      await fromParams.apply(batch, { extraParams: { weights: new Float64Array([0.7, 0.3]) } }),
      await fromParams.apply(batch, { extraParams: { weights: tensor([0.7, 0.3]) } }),
    ]) {
      for (const value of (out as Tensor).data) assert.ok(Math.abs(value - 23) < 1e-4);
    }
  });
});

describe('ConditionalParallelStrategy at the composite', () => {
  it('x*2, x*100 (false), x*4 over input 1 give [2, 1, 4] per example', async () => {
    const composite = new CompositeOperator({
      operators: [times(2), times(100), times(4)],
      strategy: new ConditionalParallelStrategy({
        conditions: [() => true, () => false, () => true],
      }),
    });
    const out = (await composite.apply(tensor([[1], [1]]))) as Tensor;
    assert.deepEqual(out.toArray(), [
      [2, 1, 4],
      [2, 1, 4],
    ]);
  });

  it('a condition true for one example and false for another decides per example', async () => {
    const composite = new CompositeOperator({
      operators: [times(2), times(10)],
      strategy: new ConditionalParallelStrategy({
        conditions: [() => true, (x) => (x as Tensor).get(0) > 1],
      }),
      examplesPerTask: 1,
    });
    const out = (await composite.apply(tensor([[1], [2]]))) as Tensor;
    assert.deepEqual(out.toArray(), [
      [2, 1],
      [4, 20],
    ]);
  });

  it('a masked mean of [10], [20], [30] with T, F, T is [20]', async () => {
    const composite = new CompositeOperator({
      operators: [() => [10], () => [20], () => [30]],
      strategy: new ConditionalParallelStrategy({
        conditions: [() => true, () => false, () => tensor([1])],
        mergeStrategy: 'mean',
      }),
    });
    const out = (await composite.apply(tensor([[99]]))) as Tensor;
    assert.deepEqual(out.toArray(), [[20]]);
  });

  it('all conditions false: sum and mean give [0]', async () => {
    for (const mergeStrategy of ['sum', 'mean'] as const) {
      const composite = new CompositeOperator({
        operators: [() => [10], () => [20]],
        strategy: new ConditionalParallelStrategy({
          conditions: [() => false, () => 0],
          mergeStrategy,
        }),
      });
      const out = (await composite.apply(tensor([[5]]))) as Tensor;
      assert.deepEqual(out.toArray(), [[0]], mergeStrategy);
    }
  });

  it('an operator whose condition is false is not called there', async () => {
    const seen: number[] = [];
    const composite = new CompositeOperator({
      operators: [
        (x: Tensor, ctx: { index: number }) => {
          seen.push(ctx.index);
          return x;
        },
      ],
      strategy: new ConditionalParallelStrategy({ conditions: [(x) => (x as Tensor).get(0) > 0] }),
    });
    await composite.apply(tensor([[1], [-1], [2], [-2]]));
    assert.deepEqual(seen, [0, 2]);
  });
});
