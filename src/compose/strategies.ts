/**
 * datarax's parallel composition strategies: every operator applied to the same input,
 * their outputs merged (`ParallelStrategy`), weighted and summed
 * (`WeightedParallelStrategy`), or applied where a condition holds
 * (`ConditionalParallelStrategy`). A strategy decides which operators apply to which
 * example and how the outputs merge; the composite runs them.
 */
import { describeType } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import {
  type ConditionValue,
  type MergeFn,
  type MergeOptions,
  type MergeStrategy,
  mergeBatched,
  mergeStrategies,
} from './merge.ts';
import { isTensor } from './tensor.ts';
import type { Tree } from './tree.ts';

/** A serializable description of a strategy (`JSON.stringify` keeps all of it). */
export interface StrategyDescription {
  /** The strategy's class name, e.g. `ParallelStrategy`. */
  readonly strategy: string;
  readonly [option: string]: unknown;
}

/** What a strategy's merge is given besides the batched outputs. */
export interface StrategyMergeContext {
  /** Each output's name in errors: `operator_1 ('flip')`, or `operator_1` for an operator without a name of its own. */
  readonly names: readonly string[];
  /** The `extraParams` given to `apply`. */
  readonly extraParams: Readonly<Record<string, unknown>>;
  /** Per operator, per example: 1 where the operator applied (conditional strategies). */
  readonly mask: readonly Uint8Array[] | undefined;
}

/** How a composite applies its operators and merges their outputs. */
export interface CompositionStrategy {
  /**
   * Checks the strategy against the composite's operators, when the composite is built.
   * @throws ValidationError, e.g. when there is not one condition per operator
   */
  check(operatorCount: number): void;
  /**
   * Checks what an apply gives the strategy (its `extraParams`) before any operator runs,
   * so that a mistake fails at once rather than after the work.
   * @throws ValidationError, e.g. when weights are missing
   */
  checkApply?(operatorCount: number, extraParams: Readonly<Record<string, unknown>>): void;
  /** Per operator, whether it applies to an example; undefined when all always apply. */
  readonly conditions: readonly ((element: Tree) => ConditionValue)[] | undefined;
  /** Merges the operators' batched outputs (examples on the first axis). */
  merge(outputs: readonly Tree[], context: StrategyMergeContext): Tree;
  /** A serializable description naming the strategy and its options. */
  describe(): StrategyDescription;
}

/** Options of {@link ParallelStrategy}. */
export interface ParallelStrategyOptions extends MergeOptions {
  /**
   * Merges the outputs with a function of your own instead of a strategy. In a composite
   * it is called once per example (as datarax's is under vmap) with that example's
   * outputs, one per operator, and its results, which must have the same shapes for
   * every example, are stacked into the batch (copied: they never share the outputs'
   * memory).
   * @default null: `mergeStrategy` merges
   * @example new ParallelStrategy({ mergeFn: ([a, b]) => (a as Tensor).map((v, i) => Math.max(v, (b as Tensor).data[i]!)) })
   */
  readonly mergeFn?: MergeFn | null;
}

/**
 * Applies every operator to the same input and merges the outputs.
 * @example new ParallelStrategy({ mergeStrategy: 'concat', mergeAxis: -1 })
 */
