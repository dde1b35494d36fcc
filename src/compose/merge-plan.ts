/**
 * A merge's options, checked once into a {@link Plan} that the leaf merges read: the
 * strategy, the axis, a mergeFn, and the mask and weights of the batched merge.
 */
import { describeValue } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import type { Tree, TreeInput } from './tree.ts';

/** How parallel outputs are merged. */
export type MergeStrategy = 'concat' | 'stack' | 'sum' | 'mean' | 'dict';

/** The merge strategies, for messages and checks. */
export const mergeStrategies: readonly MergeStrategy[] = ['concat', 'stack', 'sum', 'mean', 'dict'];

/** A merge function: the outputs (or one example's outputs) in, the merged tree out. */
export type MergeFn = (outputs: Tree[]) => TreeInput;

/** Options of `mergeOutputs`, `mergeOutputsConditional` and the parallel strategies. */
export interface MergeOptions {
  /**
   * `concat` along `mergeAxis`, `stack` along a new axis at `mergeAxis`, element-wise
   * `sum` or `mean` (equal shapes, no broadcasting), or `dict`: `{ operator_0,
   * operator_1, … }` in place of each leaf. Mixed dtypes promote as in JAX; the mean of
   * integers is float32.
   * @default 'concat' (also when null)
   */
  readonly mergeStrategy?: MergeStrategy | null;
  /**
   * The axis of `concat` and `stack`, a whole number; negative counts from the end.
   * @default 0
   */
  readonly mergeAxis?: number;
  /**
   * Merges the outputs itself (overrides `mergeStrategy`); its result's leaves become
   * tensors, and a leaf that shares memory with an output is copied. In `mergeOutputs` and
   * `mergeOutputsConditional` it receives the outputs; in a composite (`mergeBatched`) it
   * is called once per example with that example's outputs, as datarax's is under vmap,
   * and its results are stacked into a batch. A merge function that throws fails the
   * merge, its error kept as the cause.
   * @default null
   */
  readonly mergeFn?: MergeFn | null;
}

/** A merge's checked options. */
export interface Plan {
  readonly strategy: MergeStrategy;
  readonly axis: number;
  readonly mergeFn: MergeFn | undefined;
  /** Each output's name in messages: `operator_1`, or `operator_1 ('flip')`. */
  readonly names: readonly string[];
  readonly mask: readonly Uint8Array[] | undefined;
  /** Per example, the outputs whose mask is 1; undefined when all count everywhere. */
  readonly active: readonly (readonly number[])[] | undefined;
  readonly weights: readonly number[] | undefined;
  /** Shapes in messages are of one example: true for the unbatched merges. */
  readonly single: boolean;
}

/**
 * `options`, the mask and the weights checked into a plan.
 * @param what names the merge in errors, e.g. `mergeOutputs()`
 * @throws ValidationError naming the option that is wrong and what to give instead
 */
export function planOf(
  options: MergeOptions,
  names: readonly string[],
  mask: readonly Uint8Array[] | undefined,
  weights: ArrayLike<number> | undefined,
  single: boolean,
  what: string,
): Plan {
  const strategy = options.mergeStrategy ?? 'concat';
  if (!mergeStrategies.includes(strategy)) {
    throw new ValidationError(
      `${what}: unknown mergeStrategy ${typeof strategy === 'string' ? `'${strategy}'` : describeValue(strategy)}; use one of ${mergeStrategies.join(', ')}, or give a mergeFn.`,
    );
  }
  const axis = options.mergeAxis ?? 0;
  if (!Number.isInteger(axis)) {
    throw new ValidationError(
      `${what}: mergeAxis ${typeof axis === 'number' ? String(axis) : describeValue(axis)} is not a whole number; give an axis such as 0 or -1.`,
    );
  }
  const mergeFn = options.mergeFn ?? undefined;
  if (mergeFn !== undefined && typeof mergeFn !== 'function') {
    throw new ValidationError(
      `${what}: mergeFn is ${describeValue(mergeFn)}; give a function of the outputs, or null.`,
    );
  }
  if (weights !== undefined) checkWeights(weights, names, what);
  if (mask !== undefined) checkMask(mask, names, what);
  return {
    strategy,
    axis,
    mergeFn,
    names,
    mask,
    active: activeOf(mask),
    weights: weights === undefined ? undefined : Array.from(weights),
    single,
  };
}

function checkWeights(weights: ArrayLike<number>, names: readonly string[], what: string): void {
  const count = names.length;
  const length = (weights as { length?: unknown })?.length;
  if (typeof length !== 'number' || length !== count) {
    throw new ValidationError(
      `${what}: ${typeof length === 'number' ? `${length} weights` : `weights ${describeValue(weights)}`} for ${count} outputs; give one weight per output.`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (typeof weights[i] !== 'number') {
      throw new ValidationError(
        `${what}: the weight of ${names[i]} is ${describeValue(weights[i])}; weights are numbers.`,
      );
    }
  }
}

function checkMask(mask: readonly Uint8Array[], names: readonly string[], what: string): void {
  const count = names.length;
  if (!Array.isArray(mask) || mask.length !== count) {
    throw new ValidationError(
      `${what}: ${Array.isArray(mask) ? `${mask.length} masks` : `mask ${describeValue(mask)}`} for ${count} outputs; give one Uint8Array per output.`,
    );
  }
  mask.forEach((row, i) => {
    if (!(row instanceof Uint8Array) || row.length !== mask[0]!.length) {
      throw new ValidationError(
        `${what}: the mask of ${names[i]} is ${row instanceof Uint8Array ? `of length ${row.length}, not ${mask[0]!.length}` : describeValue(row)}; give a Uint8Array of one entry per example.`,
      );
    }
  });
}

/** Per example, the outputs whose mask is set; undefined when every output always counts. */
function activeOf(mask: readonly Uint8Array[] | undefined): number[][] | undefined {
  if (mask === undefined || mask.every((row) => row.every((bit) => bit !== 0))) return undefined;
  const examples = mask[0]?.length ?? 0;
  const active: number[][] = [];
  for (let b = 0; b < examples; b++) {
    const here: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i]![b] !== 0) here.push(i);
    active.push(here);
  }
  return active;
}

/** An example's shape in a message: `shape [2, 3]`, or `examples of shape [2, 3]` in a batch. */
export function exampleShapeText(shape: readonly number[], plan: Plan): string {
  return `${plan.single ? 'shape' : 'examples of shape'} [${shape.join(', ')}]`;
}
