/**
 * `CompositeOperator`: datarax's composite of parallel operators on weft. Its operators
 * run concurrently on the executor (datarax runs them one after another), each over
 * chunks of examples as weft tasks; inside a run every application is recorded, so a
 * resumed run skips finished ones; every operator's state and metadata are kept.
 */
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import type { Task } from '../core/task.ts';
import type { OperatorFn } from './operator.ts';
import type { CompositionStrategy, StrategyDescription } from './strategies.ts';
import type { Tree, TreeInput } from './tree.ts';

/** What a composite applies: a function (in this thread), a task (on the executor) or a composite. */
// biome-ignore lint/suspicious/noExplicitAny: operators take elements of any shape.
export type Operator = OperatorFn<any, any> | Task<any, any> | CompositeOperator;

/** Options of {@link CompositeOperator}. */
export interface CompositeOperatorOptions {
  /** The operators, applied to the same input. */
  readonly operators: readonly Operator[];
  /** @default new ParallelStrategy() (concat along axis 0) */
  readonly strategy?: CompositionStrategy;
  /**
   * Where task operators run (functions always run in this thread).
   * @default the configured default executor (`--executor`, `WEFT_EXECUTOR`)
   */
  readonly executor?: Executor;
  /**
   * The composite's name in keys, progress and descriptions.
   * @default 'composite'
   */
  readonly name?: string;
  /**
   * Examples per task: each operator runs over the batch in chunks of this many, so that
   * operators and chunks spread over the executor's workers.
   * @default a batch of B examples in chunks of ceil(B / 8)
   */
  readonly examplesPerTask?: number;
}

/** Options of {@link CompositeOperator.apply} and {@link CompositeOperator.run}. */
export interface ApplyOptions {
  /** Given to every operator as `ctx.extraParams`; `weights` of a weighted strategy. */
  readonly extraParams?: Readonly<Record<string, unknown>>;
  /**
   * Seeds the operators' random streams: each operator its own stream, each example its
   * own, so the same seed gives the same output however the work is spread.
   * @default inside a run, one derived from the run id and the composite's key; else random
   */
  readonly seed?: number;
  /** Every operator's state for every example. */
  readonly state?: unknown;
  /** One state per operator (overrides `state`). */
  readonly states?: readonly unknown[];
  /** Given to every operator as `ctx.metadata`. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Cancels the apply: running tasks are aborted and it rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Overrides the composite's executor for this apply. */
  readonly executor?: Executor;
  /**
   * The key scope to record under (a task's `ctx.scope`).
   * @default the current run's scope
   */
  readonly scope?: KeyScope;
}

/** What {@link CompositeOperator.run} returns. */
export interface CompositeResult {
  /** The merged output. */
  readonly data: Tree;
  /**
   * Per operator, per example: the state it reported (or the state it was given).
   * For an operator that is a composite: its own {@link CompositeResult.states}.
   */
  readonly states: readonly unknown[];
  /** Per operator, per example: the metadata it reported (or that given to `apply`). */
  readonly metadata: readonly unknown[];
}

/** A serializable description of a composite. */
export interface CompositeDescription {
  readonly composite: string;
  readonly strategy: StrategyDescription;
  readonly operators: readonly {
    readonly name: string;
    readonly kind: 'function' | 'task' | 'composite';
    readonly description?: CompositeDescription;
  }[];
}

/**
 * Operators applied in parallel to the same batch and merged by a strategy.
 * @example
 * const augment = new CompositeOperator({
 *   operators: [flip, noise, brighten],
 *   strategy: new ParallelStrategy({ mergeStrategy: 'stack' }),
 * });
 * const out = await augment.apply({ image: images }, { seed: 7 });
 */
export class CompositeOperator {
  readonly name: string;
  readonly operators: readonly Operator[];
  readonly strategy: CompositionStrategy;

  constructor(_options: CompositeOperatorOptions) {
    throw new ValidationError('CompositeOperator: not built yet');
  }

  /** Applies the operators to `batch` (a tree whose leaves have the examples on their first axis) and merges. */
  async apply(batch: TreeInput, options: ApplyOptions = {}): Promise<Tree> {
    return (await this.run(batch, options)).data;
  }

  /** As {@link apply}, with every operator's state and metadata. */
  async run(_batch: TreeInput, _options: ApplyOptions = {}): Promise<CompositeResult> {
    throw new ValidationError('not built yet');
  }

  /** A serializable description naming the strategy, its options and the operators. */
  describe(): CompositeDescription {
    throw new ValidationError('not built yet');
  }
}