export class ParallelStrategy implements CompositionStrategy {
  /** How the outputs merge; null: `concat`, unless a `mergeFn` is given. */
  readonly mergeStrategy: MergeStrategy | null;
  /** The axis of an example's output that `concat` and `stack` merge along (negative: from the end). */
  readonly mergeAxis: number;
  /** The merge function called once per example, or null. */
  readonly mergeFn: MergeOptions['mergeFn'];
  /** None: every operator applies to every example. */
  readonly conditions: undefined = undefined;
  /**
   * @throws ValidationError for an unknown `mergeStrategy`, an axis that is not a whole
   * number, or a `mergeFn` that is not a function
   */
  constructor(options: ParallelStrategyOptions = {}) {
    ({
      mergeStrategy: this.mergeStrategy,
      mergeAxis: this.mergeAxis,
      mergeFn: this.mergeFn,
    } = checkMergeOptions('ParallelStrategy', options));
  }
  /** Accepts any number of operators. */
  check(_operatorCount: number): void {}
  /**
   * Merges the operators' batched outputs, example by example.
   * @throws ValidationError for outputs that cannot merge, naming the operators and shapes
   */
  merge(outputs: readonly Tree[], context: StrategyMergeContext): Tree {
    return mergeBatched(outputs, { ...this.#options(), names: context.names });
  }
  /** `{ strategy: 'ParallelStrategy', mergeStrategy, mergeAxis, mergeFn }` (the function's name). */
  describe(): StrategyDescription {
    return { strategy: 'ParallelStrategy', ...describeMerge(this) };
  }
  #options(): MergeOptions {
    return { mergeStrategy: this.mergeStrategy, mergeAxis: this.mergeAxis, mergeFn: this.mergeFn };
  }
}

/** Options of {@link WeightedParallelStrategy}. */
export interface WeightedParallelStrategyOptions {
  /**
   * One weight per operator.
   * @default the `weights` of `apply`'s `extraParams`, which are then required
   */
  readonly weights?: readonly number[];
}

/**
 * Applies every operator to the same input and sums the outputs, each times its weight.
 * @example await composite.apply(batch, { extraParams: { weights: [0.1, 0.9] } })
 */
export class WeightedParallelStrategy implements CompositionStrategy {
  /** One weight per operator; undefined: each apply gives them as `extraParams.weights`. */
  readonly weights: readonly number[] | undefined;
  /** None: every operator applies to every example. */
  readonly conditions: undefined = undefined;
  /** @throws ValidationError for weights that are not finite numbers */
  constructor(options: WeightedParallelStrategyOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError(
        `WeightedParallelStrategy(options): options must be { weights? }, got ${describeType(options)}.`,
      );
    }
    this.weights =
      options.weights === undefined
        ? undefined
        : Object.freeze(weightsFrom(options.weights, 'new WeightedParallelStrategy({ weights })'));
  }
  /** @throws ValidationError when its own weights are not one per operator */
  check(operatorCount: number): void {
    if (this.weights !== undefined && this.weights.length !== operatorCount) {
      throw new ValidationError(
        `WeightedParallelStrategy has ${this.weights.length} weights for ${operatorCount} operators: give one weight per operator.`,
      );
    }
  }
  /** @throws ValidationError for weights missing, miscounted or not finite numbers */
  checkApply(operatorCount: number, extraParams: Readonly<Record<string, unknown>>): void {
    this.#weightsFor(operatorCount, extraParams);
  }
  /**
   * The outputs, each times its weight, summed element by element.
   * @throws ValidationError as {@link checkApply}, and for outputs of different shapes
   */
  merge(outputs: readonly Tree[], context: StrategyMergeContext): Tree {
    const weights = this.#weightsFor(outputs.length, context.extraParams);
    return mergeBatched(outputs, { mergeStrategy: 'sum', names: context.names, weights });
  }
  /** Names the strategy and its weights (null: they come from each apply's `extraParams`). */
  describe(): StrategyDescription {
    return {
      strategy: 'WeightedParallelStrategy',
      weights: this.weights === undefined ? null : [...this.weights],
    };
  }
  /** The strategy's own weights, else the apply's, checked. */
  #weightsFor(count: number, extraParams: Readonly<Record<string, unknown>>): readonly number[] {
    const given = this.weights ?? extraParams.weights;
    if (given === undefined) {
      throw new ValidationError(
        'WeightedParallelStrategy needs one weight per operator: give them to the strategy ' +
          '(new WeightedParallelStrategy({ weights: [0.5, 0.5] })) or to each apply ' +
          '(composite.apply(batch, { extraParams: { weights: [0.5, 0.5] } })).',
      );
    }
    const where =
      this.weights === undefined
        ? 'extraParams.weights'
        : 'the weights of new WeightedParallelStrategy({ weights })';
    const weights = this.weights ?? weightsFrom(given, where);
    if (weights.length !== count) {
      throw new ValidationError(
        `WeightedParallelStrategy: ${where} has ${weights.length} weights for ${count} operators; give one weight per operator.`,
      );
    }
    return weights;
  }
}

/** Options of {@link ConditionalParallelStrategy}. */
export interface ConditionalParallelStrategyOptions extends MergeOptions {
  /**
   * One per operator: whether it applies to an example (a boolean, a number, non-zero
   * for true, or a one-element tensor), evaluated in this thread before the operators run.
   */
  readonly conditions: readonly ((element: Tree) => ConditionValue)[];
  /**
   * Merges the outputs with a function of your own instead of a strategy. In a composite
   * it is called once per example (as datarax's is under vmap) with that example's
   * outputs, one per operator, and its results, which must have the same shapes for
   * every example, are stacked into the batch (copied: they never share the outputs'
   * memory).
   * @default null: `mergeStrategy` merges
   * @example new ConditionalParallelStrategy({ conditions, mergeFn: ([a, b]) => ({ a, b }) })
   */
  readonly mergeFn?: MergeFn | null;
}

/**
 * Applies each operator to the examples where its condition holds; elsewhere the operator
 * passes its input through (datarax's masked merge).
 * @example
 * new ConditionalParallelStrategy({
 *   conditions: [(x) => x.get(0) > 0, () => true],
 *   mergeStrategy: 'mean',
 * })
 */
