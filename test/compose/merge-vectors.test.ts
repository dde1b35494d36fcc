/**
 * datarax's merge vectors, unbatched (`mergeOutputs`, `mergeOutputsConditional`) and in
 * the composite's batched form (`mergeBatched`: the merge axis counts within one example,
 * masks and weights apply per example), plus dtype promotion and results owning their data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mergeBatched,
  mergeOutputs,
  mergeOutputsConditional,
  type Tensor,
  type Tree,
  tensor,
} from 'weftjs/compose';

/** The tree with every leaf as nested numbers, for deepEqual. */
function plain(tree: Tree): unknown {
  return JSON.parse(JSON.stringify(tree));
}

const names = ['operator_0', 'operator_1', 'operator_2'];

describe('mergeOutputs: datarax vectors', () => {
  const outputs = [tensor([1, 2]), tensor([3, 4])];

  it('concat, stack, sum and mean of [1, 2] and [3, 4]', () => {
    assert.deepEqual(plain(mergeOutputs(outputs, { mergeStrategy: 'concat' })), [1, 2, 3, 4]);
    assert.deepEqual(plain(mergeOutputs(outputs, { mergeStrategy: 'stack' })), [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(plain(mergeOutputs(outputs, { mergeStrategy: 'sum' })), [4, 6]);
    assert.deepEqual(plain(mergeOutputs(outputs, { mergeStrategy: 'mean' })), [2, 3]);
  });

  it('concat is the default, also when the strategy is null', () => {
    assert.deepEqual(plain(mergeOutputs(outputs)), [1, 2, 3, 4]);
    assert.deepEqual(plain(mergeOutputs(outputs, { mergeStrategy: null })), [1, 2, 3, 4]);
  });

  it('stack along the last axis, and concat along axis 1 or -1', () => {
    assert.deepEqual(plain(mergeOutputs(outputs, { mergeStrategy: 'stack', mergeAxis: -1 })), [
      [1, 3],
      [2, 4],
    ]);
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = tensor([[5], [6]]);
    const expected = [
      [1, 2, 5],
      [3, 4, 6],
    ];
    assert.deepEqual(plain(mergeOutputs([a, b], { mergeAxis: 1 })), expected);
    assert.deepEqual(plain(mergeOutputs([a, b], { mergeAxis: -1 })), expected);
  });

  it('concat along -1 of [B, 10] and [B, 5] gives [B, 15]', () => {
    const a = tensor(
      new Float32Array(4 * 10).map((_, i) => i),
      { shape: [4, 10] },
    );
    const b = tensor(
      new Float32Array(4 * 5).map((_, i) => -i),
      { shape: [4, 5] },
    );
    const merged = mergeOutputs([a, b], { mergeStrategy: 'concat', mergeAxis: -1 }) as Tensor;
    assert.deepEqual(merged.shape, [4, 15]);
    assert.deepEqual(
      plain(merged.at(2)),
      [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, -10, -11, -12, -13, -14],
    );
  });

  it('dict puts { operator_0, operator_1 } in place of each leaf of nested trees', () => {
    const merged = mergeOutputs(
      [
        { a: { x: tensor([1]) }, b: [tensor([10])] },
        { a: { x: tensor([2]) }, b: [tensor([20])] },
      ],
      { mergeStrategy: 'dict' },
    );
    assert.deepEqual(plain(merged), {
      a: { x: { operator_0: [1], operator_1: [2] } },
      b: [{ operator_0: [10], operator_1: [20] }],
    });
    const flat = mergeOutputs([tensor([1]), tensor([2])], { mergeStrategy: 'dict' });
    assert.deepEqual(plain(flat), { operator_0: [1], operator_1: [2] });
  });

  it('a custom mergeFn overrides the strategy, and its result becomes a tree of tensors', () => {
    const merged = mergeOutputs([tensor([1]), tensor([2])], {
      mergeStrategy: null,
      mergeFn: (outs) => (outs[0] as Tensor).map((x, i) => x * 10 + (outs[1] as Tensor).data[i]!),
    });
    assert.deepEqual(plain(merged), [12]);
    const converted = mergeOutputs([tensor([1]), tensor([2])], {
      mergeStrategy: 'sum',
      mergeFn: (outs) => ({ count: outs.length, first: [[1, 2]] }),
    }) as Record<string, Tensor>;
    assert.deepEqual(converted.count!.shape, []);
    assert.deepEqual(plain(converted), { count: 2, first: [[1, 2]] });
  });

  it('merges every leaf of nested trees, with leaves given as arrays or numbers', () => {
    const merged = mergeOutputs(
      [
        { image: [[1, 2]], label: 1 },
        { image: [[3, 4]], label: 2 },
      ],
      { mergeStrategy: 'sum' },
    );
    assert.deepEqual(plain(merged), { image: [[4, 6]], label: 3 });
  });

  it('results own their data, for one output too', () => {
    const input = tensor([1, 2]);
    for (const mergeStrategy of ['concat', 'stack', 'sum', 'mean', 'dict'] as const) {
      const merged = mergeOutputs([input], { mergeStrategy });
      const leaf = (
        mergeStrategy === 'dict' ? (merged as Record<string, Tree>).operator_0 : merged
      ) as Tensor;
      assert.notEqual(leaf.data.buffer, input.data.buffer, mergeStrategy);
      leaf.data[0] = 99;
      assert.equal(input.data[0], 1, mergeStrategy);
    }
  });
});

describe('mergeFn: results own their memory', () => {
  it("copies a result's leaves that share an output's memory, keeps the others", () => {
    const a = tensor([1, 2]);
    const b = new Float32Array([3, 4]);
    const made = tensor([9]);
    const merged = mergeOutputs([a, b], {
      mergeFn: ([first, second]) => ({
        first: first!,
        view: (first as Tensor).reshape([2, 1]),
        raw: (second as Tensor).data,
        made,
      }),
    }) as Record<string, Tensor>;
    assert.notEqual(merged.first!.data.buffer, a.data.buffer);
    assert.notEqual(merged.view!.data.buffer, a.data.buffer);
    assert.notEqual(merged.raw!.data.buffer, b.buffer);
    assert.equal(merged.made, made);
    assert.deepEqual(plain(merged), { first: [1, 2], view: [[1], [2]], raw: [3, 4], made: [9] });
  });

  it('copies too when a batch of no examples hands the mergeFn the outputs themselves', () => {
    const empty = tensor(new Float32Array(0), { shape: [0, 2] });
    const merged = mergeBatched([empty, empty], { names, mergeFn: (outs) => outs[0]! }) as Tensor;
    assert.deepEqual(merged.shape, [0, 2]);
    assert.notEqual(merged.data.buffer, empty.data.buffer);
  });
});

describe('mergeOutputs: dtypes', () => {
  const merge = (a: Tensor, b: Tensor, mergeStrategy: 'concat' | 'sum' | 'mean' = 'concat') =>
    mergeOutputs([a, b], { mergeStrategy }) as Tensor;

  it('keeps a shared dtype and promotes mixed ones as JAX does', () => {
    const ints = (dtype: 'int8' | 'uint8' | 'int16' | 'uint32' | 'int32') => tensor([1], { dtype });
    assert.equal(merge(ints('int8'), ints('int8')).dtype, 'int8');
    assert.equal(merge(ints('int8'), ints('uint8')).dtype, 'int16');
    assert.equal(merge(ints('uint8'), ints('int16')).dtype, 'int16');
    assert.equal(merge(ints('uint32'), ints('int32')).dtype, 'int32');
    assert.equal(merge(ints('int32'), tensor([1])).dtype, 'float32');
    assert.equal(merge(tensor([1]), tensor([1], { dtype: 'float64' })).dtype, 'float64');
    assert.equal(merge(tensor([1], { dtype: 'uint8clamped' }), ints('uint8')).dtype, 'uint8');
  });

  it('the mean of integers is float32, float64 when one is float64', () => {
    const mean = merge(tensor([1], { dtype: 'int32' }), tensor([2], { dtype: 'int32' }), 'mean');
    assert.equal(mean.dtype, 'float32');
    assert.deepEqual(plain(mean), [1.5]);
    const wide = merge(tensor([1], { dtype: 'int32' }), tensor([2], { dtype: 'float64' }), 'mean');
    assert.equal(wide.dtype, 'float64');
    assert.equal(
      merge(tensor([1], { dtype: 'int16' }), tensor([2], { dtype: 'int16' }), 'sum').dtype,
      'int16',
    );
  });

  it('a float64 value keeps its precision when promoted', () => {
    const merged = merge(tensor([0.1], { dtype: 'float64' }), tensor([1]));
    assert.deepEqual(plain(merged), [0.1, 1]);
  });
});

describe('mergeOutputsConditional: datarax vectors', () => {
  it('mean of [10], [20], [30] with true, false, true is [20]', () => {
    const outputs = [tensor([10]), tensor([20]), tensor([30])];
    const merged = mergeOutputsConditional(outputs, [true, false, true], { mergeStrategy: 'mean' });
    assert.deepEqual(plain(merged), [20]);
  });

  it('sum counts only true outputs; all false gives [0] for sum and mean', () => {
    const outputs = [tensor([1, 2]), tensor([3, 4])];
    assert.deepEqual(
      plain(mergeOutputsConditional(outputs, [true, false], { mergeStrategy: 'sum' })),
      [1, 2],
    );
    const ones = [tensor([1]), tensor([2])];
    for (const mergeStrategy of ['sum', 'mean'] as const) {
      assert.deepEqual(
        plain(mergeOutputsConditional(ones, [false, false], { mergeStrategy })),
        [0],
      );
    }
  });

  it('concat, stack and dict keep a false output (the input passed through) in its place', () => {
    const outputs = [tensor([2]), tensor([1]), tensor([4])]; // x*2, x (false), x*4 at x = 1
    const conditions = [true, false, true];
    assert.deepEqual(plain(mergeOutputsConditional(outputs, conditions)), [2, 1, 4]);
    assert.deepEqual(
      plain(mergeOutputsConditional(outputs, conditions, { mergeStrategy: 'stack' })),
      [[2], [1], [4]],
    );
    assert.deepEqual(
      plain(mergeOutputsConditional(outputs, conditions, { mergeStrategy: 'dict' })),
      {
        operator_0: [2],
        operator_1: [1],
        operator_2: [4],
      },
    );
  });

  it('takes numbers (NaN is true) and one-element tensors as conditions', () => {
    const outputs = [tensor([1]), tensor([10]), tensor([100]), tensor([1000])];
    const conditions = [1, 0, Number.NaN, tensor([1], { dtype: 'uint8' })];
    assert.deepEqual(
      plain(mergeOutputsConditional(outputs, conditions, { mergeStrategy: 'sum' })),
      [1101],
    );
    const falseTensor = tensor([[0]]);
    assert.deepEqual(
      plain(mergeOutputsConditional([tensor([5])], [falseTensor], { mergeStrategy: 'sum' })),
      [0],
    );
  });

  it('a mergeFn gets every output as given', () => {
    const merged = mergeOutputsConditional([tensor([1]), tensor([2])], [false, true], {
      mergeFn: (outs) => ({ n: outs.length }),
    });
    assert.deepEqual(plain(merged), { n: 2 });
  });
});

describe('mergeBatched: per-example merges, as under vmap', () => {
  // Operators x*2 and x*3 over the batch [[1], [2]].
  const outputs = [tensor([[2], [4]]), tensor([[3], [6]])];

  it('concat along the example axis 0: [[2, 3], [4, 6]], shape [2, 2]', () => {
    const merged = mergeBatched(outputs, {
      names,
      mergeStrategy: 'concat',
      mergeAxis: 0,
    }) as Tensor;
    assert.deepEqual(merged.shape, [2, 2]);
    assert.deepEqual(plain(merged), [
      [2, 3],
      [4, 6],
    ]);
    assert.deepEqual(plain(mergeBatched(outputs, { names, mergeAxis: -1 })), plain(merged));
  });

  it('stack along the example axis 0: shape [2, 2, 1], [[[2], [3]], [[4], [6]]]', () => {
    const merged = mergeBatched(outputs, { names, mergeStrategy: 'stack', mergeAxis: 0 }) as Tensor;
    assert.deepEqual(merged.shape, [2, 2, 1]);
    assert.deepEqual(plain(merged), [
      [[2], [3]],
      [[4], [6]],
    ]);
    const last = mergeBatched(outputs, { names, mergeStrategy: 'stack', mergeAxis: -1 }) as Tensor;
    assert.deepEqual(last.shape, [2, 1, 2]);
    assert.deepEqual(plain(last), [[[2, 3]], [[4, 6]]]);
  });

  it('sum, mean and dict keep the batch axis', () => {
    assert.deepEqual(plain(mergeBatched(outputs, { names, mergeStrategy: 'sum' })), [[5], [10]]);
    assert.deepEqual(plain(mergeBatched(outputs, { names, mergeStrategy: 'mean' })), [[2.5], [5]]);
    assert.deepEqual(plain(mergeBatched(outputs, { names, mergeStrategy: 'dict' })), {
      operator_0: [[2], [4]],
      operator_1: [[3], [6]],
    });
  });

  it('weights 0.1 and 0.9 on 10 and 20 give 19; 0.7 and 0.3 on x*2, x*3 at 10 give 23', () => {
    const weighted = (a: number, b: number, weights: number[]) =>
      plain(
        mergeBatched([tensor([[a]]), tensor([[b]])], { names, weights, mergeStrategy: 'concat' }),
      );
    assert.deepEqual(weighted(10, 20, [0.1, 0.9]), [[19]]);
    assert.deepEqual(weighted(20, 30, [0.7, 0.3]), [[23]]);
    const float = mergeBatched([tensor([[1]], { dtype: 'int32' })], {
      names,
      weights: [0.5],
    }) as Tensor;
    assert.equal(float.dtype, 'float32');
    assert.deepEqual(plain(float), [[0.5]]);
  });

  it('a mask counts each output only where it applied: per-example sum and mean', () => {
    const three = [tensor([[10], [1]]), tensor([[20], [2]]), tensor([[30], [3]])];
    const mask = [Uint8Array.of(1, 0), Uint8Array.of(0, 0), Uint8Array.of(1, 1)];
    assert.deepEqual(plain(mergeBatched(three, { names, mask, mergeStrategy: 'mean' })), [
      [20],
      [3],
    ]);
    assert.deepEqual(plain(mergeBatched(three, { names, mask, mergeStrategy: 'sum' })), [
      [40],
      [3],
    ]);
    const none = [Uint8Array.of(0, 1), Uint8Array.of(0, 0), Uint8Array.of(0, 1)];
    assert.deepEqual(plain(mergeBatched(three, { names, mask: none, mergeStrategy: 'mean' })), [
      [0],
      [2],
    ]);
  });

  it('concat, stack and dict ignore the mask', () => {
    const mask = [Uint8Array.of(1, 0), Uint8Array.of(0, 0)];
    assert.deepEqual(plain(mergeBatched(outputs, { names, mask })), [
      [2, 3],
      [4, 6],
    ]);
  });

  it('mergeFn is called once per example, as under vmap, its results stacked', () => {
    const seen: number[][] = [];
    const merged = mergeBatched(outputs, {
      names,
      mergeFn: (outs) => {
        seen.push((outs as Tensor[]).map((out) => out.ndim));
        return (outs as Tensor[]).map((out) => out.data[0]!);
      },
    });
    assert.deepEqual(seen, [
      [1, 1],
      [1, 1],
    ]);
    assert.deepEqual(plain(merged), [
      [2, 3],
      [4, 6],
    ]);
  });

  it("mergeFn's results must have one shape for every example", () => {
    assert.throws(
      () =>
        mergeBatched(outputs, {
          names,
          mergeFn: (outs) => ((outs as Tensor[])[0]!.data[0] === 2 ? [1] : [1, 2]),
        }),
      /mergeFn returned shape \[2\] for example 1 but \[1\] for example 0/,
    );
  });

  it('merges trees per leaf, each leaf with its own example shape', () => {
    const a = { image: tensor([[[1, 2]], [[3, 4]]]), label: tensor([1, 2]) };
    const b = { image: tensor([[[5, 6]], [[7, 8]]]), label: tensor([3, 4]) };
    const merged = mergeBatched([a, b], { names, mergeStrategy: 'stack' }) as Record<
      string,
      Tensor
    >;
    assert.deepEqual(merged.image!.shape, [2, 2, 1, 2]);
    assert.deepEqual(plain(merged.label!), [
      [1, 3],
      [2, 4],
    ]);
  });
});
