/**
 * datarax's merges of parallel outputs: `concat`, `stack`, `sum`, `mean`, `dict` or a
 * custom `mergeFn`, leaf by leaf over trees, and their masked form for conditional
 * composition. The composite merges batched outputs (the examples on the first axis)
 * with the merge axis counted within one example, as under JAX's vmap.
 *
 * One engine does all of it: {@link mergeBatched}. The unbatched merges are the batched
 * one over views of one example (`reshape([1, …shape])`, free), and a condition is a mask
 * of one example. The options are checked into a plan (`merge-plan.ts`), each leaf is
 * checked and merged (`merge-leaf.ts`) by the copy and sum loops (`merge-kernels.ts`);
 * a mergeFn has its own path (`merge-each.ts`).
 */
import { describeValue } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import { mergeEachExample, mergeWith } from './merge-each.ts';
import { mergeTrees } from './merge-leaf.ts';
import { type MergeOptions, planOf } from './merge-plan.ts';
import { isTensor, isTensorLike, type Tensor, tensorFrom } from './tensor.ts';
import { mapLeaves, type Tree, type TreeInput, toTree } from './tree.ts';

export {
  type MergeFn,
  type MergeOptions,
  type MergeStrategy,
  mergeStrategies,
} from './merge-plan.ts';

/**
 * A condition's value: a boolean, a number (non-zero is true, NaN too, as in NumPy) or a
 * tensor of one element.
 */
export type ConditionValue = boolean | number | Tensor;

/**
 * Merges the outputs of parallel operators, leaf by leaf (datarax's `merge_output_sequence`).
 * Results never share memory with the outputs: the strategies make new tensors, and a
 * leaf of a mergeFn's result that shares an output's memory is copied.
 * @example
 * mergeOutputs([tensor([1, 2]), tensor([3, 4])]).toArray()                        // [1, 2, 3, 4]
 * mergeOutputs([tensor([1, 2]), tensor([3, 4])], { mergeStrategy: 'mean' })       // [2, 3]
 * @throws ValidationError for no outputs, an unknown strategy, trees of different
 * structure or shapes that cannot merge (naming the operator and the shapes)
 */
export function mergeOutputs(outputs: readonly TreeInput[], options: MergeOptions = {}): Tree {
  return mergeExamples(outputs, options, undefined, 'mergeOutputs()');
}

/**
 * Merges outputs of which only those whose condition holds count (datarax's
 * `merge_outputs_conditional`): a false operator's output (its input, unchanged) still
 * takes its place in `concat`, `stack`, `dict` and `mergeFn`, adds nothing to `sum`, and
 * `mean` divides by the number of true conditions (all false gives zeros).
 * @example
 * mergeOutputsConditional([tensor([10]), tensor([20]), tensor([30])], [true, false, true],
 *   { mergeStrategy: 'mean' }).toArray()                                           // [20]
 * @throws ValidationError as {@link mergeOutputs}, and when there is not one condition per output
 */
export function mergeOutputsConditional(
  outputs: readonly TreeInput[],
  conditions: readonly ConditionValue[],
  options: MergeOptions = {},
): Tree {
  const what = 'mergeOutputsConditional()';
  checkOutputs(outputs, what);
  if (!Array.isArray(conditions) || conditions.length !== outputs.length) {
    throw new ValidationError(
      `${what}: ${Array.isArray(conditions) ? `${conditions.length} conditions` : `conditions ${describeValue(conditions)}`} for ${outputs.length} outputs; give one condition per output.`,
    );
  }
  const mask = conditions.map((condition, i) => Uint8Array.of(isTrue(condition, i, what) ? 1 : 0));
  return mergeExamples(outputs, options, mask, what);
}