export class ConditionalParallelStrategy implements CompositionStrategy {
  /** One per operator: whether it applies to an example. */
  readonly conditions: readonly ((element: Tree) => ConditionValue)[];
  /** How the outputs merge; null: `concat`, unless a `mergeFn` is given. */
  readonly mergeStrategy: MergeStrategy | null;
  /** The axis of an example's output that `concat` and `stack` merge along (negative: from the end). */
  readonly mergeAxis: number;
  /** The merge function called once per example, or null. */
  readonly mergeFn: MergeOptions['mergeFn'];
  /**
   * @throws ValidationError when `conditions` is not a non-empty array of functions, and
   * for merge options as {@link ParallelStrategy}
   */
  constructor(options: ConditionalParallelStrategyOptions) {
    const where = 'ConditionalParallelStrategy';
    const merge = checkMergeOptions(where, options);
    const { conditions } = options;
    if (!Array.isArray(conditions) || conditions.length === 0) {
      throw new ValidationError(
        `${where}({ conditions }): conditions must be a non-empty array, one function (element) => boolean per operator; got ${describeType(conditions)}.`,
      );
    }
    conditions.forEach((condition, i) => {
      if (typeof condition !== 'function') {
        throw new ValidationError(
          `${where}({ conditions }): conditions[${i}] is ${describeType(condition)}; each condition is a function (element) => boolean.`,
        );
      }
    });
    this.conditions = Object.freeze([...conditions]);
    ({
      mergeStrategy: this.mergeStrategy,
      mergeAxis: this.mergeAxis,
      mergeFn: this.mergeFn,
    } = merge);
  }
  /** @throws ValidationError when there is not one condition per operator */
  check(operatorCount: number): void {
    if (this.conditions.length !== operatorCount) {
      throw new ValidationError(
        `ConditionalParallelStrategy has ${this.conditions.length} conditions for ${operatorCount} operators: give one condition per operator.`,
      );
    }
  }
  /**
   * Merges the operators' batched outputs where their conditions held (the mask): an
   * operator's input takes its place in `concat`, `stack`, `dict` and `mergeFn` where it
   * did not run, and counts for nothing in `sum` and `mean`.
   * @throws ValidationError for outputs that cannot merge, naming the operators and shapes
   */
  merge(outputs: readonly Tree[], context: StrategyMergeContext): Tree {
    return mergeBatched(outputs, {
      mergeStrategy: this.mergeStrategy,
      mergeAxis: this.mergeAxis,
      mergeFn: this.mergeFn,
      names: context.names,
      ...(context.mask === undefined ? {} : { mask: context.mask }),
    });
  }
  /** Names the strategy, its merge options and its conditions (their count and names). */
  describe(): StrategyDescription {
    return {
      strategy: 'ConditionalParallelStrategy',
      ...describeMerge(this),
      conditions: {
        count: this.conditions.length,
        names: this.conditions.map((condition) => condition.name || 'anonymous'),
      },
    };
  }
}

interface CheckedMerge {
  readonly mergeStrategy: MergeStrategy | null;
  readonly mergeAxis: number;
  readonly mergeFn: MergeOptions['mergeFn'];
}

function checkMergeOptions(where: string, options: MergeOptions): CheckedMerge {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(
      `${where}(options): options must be an object ({ mergeStrategy, mergeAxis, mergeFn }), got ${describeType(options)}.`,
    );
  }
  const { mergeStrategy = null, mergeAxis = 0, mergeFn = null } = options;
  if (mergeStrategy !== null && !mergeStrategies.includes(mergeStrategy)) {
    throw new ValidationError(
      `${where}: unknown mergeStrategy '${String(mergeStrategy)}'; use one of ${mergeStrategies.map((name) => `'${name}'`).join(', ')}, or give a mergeFn.`,
    );
  }
  if (!Number.isInteger(mergeAxis)) {
    throw new ValidationError(
      `${where}: mergeAxis must be a whole number (negative counts from the end), got ${String(mergeAxis)}.`,
    );
  }
  if (mergeFn !== null && typeof mergeFn !== 'function') {
    throw new ValidationError(
      `${where}: mergeFn must be a function (outputs) => merged, got ${describeType(mergeFn)}.`,
    );
  }
  return { mergeStrategy, mergeAxis, mergeFn };
}

function describeMerge(merge: CheckedMerge): Record<string, unknown> {
  return {
    mergeStrategy: merge.mergeStrategy,
    mergeAxis: merge.mergeAxis,
    mergeFn: merge.mergeFn ? merge.mergeFn.name || 'anonymous' : null,
  };
}

/**
 * Weights given as an array, a typed array or a tensor, as plain numbers.
 * @throws ValidationError naming `where` for anything else or a weight that is not finite
 */
function weightsFrom(value: unknown, where: string): number[] {
  let weights: unknown[];
  if (isTensor(value)) weights = Array.from(value.data);
  else if (Array.isArray(value)) weights = value;
  else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    weights = Array.from(value as unknown as ArrayLike<number>);
  } else {
    throw new ValidationError(
      `WeightedParallelStrategy: ${where} must be an array of numbers (or a typed array or a tensor), one per operator; got ${describeType(value)}.`,
    );
  }
  weights.forEach((weight, i) => {
    if (typeof weight !== 'number' || !Number.isFinite(weight)) {
      throw new ValidationError(
        `WeightedParallelStrategy: ${where}[${i}] is ${typeof weight === 'number' ? String(weight) : describeType(weight)}; every weight must be a finite number.`,
      );
    }
  });
  return weights as number[];
}
