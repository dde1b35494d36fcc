/**
 * A nested composite under a condition: it runs over the examples where its condition
 * holds, gathered into a batch of their own, and its outputs are put back in their
 * places; elsewhere its output is its input, as for any operator whose condition is false.
 */
import { ValidationError } from '../core/errors.ts';
import type { ApplyOptions, CompositeResult } from './composite.ts';
import type { NestedComposite } from './run-operators.ts';
import { Tensor, typedArray } from './tensor.ts';
import { leavesOf, mapLeaves, type Tree } from './tree.ts';

/** Runs `nested` over the examples of `batch` where `mask` is 1. */
export async function maskedRun(
  nested: NestedComposite,
  batch: Tree,
  mask: Uint8Array,
  options: ApplyOptions,
): Promise<CompositeResult> {
  const picked: number[] = [];
  mask.forEach((on, example) => {
    if (on !== 0) picked.push(example);
  });
  if (picked.length === 0) return { data: batch, states: [], metadata: [] };
  if (picked.length === mask.length) return nested.run(batch, options);
  const result = await nested.run(
    mapLeaves(batch, (leaf) => gather(leaf, picked)),
    options,
  );
  const inputs = leavesOf(batch);
  const outputs = leavesOf(result.data);
  const same =
    inputs.length === outputs.length &&
    outputs.every(
      ({ path, leaf }, j) =>
        path === inputs[j]!.path && sameExample(leaf.shape, inputs[j]!.leaf.shape),
    );
  if (!same) {
    throw new ValidationError(
      `its condition is false for some examples, where its output is its input, but its outputs (${shapes(outputs)}) ` +
        `differ from its input (${shapes(inputs)}): under a ConditionalParallelStrategy an operator must keep ` +
        "its input's structure and example shapes.",
    );
  }
  let j = 0;
  const data = mapLeaves(result.data, (leaf) => scatter(inputs[j++]!.leaf, leaf, picked));
  return { data, states: result.states, metadata: result.metadata };
}

/** The rows `rows` of `leaf`, copied into a tensor of their own. */
function gather(leaf: Tensor, rows: readonly number[]): Tensor {
  const stride = leaf.size / leaf.shape[0]!;
  const out = typedArray(leaf.dtype, rows.length * stride);
  rows.forEach((row, k) => {
    (out as Float64Array).set(
      leaf.data.subarray(row * stride, (row + 1) * stride) as ArrayLike<number>,
      k * stride,
    );
  });
  return new Tensor(out, [rows.length, ...leaf.shape.slice(1)], leaf.dtype);
}

/** `input` (in `part`'s dtype) with `part`'s rows put at `rows`. */
function scatter(input: Tensor, part: Tensor, rows: readonly number[]): Tensor {
  const out = input.copy(part.dtype);
  const stride = input.shape[0] === 0 ? 0 : input.size / input.shape[0]!;
  rows.forEach((row, k) => {
    (out.data as Float64Array).set(
      part.data.subarray(k * stride, (k + 1) * stride) as ArrayLike<number>,
      row * stride,
    );
  });
  return out;
}

function sameExample(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((length, axis) => axis === 0 || length === b[axis]);
}

function shapes(leaves: readonly { path: string; leaf: Tensor }[]): string {
  return leaves
    .map(({ path, leaf }) => `${path || 'the tensor'}: [${leaf.shape.join(', ')}]`)
    .join(', ');
}