/** How the composite merges batched outputs. */
export interface BatchedMergeOptions extends MergeOptions {
  /** Each output's name in errors, e.g. `operator_1 ('flip')`. */
  readonly names: readonly string[];
  /**
   * Per output, per example: 1 where its condition held. `sum` and `mean` count an output
   * only where its mask is 1 (`mean` divides by the count, at least 1); `concat`,
   * `stack`, `dict` and `mergeFn` take every output as it is.
   * @default every output counts everywhere
   */
  readonly mask?: readonly Uint8Array[];
  /**
   * Per output, its weight: the merge is then the weighted sum Σ weights[i]·output[i]
   * (a float tensor), whatever `mergeStrategy` says.
   * @default none: `mergeStrategy` merges
   */
  readonly weights?: ArrayLike<number>;
}

/**
 * Merges outputs whose leaves have the examples on their first axis: `mergeAxis` counts
 * within one example (axis 0 of an example is axis 1 of the batch), and a mask and weights
 * apply per example and per output. `mergeFn` is called once per example, as datarax's is
 * under vmap, with that example's outputs; its results are stacked into a batch. As with
 * {@link mergeOutputs}, the result never shares memory with the outputs.
 * @example
 * // x*2 and x*3 over the batch [[1], [2]], concat along the example's axis 0:
 * mergeBatched([tensor([[2], [4]]), tensor([[3], [6]])], { names: ['a', 'b'] }).toArray()
 * // [[2, 3], [4, 6]]
 * @throws ValidationError as {@link mergeOutputs}, and for outputs of different batch sizes
 */
export function mergeBatched(outputs: readonly Tree[], options: BatchedMergeOptions): Tree {
  const what = 'mergeBatched()';
  checkOutputs(outputs, what);
  const { names: given, mask, weights } = options ?? {};
  const names = outputs.map((_, i) => given?.[i] ?? `operator_${i}`);
  const plan = planOf(options ?? {}, names, mask, weights, false, what);
  const trees = outputs.map((output, i) => toTree(output, names[i]!));
  if (plan.mergeFn !== undefined) return mergeEachExample(plan.mergeFn, trees, names);
  return mergeTrees(trees, plan);
}

/** The unbatched merges: the batched merge over views of one example. */
function mergeExamples(
  outputs: readonly TreeInput[],
  options: MergeOptions,
  mask: readonly Uint8Array[] | undefined,
  what: string,
): Tree {
  checkOutputs(outputs, what);
  const names = outputs.map((_, i) => `operator_${i}`);
  const plan = planOf(options ?? {}, names, mask, undefined, true, what);
  const trees = outputs.map((output, i) => toTree(output, names[i]!));
  if (plan.mergeFn !== undefined) return mergeWith(plan.mergeFn, trees);
  const batched = trees.map((tree) => mapLeaves(tree, (leaf) => leaf.reshape([1, ...leaf.shape])));
  return mapLeaves(mergeTrees(batched, plan), (leaf) => leaf.reshape(leaf.shape.slice(1)));
}

function checkOutputs(outputs: unknown, what: string): void {
  if (!Array.isArray(outputs)) {
    throw new ValidationError(
      `${what}: the outputs are ${describeValue(outputs)}; give an array of outputs, one per operator.`,
    );
  }
  if (outputs.length === 0) {
    throw new ValidationError(`${what}: no outputs to merge; give at least one operator's output.`);
  }
}

function isTrue(condition: unknown, index: number, what: string): boolean {
  if (typeof condition === 'boolean') return condition;
  // NaN is true, as NumPy's bool(nan) is.
  if (typeof condition === 'number') return condition !== 0;
  if (isTensor(condition) || isTensorLike(condition)) {
    const value = tensorFrom(condition);
    if (value.size !== 1) {
      throw new ValidationError(
        `${what}: condition ${index} is a tensor of shape [${value.shape.join(', ')}]; a condition tensor holds one element.`,
      );
    }
    return value.data[0] !== 0;
  }
  throw new ValidationError(
    `${what}: condition ${index} is ${describeValue(condition)}; a condition is a boolean, a number or a one-element tensor.`,
  );
}
