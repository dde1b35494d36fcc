/**
 * What the merges refuse, each with a ValidationError that names the thing and the fix:
 * no outputs, an unknown strategy, a bad merge axis (naming the leaf and its shape),
 * shapes that cannot merge (naming the operators and their shapes), trees of different
 * structure, conditions, masks and weights that do not fit, and a mergeFn that throws;
 * and huge shapes, whose empty merges return at once and whose others are refused.
 */
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { describe, it } from 'node:test';
import { ValidationError } from 'weftjs';
import {
  type MergeOptions,
  mergeBatched,
  mergeOutputs,
  mergeOutputsConditional,
  type Tensor,
  tensor,
  zeros,
} from 'weftjs/compose';

/** Asserts that `fn` throws a ValidationError whose message matches every pattern; returns it. */
function refused(fn: () => unknown, ...patterns: RegExp[]): ValidationError {
  let caught: unknown;
  assert.throws(fn, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof ValidationError, `a ValidationError, got ${String(caught)}`);
  assert.equal(caught.code, 'WEFT_VALIDATION');
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

const pair = [tensor([1, 2]), tensor([3, 4])];

describe('merge errors: outputs and options', () => {
  it('refuses no outputs, in every merge', () => {
    refused(() => mergeOutputs([]), /mergeOutputs\(\): no outputs to merge/);
    refused(() => mergeOutputsConditional([], []), /mergeOutputsConditional\(\): no outputs/);
    refused(() => mergeBatched([], { names: [] }), /mergeBatched\(\): no outputs/);
    refused(() => mergeOutputs(undefined as never), /outputs are undefined; give an array/);
  });

  it('refuses an unknown strategy, naming it and the valid ones', () => {
    for (const mergeStrategy of ['max', 'toString', '__proto__', '']) {
      refused(
        () => mergeOutputs(pair, { mergeStrategy } as MergeOptions),
        new RegExp(`unknown mergeStrategy '${mergeStrategy}'`),
        /concat, stack, sum, mean, dict/,
      );
    }
    refused(() => mergeOutputs(pair, { mergeStrategy: 3 } as never), /the number 3/);
    refused(
      () => mergeBatched(pair, { names: ['a', 'b'], mergeStrategy: 'avg' as never }),
      /unknown mergeStrategy 'avg'/,
    );
  });

  it('refuses a mergeAxis that is no whole number', () => {
    for (const mergeAxis of [0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      refused(() => mergeOutputs(pair, { mergeAxis }), /mergeAxis .* is not a whole number/);
    }
    refused(() => mergeOutputs(pair, { mergeAxis: '0' as never }), /the string "0"/);
  });

  it('refuses a mergeFn that is no function', () => {
    refused(() => mergeOutputs(pair, { mergeFn: 'sum' as never }), /mergeFn is the string "sum"/);
  });

  it('refuses outputs that are not trees, naming the operator and path', () => {
    refused(
      () => mergeOutputs([tensor([1]), { a: 'x' }] as never),
      /operator_1 at \.a is the string "x"/,
    );
  });
});

describe('merge errors: axes and shapes', () => {
  it('refuses a concat or stack axis out of range, naming the leaf and its shape', () => {
    const leaf = { image: tensor([[1, 2, 3]]) };
    refused(
      () => mergeOutputs([leaf, leaf], { mergeAxis: 2 }),
      /concat along axis 2 at \.image: operator_0 has shape \[1, 3\], where the axis goes from -2 to 1/,
    );
    refused(() => mergeOutputs([leaf, leaf], { mergeAxis: -3 }), /axis -3 .* from -2 to 1/);
    refused(
      () => mergeOutputs([leaf, leaf], { mergeStrategy: 'stack', mergeAxis: 3 }),
      /stack along axis 3 at \.image: operator_0 has shape \[1, 3\], where the axis goes from -3 to 2/,
    );
    assert.doesNotThrow(() =>
      mergeOutputs([leaf, leaf], { mergeStrategy: 'stack', mergeAxis: -3 }),
    );
    refused(() => mergeOutputs([tensor(1), tensor(2)]), /shape \[\], a single number .* use stack/);
  });

  it('counts a batched merge axis within one example', () => {
    const batch = tensor([[1, 2, 3]]); // one example of shape [3]
    refused(
      () => mergeBatched([batch, batch], { names: ['flip', 'noise'], mergeAxis: 1 }),
      /concat along axis 1: flip has examples of shape \[3\], where the axis goes from -1 to 0/,
    );
  });

  it('refuses concat shapes that differ off the axis, naming both operators and shapes', () => {
    const error = refused(() =>
      mergeOutputs([
        {
          image: tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        },
        {
          image: tensor([
            [1, 2, 3, 4],
            [5, 6, 7, 8],
          ]),
        },
      ]),
    );
    assert.equal(
      error.message,
      'concat along axis 0 at .image: operator_0 has shape [2, 3] but operator_1 has [2, 4]; all axes but 0 must agree.',
    );
    refused(
      () => mergeOutputs([tensor([[1]]), tensor([1])]),
      /shape \[1, 1\] but operator_1 has \[1\]/,
    );
  });

  it('refuses stack, sum and mean of unequal shapes: no broadcasting', () => {
    const a = tensor([1, 2]);
    const b = tensor([1, 2, 3]);
    refused(
      () => mergeOutputs([a, b], { mergeStrategy: 'stack' }),
      /stack along axis 0: operator_0 has shape \[2\] but operator_1 has \[3\]; stack needs equal shapes/,
    );
    refused(
      () => mergeOutputs([a, tensor([[1, 2]])], { mergeStrategy: 'sum' }),
      /sum: operator_0 has shape \[2\] but operator_1 has \[1, 2\]; .*no broadcasting/,
    );
    refused(
      () => mergeOutputs([a, a, tensor(1)], { mergeStrategy: 'mean' }),
      /mean: operator_0 has shape \[2\] but operator_2 has \[\]/,
    );
    refused(
      () =>
        mergeBatched([tensor([[1, 2]]), tensor([[1, 2, 3]])], {
          names: ['a', 'b'],
          weights: [1, 1],
        }),
      /weighted sum: a has examples of shape \[2\] but b has \[3\]/,
    );
  });

  it('refuses trees of different structure, naming the path and the operators', () => {
    refused(
      () => mergeOutputs([{ a: tensor([1]), b: tensor([1]) }, { a: tensor([1]) }]),
      /differ in structure at the top: operator_0 has an object with keys "a", "b" but operator_1 has an object with keys "a"/,
    );
    refused(
      () => mergeOutputs([{ a: [tensor([1])] }, { a: tensor([1]) }], { mergeStrategy: 'sum' }),
      /at \.a: operator_0 has an array of 1 but operator_1 has a tensor/,
    );
  });
});

describe('merge errors: batches, conditions, masks and weights', () => {
  it("reads well with the composite's names, e.g. operator_0 ('flip')", () => {
    const names = ["operator_0 ('flip')", 'operator_1'];
    refused(
      () => mergeBatched([tensor([[1]]), tensor([[1, 2, 3]])], { names, mergeStrategy: 'sum' }),
      /^sum: operator_0 \('flip'\) has examples of shape \[1\] but operator_1 has \[3\]; sum adds/,
    );
    refused(
      () => mergeBatched([{ a: [[1, 'x']] }, { a: [[1, 2]] }] as never, { names }),
      /^operator_0 \('flip'\) at \.a: values\[0\]\[1\] is the string "x"/,
    );
    refused(
      () => mergeBatched([{ x: tensor(1) }, { x: tensor(2) }], { names, mergeFn: (o) => o[0]! }),
      /^operator_0 \('flip'\) at \.x is a single number/,
    );
  });

  it('refuses outputs of different batch sizes, and leaves with no batch axis', () => {
    refused(
      () => mergeBatched([tensor([[1], [2]]), tensor([[1]])], { names: ['flip', 'noise'] }),
      /flip holds 2 examples but noise holds 1/,
    );
    refused(
      () => mergeBatched([{ x: tensor(1) }, { x: tensor(2) }], { names: ['a', 'b'] }),
      /at \.x: a is a single number \(shape \[\]\); a batched output has the examples on its first axis/,
    );
  });

  it('refuses a condition count that differs from the outputs, naming both', () => {
    refused(
      () => mergeOutputsConditional(pair, [true], { mergeStrategy: 'sum' }),
      /1 conditions for 2 outputs; give one condition per output/,
    );
    refused(
      () => mergeOutputsConditional(pair, true as never),
      /conditions the boolean true for 2 outputs/,
    );
  });

  it('refuses conditions that are neither booleans, numbers nor one-element tensors', () => {
    refused(
      () => mergeOutputsConditional(pair, [true, 'yes'] as never),
      /condition 1 is the string "yes"/,
    );
    refused(
      () => mergeOutputsConditional(pair, [tensor([1, 0]), true]),
      /condition 0 is a tensor of shape \[2\]; .* one element/,
    );
    refused(() => mergeOutputsConditional(pair, [null, true] as never), /condition 0 is null/);
  });

  it('refuses masks that do not fit the outputs or the batch', () => {
    const outputs = [tensor([[1], [2]]), tensor([[3], [4]])];
    const names = ['a', 'b'];
    refused(
      () => mergeBatched(outputs, { names, mask: [Uint8Array.of(1, 1)] }),
      /1 masks for 2 outputs/,
    );
    refused(
      () => mergeBatched(outputs, { names, mask: [Uint8Array.of(1, 1), [1, 1] as never] }),
      /the mask of b is an array of 2; give a Uint8Array/,
    );
    refused(
      () =>
        mergeBatched(outputs, {
          names,
          mask: [Uint8Array.of(1, 1, 1), Uint8Array.of(1, 1, 1)],
          mergeStrategy: 'sum',
        }),
      /the mask covers 3 examples but the outputs hold 2/,
    );
  });

  it('refuses a weight count that differs from the outputs, and weights that are no numbers', () => {
    const names = ['a', 'b'];
    const outputs = [tensor([[1]]), tensor([[2]])];
    refused(
      () => mergeBatched(outputs, { names, weights: [1] }),
      /1 weights for 2 outputs; give one weight per output/,
    );
    refused(
      () => mergeBatched(outputs, { names, weights: [1, '2'] as never }),
      /the weight of b is the string "2"/,
    );
  });
});

describe('merge errors: mergeFn', () => {
  it('keeps the error of a mergeFn that throws as the cause', () => {
    const thrown = new RangeError('index out of range');
    const error = refused(
      () =>
        mergeOutputs(pair, {
          mergeFn: () => {
            throw thrown;
          },
        }),
      /mergeFn threw while merging 2 outputs: index out of range/,
    );
    assert.equal(error.cause, thrown);
  });

  it('refuses a mergeFn result that is no tree, or a promise', () => {
    refused(
      () => mergeOutputs(pair, { mergeFn: () => ({ a: 'x' }) as never }),
      /the result of mergeFn at \.a is the string "x"/,
    );
    refused(
      () => mergeOutputs(pair, { mergeFn: (async () => pair[0]) as never }),
      /mergeFn returned a promise/,
    );
  });
});

describe('merges of huge shapes', () => {
  const huge = zeros([2 ** 40, 0]);

  // Without its guard this walks 2^40 indices of nothing, for hours.
  it('return an empty result at once, whatever its leading axes', () => {
    for (const [options, shape] of [
      [{ mergeAxis: -1 }, [2 ** 40, 0]],
      [{ mergeStrategy: 'stack', mergeAxis: 1 }, [2 ** 40, 2, 0]],
      [{ mergeStrategy: 'sum' }, [2 ** 40, 0]],
      [{ mergeStrategy: 'mean' }, [2 ** 40, 0]],
    ] as const) {
      const merged = mergeOutputs([huge, huge], options) as Tensor;
      assert.deepEqual(merged.shape, shape, JSON.stringify(options));
      assert.equal(merged.size, 0);
    }
    const batched = zeros([4, 2 ** 40, 0]);
    const names = ['a', 'b'];
    for (const options of [{ mergeAxis: -1 }, { weights: [0.5, 0.5] }]) {
      const merged = mergeBatched([batched, batched], { names, ...options }) as Tensor;
      assert.equal(merged.size, 0, JSON.stringify(options));
    }
    const mask = [Uint8Array.of(1, 0, 1, 0), Uint8Array.of(0, 0, 1, 1)];
    const masked = mergeBatched([batched, batched], { names, mask, mergeStrategy: 'mean' });
    assert.equal((masked as Tensor).size, 0);
  });

  it('refuse a mergeFn over more than 2^24 examples, before calling it', () => {
    refused(
      () =>
        mergeBatched([huge], {
          names: ["operator_0 ('flip')"],
          mergeFn: () => {
            throw new Error('called');
          },
        }),
      /^mergeBatched\(\): the outputs hold 1099511627776 examples and a mergeFn is called once per example, at most 16777216 times/,
    );
  });

  it('refuse stacking mergeFn results past what a typed array holds', () => {
    // One row of 2^20 per example, the same tensor each time: only the stack would be large.
    const row = zeros([2 ** 20], 'uint8');
    const examples = Math.floor(constants.MAX_LENGTH / 2 ** 20) + 1;
    // Where typed arrays hold more than 2^44 elements, the example count is refused first.
    const expected =
      examples <= 2 ** 24
        ? new RegExp(`^stacking mergeFn's results: shape \\[${examples}, 1048576\\] holds`)
        : /called once per example/;
    refused(
      () => mergeBatched([zeros([examples, 0])], { names: ['a'], mergeFn: () => row }),
      expected,
    );
  });
});
