/**
 * datarax's merges of parallel outputs: `concat`, `stack`, `sum`, `mean`, `dict` or a
 * custom `mergeFn`, leaf by leaf over trees, and their masked form for conditional
 * composition. The composite merges batched outputs (the examples on the first axis)
 * with the merge axis counted within one example, as under JAX's vmap.
 */
import { ValidationError } from '../core/errors.ts';
import type { Tensor } from './tensor.ts';
import type { Tree, TreeInput } from './tree.ts';

/** How parallel outputs are merged. */
export type MergeStrategy = 'concat' | 'stack' | 'sum' | 'mean' | 'dict';

/** The merge strategies, for messages and checks. */
export const mergeStrategies: readonly MergeStrategy[] = ['concat', 'stack', 'sum', 'mean', 'dict'];

/** Options of {@link mergeOutputs} and {@link mergeOutputsConditional}. */
export interface MergeOptions {
  /**
   * `concat` along `mergeAxis`, `stack` along a new axis at `mergeAxis`, element-wise
   * `sum` or `mean`, or `dict`: `{ operator_0, operator_1, … }` in place of each leaf.
   * @default 'concat' (also when null)
   */
  readonly mergeStrategy?: MergeStrategy | null;
  /**
   * The axis of `concat` and `stack`; negative counts from the end.
   * @default 0
   */
  readonly mergeAxis?: number;
  /** Merges the outputs itself (overrides `mergeStrategy`); its leaves become tensors. */
  readonly mergeFn?: ((outputs: Tree[]) => TreeInput) | null;
}

/** A condition's value: a boolean, a number (non-zero is true) or a tensor of one element. */
export type ConditionValue = boolean | number | Tensor;

/**
 * Merges the outputs of parallel operators, leaf by leaf (datarax's `merge_output_sequence`).
 * @example
 * mergeOutputs([tensor([1, 2]), tensor([3, 4])]).toArray()                        // [1, 2, 3, 4]
 * mergeOutputs([tensor([1, 2]), tensor([3, 4])], { mergeStrategy: 'mean' })       // [2, 3]
 * @throws ValidationError for no outputs, an unknown strategy, trees of different
 * structure or shapes that cannot merge (naming the operator and the shapes)
 */
export function mergeOutputs(_outputs: readonly TreeInput[], _options: MergeOptions = {}): Tree {
  throw new ValidationError('mergeOutputs: not built yet');
}

/**
 * Merges outputs of which only those whose condition holds count (datarax's
 * `merge_outputs_conditional`): a false operator's output (its input, unchanged) still
 * takes its place in `concat`, `stack` and `dict`, adds nothing to `sum`, and `mean`
 * divides by the number of true conditions (all false gives 0).
 * @throws ValidationError as {@link mergeOutputs}, and when there is not one condition per output
 */
export function mergeOutputsConditional(
  _outputs: readonly TreeInput[],
  _conditions: readonly ConditionValue[],
  _options: MergeOptions = {},
): Tree {
  throw new ValidationError('mergeOutputsConditional: not built yet');
}

/** How the composite merges batched outputs. */
export interface BatchedMergeOptions extends MergeOptions {
  /** Each output's name in errors, e.g. `operator_1 ('flip')`. */
  readonly names: readonly string[];
  /**
   * Per output, per example: 1 where its condition held. Absent: every output counts.
   */
  readonly mask?: readonly Uint8Array[];
  /** Per output, its weight: the merge is then the weighted sum. */
  readonly weights?: ArrayLike<number>;
}

/**
 * Merges outputs whose leaves have the examples on their first axis: `mergeAxis` counts
 * within one example (axis 0 of an example is axis 1 of the batch), and a mask and weights
 * apply per example and per output. `mergeFn` receives the batched outputs.
 */
export function mergeBatched(_outputs: readonly Tree[], _options: BatchedMergeOptions): Tree {
  throw new ValidationError('mergeBatched: not built yet');
}
