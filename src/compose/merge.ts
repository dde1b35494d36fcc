/**
 * datarax's merges of parallel outputs: `concat`, `stack`, `sum`, `mean`, `dict` or a
 * custom `mergeFn`, leaf by leaf over trees, and their masked form for conditional
 * composition. The composite merges batched outputs (the examples on the first axis)
 * with the merge axis counted within one example, as under JAX's vmap.
 *
 * One engine does all of it: {@link mergeBatched}. The unbatched merges are the batched
 * one over views of one example (`reshape([1, …shape])`, free), and a condition is a mask
 * of one example. Copies go through `TypedArray.set` in contiguous runs; sums are one
 * tight loop per output count, accumulating in doubles and rounding once into the result.
 */
import { ValidationError } from '../core/errors.ts';
import {
  isFloat,
  isTensor,
  isTensorLike,
  promoteDtypes,
  sizeOf,
  Tensor,
  type TypedArray,
  tensorFrom,
  typedArray,
} from './tensor.ts';
import {
  batchSizeOf,
  exampleOf,
  mapLeaves,
  setOwn,
  type Tree,
  type TreeInput,
  toTree,
  zipLeaves,
} from './tree.ts';

/** How parallel outputs are merged. */
export type MergeStrategy = 'concat' | 'stack' | 'sum' | 'mean' | 'dict';

/** The merge strategies, for messages and checks. */
export const mergeStrategies: readonly MergeStrategy[] = ['concat', 'stack', 'sum', 'mean', 'dict'];

/** Options of {@link mergeOutputs} and {@link mergeOutputsConditional}. */
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
   * tensors. A merge function that throws fails the merge, its error kept as the cause.
   * @default null
   */
  readonly mergeFn?: ((outputs: Tree[]) => TreeInput) | null;
}

/**
 * A condition's value: a boolean, a number (non-zero is true, NaN too, as in NumPy) or a
 * tensor of one element.
 */
export type ConditionValue = boolean | number | Tensor;

/**
 * Merges the outputs of parallel operators, leaf by leaf (datarax's `merge_output_sequence`).
 * Results are new tensors: they never share data with the outputs.
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
      `${what}: ${Array.isArray(conditions) ? `${conditions.length} conditions` : `conditions ${describe(conditions)}`} for ${outputs.length} outputs; give one condition per output.`,
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
 * under vmap, with that example's outputs; its results are stacked into a batch.
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

/**
 * A merge function over a batch, as under vmap: called with each example's outputs, its
 * results stacked along a new first axis (copied, so none shares the outputs' memory).
 * With no examples it is called once with the (empty) batched outputs.
 */
function mergeEachExample(
  mergeFn: (outputs: Tree[]) => TreeInput,
  trees: readonly Tree[],
  names: readonly string[],
): Tree {
  const size = batchSizeOf(trees[0]!, names[0]);
  trees.forEach((tree, i) => {
    if (batchSizeOf(tree, names[i]) !== size) {
      throw new ValidationError(
        `mergeBatched(): ${names[i]} holds ${batchSizeOf(tree, names[i])} examples but ${names[0]} holds ${size}; every output has the batch's examples on its first axis.`,
      );
    }
  });
  if (size === 0) return callMergeFn(mergeFn, [...trees]);
  const merged: Tree[] = [];
  for (let i = 0; i < size; i++) {
    merged.push(
      callMergeFn(
        mergeFn,
        trees.map((tree) => exampleOf(tree, i)),
      ),
    );
  }
  return zipLeaves(merged, stackExamples, (i) => `mergeFn's result for example ${i}`) as Tree;
}

/** One merge function result per example, as one tensor with the examples first. */
function stackExamples(leaves: Tensor[], path: string): Tensor {
  const shape = leaves[0]!.shape;
  leaves.forEach((leaf, i) => {
    if (
      leaf.shape.length !== shape.length ||
      leaf.shape.some((length, axis) => length !== shape[axis])
    ) {
      throw new ValidationError(
        `mergeFn returned shape [${leaf.shape.join(', ')}] for example ${i}${path === '' ? '' : ` at ${path}`} but [${shape.join(', ')}] for example 0; it must return the same shapes for every example.`,
      );
    }
  });
  const dtype = promoteDtypes(leaves.map((leaf) => leaf.dtype));
  const rowSize = sizeOf(shape);
  const data = typedArray(dtype, rowSize * leaves.length);
  for (let i = 0; i < leaves.length; i++) data.set(leaves[i]!.data, i * rowSize);
  return new Tensor(data, [leaves.length, ...shape], dtype);
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
  if (plan.mergeFn !== undefined) return callMergeFn(plan.mergeFn, trees);
  const batched = trees.map((tree) => mapLeaves(tree, (leaf) => leaf.reshape([1, ...leaf.shape])));
  return mapLeaves(mergeTrees(batched, plan), (leaf) => leaf.reshape(leaf.shape.slice(1)));
}

