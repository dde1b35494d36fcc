/**
 * datarax's parallel composition strategies: every operator applied to the same input,
 * their outputs merged (`ParallelStrategy`), weighted and summed
 * (`WeightedParallelStrategy`), or applied where a condition holds
 * (`ConditionalParallelStrategy`). A strategy decides which operators apply to which
 * example and how the outputs merge; the composite runs them.
 */
import { ValidationError } from '../core/errors.ts';
import type { ConditionValue, MergeOptions, MergeStrategy } from './merge.ts';
import type { Tree } from './tree.ts';

/** A serializable description of a strategy (`JSON.stringify` keeps all of it). */
export interface StrategyDescription {
  /** The strategy's class name, e.g. `ParallelStrategy`. */
  readonly strategy: string;
  readonly [option: string]: unknown;
}

/** What a strategy's merge is given besides the batched outputs. */
export interface StrategyMergeContext {
  /** Each output's name in errors, e.g. `operator_1 ('flip')`. */
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
  /** Per operator, whether it applies to an example; undefined when all always apply. */
  readonly conditions: readonly ((element: Tree) => ConditionValue)[] | undefined;
  /** Merges the operators' batched outputs (examples on the first axis). */
  merge(outputs: readonly Tree[], context: StrategyMergeContext): Tree;
  /** A serializable description naming the strategy and its options. */
  describe(): StrategyDescription;
}

/** Options of {@link ParallelStrategy}. */
export interface ParallelStrategyOptions extends MergeOptions {}

/**
 * Applies every operator to the same input and merges the outputs.
 * @example new ParallelStrategy({ mergeStrategy: 'concat', mergeAxis: -1 })
 */
export class ParallelStrategy implements CompositionStrategy {
  readonly mergeStrategy: MergeStrategy | null;
  readonly mergeAxis: number;
  readonly mergeFn: MergeOptions['mergeFn'];
  readonly conditions: undefined = undefined;
  constructor(_options: ParallelStrategyOptions = {}) {
    throw new ValidationError('ParallelStrategy: not built yet');
  }
  check(_operatorCount: number): void {}
  merge(_outputs: readonly Tree[], _context: StrategyMergeContext): Tree {
    throw new ValidationError('not built yet');
  }
  describe(): StrategyDescription {
    throw new ValidationError('not built yet');
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
  readonly weights: readonly number[] | undefined;
  readonly conditions: undefined = undefined;
  constructor(_options: WeightedParallelStrategyOptions = {}) {
    throw new ValidationError('WeightedParallelStrategy: not built yet');
  }
  check(_operatorCount: number): void {}
  merge(_outputs: readonly Tree[], _context: StrategyMergeContext): Tree {
    throw new ValidationError('not built yet');
  }
  describe(): StrategyDescription {
    throw new ValidationError('not built yet');
  }
}

/** Options of {@link ConditionalParallelStrategy}. */
export interface ConditionalParallelStrategyOptions extends MergeOptions {
  /** One per operator: whether it applies to an example. */
  readonly conditions: readonly ((element: Tree) => ConditionValue)[];
}

/**
 * Applies each operator to the examples where its condition holds; elsewhere the operator
 * passes its input through (datarax's masked merge).
 */
export class ConditionalParallelStrategy implements CompositionStrategy {
  readonly conditions: readonly ((element: Tree) => ConditionValue)[];
  readonly mergeStrategy: MergeStrategy | null;
  readonly mergeAxis: number;
  readonly mergeFn: MergeOptions['mergeFn'];
  constructor(_options: ConditionalParallelStrategyOptions) {
    throw new ValidationError('ConditionalParallelStrategy: not built yet');
  }
  check(_operatorCount: number): void {}
  merge(_outputs: readonly Tree[], _context: StrategyMergeContext): Tree {
    throw new ValidationError('not built yet');
  }
  describe(): StrategyDescription {
    throw new ValidationError('not built yet');
  }
}