/** A merge's checked options. */
interface Plan {
  readonly strategy: MergeStrategy;
  readonly axis: number;
  readonly mergeFn: ((outputs: Tree[]) => TreeInput) | undefined;
  readonly names: readonly string[];
  readonly mask: readonly Uint8Array[] | undefined;
  /** Per example, the outputs whose mask is 1; undefined when all count everywhere. */
  readonly active: readonly (readonly number[])[] | undefined;
  readonly weights: readonly number[] | undefined;
  /** Shapes in messages are of one example: true for the unbatched merges. */
  readonly single: boolean;
}

function planOf(
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
      `${what}: unknown mergeStrategy ${typeof strategy === 'string' ? `'${strategy}'` : describe(strategy)}; use one of ${mergeStrategies.join(', ')}, or give a mergeFn.`,
    );
  }
  const axis = options.mergeAxis ?? 0;
  if (!Number.isInteger(axis)) {
    throw new ValidationError(
      `${what}: mergeAxis ${typeof axis === 'number' ? String(axis) : describe(axis)} is not a whole number; give an axis such as 0 or -1.`,
    );
  }
  const mergeFn = options.mergeFn ?? undefined;
  if (mergeFn !== undefined && typeof mergeFn !== 'function') {
    throw new ValidationError(
      `${what}: mergeFn is ${describe(mergeFn)}; give a function of the outputs, or null.`,
    );
  }
  const count = names.length;
  if (weights !== undefined) {
    const length = (weights as { length?: unknown })?.length;
    if (typeof length !== 'number' || length !== count) {
      throw new ValidationError(
        `${what}: ${typeof length === 'number' ? `${length} weights` : `weights ${describe(weights)}`} for ${count} outputs; give one weight per output.`,
      );
    }
    for (let i = 0; i < count; i++) {
      if (typeof weights[i] !== 'number') {
        throw new ValidationError(
          `${what}: the weight of ${names[i]} is ${describe(weights[i])}; weights are numbers.`,
        );
      }
    }
  }
  if (mask !== undefined) {
    if (!Array.isArray(mask) || mask.length !== count) {
      throw new ValidationError(
        `${what}: ${Array.isArray(mask) ? `${mask.length} masks` : `mask ${describe(mask)}`} for ${count} outputs; give one Uint8Array per output.`,
      );
    }
    mask.forEach((row, i) => {
      if (!(row instanceof Uint8Array) || row.length !== mask[0]!.length) {
        throw new ValidationError(
          `${what}: the mask of ${names[i]} is ${row instanceof Uint8Array ? `of length ${row.length}, not ${mask[0]!.length}` : describe(row)}; give a Uint8Array of one entry per example.`,
        );
      }
    });
  }
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

function mergeTrees(trees: readonly Tree[], plan: Plan): Tree {
  return zipLeaves(
    trees,
    (leaves, path) => mergeLeaf(leaves, path, plan),
    (i) => plan.names[i]!,
  );
}

function mergeLeaf(leaves: readonly Tensor[], path: string, plan: Plan): Tree {
  const at = path === '' ? '' : ` at ${path}`;
  checkBatch(leaves, at, plan);
  if (plan.weights !== undefined) return reduceLeaf(leaves, plan, 'weighted sum', at);
  switch (plan.strategy) {
    case 'concat':
      return concatLeaf(leaves, plan, at);
    case 'stack':
      return stackLeaf(leaves, plan, at);
    case 'dict': {
      const out: Record<string, Tensor> = {};
      for (const [i, leaf] of leaves.entries()) setOwn(out, `operator_${i}`, leaf.copy());
      return out;
    }
    default:
      return reduceLeaf(leaves, plan, plan.strategy, at);
  }
}

/** Every leaf has a first axis, of the same length in every output and in the mask. */
function checkBatch(leaves: readonly Tensor[], at: string, plan: Plan): void {
  const size = leaves[0]!.shape[0];
  const how = plan.weights === undefined ? plan.strategy : 'weighted sum';
  leaves.forEach((leaf, i) => {
    if (leaf.shape.length === 0) {
      throw new ValidationError(
        `${how}${at}: ${plan.names[i]} is a single number (shape []); a batched output has the examples on its first axis.`,
      );
    }
    if (leaf.shape[0] !== size) {
      throw new ValidationError(
        `${how}${at}: ${plan.names[0]} holds ${size} examples but ${plan.names[i]} holds ${leaf.shape[0]}; every output has the batch's examples on its first axis.`,
      );
    }
  });
  const masked = plan.mask?.[0]?.length;
  if (masked !== undefined && masked !== size) {
    throw new ValidationError(
      `${how}${at}: the mask covers ${masked} examples but the outputs hold ${size}; give one mask entry per example.`,
    );
  }
}

function concatLeaf(leaves: readonly Tensor[], plan: Plan, at: string): Tensor {
  const rank = leaves[0]!.ndim - 1;
  const where = `concat along axis ${plan.axis}${at}`;
  if (rank === 0) {
    throw new ValidationError(
      `${where}: ${plan.names[0]} has ${shapeText([], plan)}, a single number with no axis to concatenate along; use stack to put numbers side by side.`,
    );
  }
  const axis = exampleAxis(plan.axis, rank, where, leaves[0]!, plan);
  const first = leaves[0]!.shape;
  leaves.forEach((leaf, i) => {
    const fits =
      leaf.ndim === first.length &&
      leaf.shape.every((length, k) => k === axis + 1 || length === first[k]);
    if (!fits) {
      throw new ValidationError(
        `${where}: ${plan.names[0]} has ${shapeText(first.slice(1), plan)} but ${plan.names[i]} has [${leaf.shape.slice(1).join(', ')}]; all axes but ${plan.axis} must agree.`,
      );
    }
  });
  const shape = [...first];
  shape[axis + 1] = leaves.reduce((total, leaf) => total + leaf.shape[axis + 1]!, 0);
  return interleaved(leaves, shape, axis + 1);
}

function stackLeaf(leaves: readonly Tensor[], plan: Plan, at: string): Tensor {
  const where = `stack along axis ${plan.axis}${at}`;
  checkEqualShapes(leaves, plan, where, 'stack needs equal shapes');
  const first = leaves[0]!.shape;
  // A new axis: an example of rank r has r + 1 places for it.
  const axis = exampleAxis(plan.axis, first.length, where, leaves[0]!, plan);
  const shape = [...first.slice(0, axis + 1), leaves.length, ...first.slice(axis + 1)];
  return interleaved(leaves, shape, axis + 1);
}

/**
 * The result of `shape`, whose axis `axis` (of the batch) holds the leaves one after the
 * other: for each index before that axis, each leaf's contiguous run is copied in turn.
 */
function interleaved(leaves: readonly Tensor[], shape: readonly number[], axis: number): Tensor {
  const dtype = promoteDtypes(leaves.map((leaf) => leaf.dtype));
  const out = typedArray(dtype, sizeOf(shape));
  const outer = sizeOf(shape.slice(0, axis));
  const sources = leaves.map((leaf) => leaf.data);
  const runs = leaves.map((leaf) => (outer === 0 ? 0 : leaf.size / outer));
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i]!;
      const run = runs[i]!;
      const from = o * run;
      // set() costs a view per call: short runs are cheaper copied by hand.
      if (run > 32) out.set(source.subarray(from, from + run), to);
      else for (let j = 0; j < run; j++) out[to + j] = source[from + j]!;
      to += run;
    }
  }
  return new Tensor(out, shape, dtype);
}

type Reduction = 'sum' | 'mean' | 'weighted sum';

function reduceLeaf(leaves: readonly Tensor[], plan: Plan, how: Reduction, at: string): Tensor {
  checkEqualShapes(
    leaves,
    plan,
    `${how}${at}`,
    `${how === 'mean' ? 'mean averages' : 'sum adds'} element by element and needs equal shapes (no broadcasting)`,
  );
  const promoted = promoteDtypes(leaves.map((leaf) => leaf.dtype));
  const dtype = how === 'sum' || isFloat(promoted) ? promoted : 'float32';
  const { shape, size } = leaves[0]!;
  const out = typedArray(dtype, size);
  const sources = leaves.map((leaf) => leaf.data);
  const weights = plan.weights;
  if (plan.active === undefined) {
    reduceInto(out, sources, weights, 0, size, how === 'mean' ? sources.length : 1);
    return new Tensor(out, shape, dtype);
  }
  const examples = shape[0]!;
  const run = examples === 0 ? 0 : size / examples;
  plan.active.forEach((active, b) => {
    // No output counts here: the zeros the result was made with stay.
    if (active.length === 0) return;
    const here = active.map((i) => sources[i]!);
    const weighed = weights === undefined ? undefined : active.map((i) => weights[i]!);
    reduceInto(out, here, weighed, b * run, (b + 1) * run, how === 'mean' ? active.length : 1);
  });
  return new Tensor(out, shape, dtype);
}

/**
 * out[j] = (Σ weights[k] · s[k][j]) / divisor for j in [from, to), left to right in
 * doubles and rounded once into `out`. One loop per output count keeps the common cases
 * as fast as a hand-written loop.
 */
function reduceInto(
  out: TypedArray,
  s: readonly TypedArray[],
  weights: readonly number[] | undefined,
  from: number,
  to: number,
  divisor: number,
): void {
  const n = s.length;
  if (weights !== undefined) {
    for (let j = from; j < to; j++) {
      let total = weights[0]! * s[0]![j]!;
      for (let k = 1; k < n; k++) total += weights[k]! * s[k]![j]!;
      out[j] = total;
    }
    return;
  }
  const a = s[0]!;
  if (n === 1) {
    if (divisor !== 1) for (let j = from; j < to; j++) out[j] = a[j]! / divisor;
    else if (out.constructor === a.constructor) out.set(a.subarray(from, to), from);
    else for (let j = from; j < to; j++) out[j] = a[j]!;
  } else if (n === 2) {
    const b = s[1]!;
    if (divisor !== 1) for (let j = from; j < to; j++) out[j] = (a[j]! + b[j]!) / divisor;
    else for (let j = from; j < to; j++) out[j] = a[j]! + b[j]!;
  } else if (n === 3) {
    const b = s[1]!;
    const c = s[2]!;
    if (divisor !== 1) for (let j = from; j < to; j++) out[j] = (a[j]! + b[j]! + c[j]!) / divisor;
    else for (let j = from; j < to; j++) out[j] = a[j]! + b[j]! + c[j]!;
  } else {
    for (let j = from; j < to; j++) {
      let total = a[j]!;
      for (let k = 1; k < n; k++) total += s[k]![j]!;
      out[j] = total / divisor;
    }
  }
}

/** The batch axis of example axis `axis` (negative from the end) among `places` places, checked. */
function exampleAxis(
  axis: number,
  places: number,
  where: string,
  leaf: Tensor,
  plan: Plan,
): number {
  if (axis < -places || axis >= places) {
    throw new ValidationError(
      `${where}: ${plan.names[0]} has ${shapeText(leaf.shape.slice(1), plan)}, where the axis goes from ${-places} to ${places - 1}; give a mergeAxis in that range.`,
    );
  }
  return axis < 0 ? axis + places : axis;
}

function checkEqualShapes(leaves: readonly Tensor[], plan: Plan, where: string, why: string): void {
  const first = leaves[0]!.shape;
  leaves.forEach((leaf, i) => {
    if (leaf.ndim !== first.length || leaf.shape.some((length, k) => length !== first[k])) {
      throw new ValidationError(
        `${where}: ${plan.names[0]} has ${shapeText(first.slice(1), plan)} but ${plan.names[i]} has [${leaf.shape.slice(1).join(', ')}]; ${why}.`,
      );
    }
  });
}

/** An example's shape in a message: `shape [2, 3]`, or `examples of shape [2, 3]` in a batch. */
function shapeText(shape: readonly number[], plan: Plan): string {
  return `${plan.single ? 'shape' : 'examples of shape'} [${shape.join(', ')}]`;
}

function callMergeFn(mergeFn: (outputs: Tree[]) => TreeInput, trees: Tree[]): Tree {
  let result: unknown;
  try {
    result = mergeFn(trees);
  } catch (error) {
    throw new ValidationError(
      `mergeFn threw while merging ${trees.length} outputs: ${error instanceof Error ? error.message : String(error)}. Fix the merge function; its error is the cause.`,
      { cause: error },
    );
  }
  if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
    throw new ValidationError(
      'mergeFn returned a promise; a merge function returns its merged tree, synchronously.',
    );
  }
  return toTree(result, 'the result of mergeFn');
}

function checkOutputs(outputs: unknown, what: string): void {
  if (!Array.isArray(outputs)) {
    throw new ValidationError(
      `${what}: the outputs are ${describe(outputs)}; give an array of outputs, one per operator.`,
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
    `${what}: condition ${index} is ${describe(condition)}; a condition is a boolean, a number or a one-element tensor.`,
  );
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object') return `the ${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  const name = proto?.constructor?.name;
  return `a ${typeof name === 'string' && name !== '' ? name : 'object'}`;
}
