/**
 * `CompositeOperator`: datarax's composite of parallel operators on weft. Its operators
 * run concurrently on the executor (datarax runs them one after another), each over
 * chunks of examples as weft tasks; inside a run every application is recorded, so a
 * resumed run skips finished ones; every operator's state and metadata are kept.
 */
import { randomInt } from 'node:crypto';
import { describeType, isPlainObject } from '../core/describe.ts';
import { isWeftError, ValidationError } from '../core/errors.ts';
import { type Executor, getDefaultExecutor } from '../core/executor.ts';
import { type KeyScope, rootScope } from '../core/keys.ts';
import { seedOfText } from '../core/random.ts';
import { currentRun } from '../core/run.ts';
import { splitExecutor } from '../core/split.ts';
import type { Task } from '../core/task.ts';
import type { OperatorOutcome } from './assemble.ts';
import { sharedBatch, type WireTree } from './chunk-transport.ts';
import { checkApplyOptions, checkExecutor, entryOf, isStrategy } from './composite-checks.ts';
import { evaluateConditions } from './conditions.ts';
import type { OperatorFn } from './operator.ts';
import {
  type ApplyPlan,
  type NestedRunner,
  type OperatorEntry,
  startOperator,
} from './run-operators.ts';
import { giveShared } from './shared-pool.ts';
import {
  type CompositionStrategy,
  ConditionalParallelStrategy,
  ParallelStrategy,
  type StrategyDescription,
  WeightedParallelStrategy,
} from './strategies.ts';
import { batchSizeOf, leavesOf, type Tree, type TreeInput, toTree } from './tree.ts';

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
  /**
   * Given to every operator as `ctx.extraParams` (tensors in it, at any depth, reach
   * workers as tensors); `weights` of a weighted strategy.
   * @default {}
   */
  readonly extraParams?: Readonly<Record<string, unknown>>;
  /**
   * Seeds the operators' random streams: each operator its own stream, each example its
   * own, so the same seed gives the same output however the work is spread.
   * @default inside a run, one derived from the run id and the composite's key; else random
   */
  readonly seed?: number;
  /**
   * Every operator's state for every example (`ctx.state`), kept where an operator
   * reports none.
   * @default undefined
   */
  readonly state?: unknown;
  /**
   * One state per operator (overrides `state`).
   * @default every operator gets `state`
   */
  readonly states?: readonly unknown[];
  /**
   * Given to every operator as `ctx.metadata`, kept where an operator reports none.
   * @default undefined
   */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /**
   * Cancels the apply: running tasks are aborted (synchronous operators stop between
   * examples) and it rejects with the signal's reason.
   * @default none: the apply runs to its end or its first failure
   */
  readonly signal?: AbortSignal;
  /**
   * Overrides the composite's executor for this apply.
   * @default the composite's executor, else the configured default executor
   */
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
  /** Its name in keys (`compose:<name>`), progress, errors and descriptions. */
  readonly name: string;
  /** Its operators, in order: operator `i` is `operator_i` in merges, keys and results. */
  readonly operators: readonly Operator[];
  /** How its operators apply to each example and how their outputs merge. */
  readonly strategy: CompositionStrategy;
  /** Where its task operators run; undefined: the default executor (or a parent composite's). */
  readonly executor: Executor | undefined;
  /** Examples per task; undefined: ceil(B / 8) for a batch of B. */
  readonly examplesPerTask: number | undefined;
  readonly #entries: readonly OperatorEntry[];

  /**
   * @throws ValidationError naming the option and the fix: no operators, an operator that is
   * not a function, a task or a composite, a strategy that is not one (or refuses the
   * operators, e.g. a condition count that differs), `examplesPerTask` that is not a
   * whole number ≥ 1, an executor that is not one
   */
  constructor(options: CompositeOperatorOptions) {
    if (!isPlainObject(options)) {
      throw new ValidationError(
        `new CompositeOperator(options): options must be { operators, strategy?, executor?, name?, examplesPerTask? }, got ${describeType(options)}.`,
      );
    }
    const { operators, strategy = new ParallelStrategy(), executor, name = 'composite' } = options;
    if (typeof name !== 'string' || name.length === 0) {
      throw new ValidationError(
        `new CompositeOperator({ name }): name must be a non-empty string, got ${describeType(name)}.`,
      );
    }
    const where = `CompositeOperator '${name}'`;
    if (!Array.isArray(operators) || operators.length === 0) {
      throw new ValidationError(
        `${where}: operators must be a non-empty array of operators (functions, tasks made by operator() or task(), or composites), got ${Array.isArray(operators) ? 'an empty array' : describeType(operators)}.`,
      );
    }
    this.#entries = operators.map((op, i) => entryOf(op, i, where));
    if (!isStrategy(strategy)) {
      throw new ValidationError(
        `${where}: strategy must be a composition strategy (new ParallelStrategy(), WeightedParallelStrategy or ConditionalParallelStrategy, or an object with check, merge and describe), got ${describeType(strategy)}.`,
      );
    }
    strategy.check(operators.length);
    if (executor !== undefined) checkExecutor(executor, `${where}: executor`);
    const { examplesPerTask } = options;
    if (
      examplesPerTask !== undefined &&
      !(Number.isSafeInteger(examplesPerTask) && examplesPerTask >= 1)
    ) {
      throw new ValidationError(
        `${where}: examplesPerTask must be a whole number ≥ 1, got ${String(examplesPerTask)}.`,
      );
    }
    this.name = name;
    this.operators = Object.freeze([...operators]);
    this.strategy = strategy;
    this.executor = executor;
    this.examplesPerTask = examplesPerTask;
  }

  /** Applies the operators to `batch` (a tree whose leaves have the examples on their first axis) and merges. */
  async apply(batch: TreeInput, options: ApplyOptions = {}): Promise<Tree> {
    return (await this.run(batch, options)).data;
  }

  /**
   * As {@link apply}, with every operator's state and metadata.
   * @throws ValidationError for a batch or options it cannot use; OperatorFailedError
   * naming the operator and the example when an operator fails; the signal's reason when
   * cancelled
   */
  async run(batch: TreeInput, options: ApplyOptions = {}): Promise<CompositeResult> {
    return this.#start(batch, options, undefined);
  }

  /**
   * Runs a composite nested in another, its examples numbered as the outer batch's: this
   * copy's composites through their private entry, others (from another loaded copy of
   * weft) through `run`, with their own numbers.
   */
  static readonly #runNested: NestedRunner = (nested, batch, options, examples) =>
    nested instanceof CompositeOperator
      ? nested.#start(batch, options, examples)
      : nested.run(batch, options);

  async #start(
    batch: TreeInput,
    options: ApplyOptions,
    examples: readonly number[] | undefined,
  ): Promise<CompositeResult> {
    // Up to its first await an async function runs at the call: the key scope is taken
    // now, so sibling applies keep their order in keys whatever awaits come between.
    const checked = checkApplyOptions(options, this.#entries.length, this.name);
    const parent = checked.scope ?? currentRun()?.scope ?? rootScope;
    return this.#run(batch, checked, parent.child(`compose:${this.name}`), examples);
  }

  async #run(
    input: TreeInput,
    options: ApplyOptions,
    scope: KeyScope,
    examples: readonly number[] | undefined,
  ): Promise<CompositeResult> {
    const what = `Composite '${this.name}': the batch`;
    const batch = toTree(input, what);
    const size = batchSizeOf(batch, what);
    if (size === 0) {
      throw new ValidationError(
        `${what} has no examples (its leaves' first axis is 0); give at least one.`,
      );
    }
    const count = this.#entries.length;
    const extraParams = options.extraParams ?? {};
    this.strategy.checkApply?.(count, extraParams);
    const { signal } = options;
    if (signal?.aborted) throw signal.reason;
    const masks =
      this.strategy.conditions === undefined
        ? undefined
        : evaluateConditions(this.strategy.conditions, batch, size, this.name);
    const executor = options.executor ?? this.executor ?? getDefaultExecutor();
    const split = splitExecutor(executor);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const run = scope.run ?? currentRun();
    const plan: ApplyPlan = {
      composite: this.name,
      batch,
      size,
      examples,
      runNested: CompositeOperator.#runNested,
      ranges: rangesOf(size, this.examplesPerTask ?? Math.ceil(size / 8)),
      seed:
        options.seed ??
        (run === undefined ? randomInt(2 ** 32) : seedOfText(`${run.id}/${scope.path}`)),
      scope,
      extraParams,
      metadata: options.metadata,
      states: this.#entries.map((_, i) => (options.states ? options.states[i] : options.state)),
      masks,
      signal: controller.signal,
      executor,
      loops: split.loops,
      remote: split.leaves !== undefined,
      // Worker threads read the batch from shared memory; other workers are sent their part.
      sharesMemory: split.leaves?.sharesMemory === true,
      recording: run !== undefined,
      givenExecutor: options.executor,
    };
    let shared: WireTree | undefined;
    const sharedOnce = () => {
      shared ??= sharedBatch(batch);
      return shared;
    };
    let failure: { error: unknown } | undefined;
    const running = this.#entries.map((entry, i) => {
      let started: Promise<OperatorOutcome>;
      try {
        started = startOperator(entry, i, plan, sharedOnce);
      } catch (error) {
        started = Promise.reject(error);
      }
      // The first failure stops the other operators.
      return started.catch((error: unknown) => {
        failure ??= { error };
        controller.abort(error);
        throw error;
      });
    });
    try {
      const settled = await Promise.allSettled(running);
      if (signal?.aborted) throw signal.reason;
      if (failure) throw failure.error;
      const outcomes = settled.map(
        (result) => (result as PromiseFulfilledResult<OperatorOutcome>).value,
      );
      const data = this.#merge(
        outcomes.map((outcome) => outcome.data),
        extraParams,
        masks,
      );
      recycle(this.strategy, data, outcomes);
      return {
        data,
        states: outcomes.map((outcome) => outcome.states),
        metadata: outcomes.map((outcome) => outcome.metadata),
      };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await split.close();
    }
  }

  /**
   * The strategy's merge of the operators' outputs; its error names this composite.
   * @throws ValidationError (or the merge error's own code) starting `Composite '<name>':`
   */
  #merge(
    outputs: readonly Tree[],
    extraParams: Readonly<Record<string, unknown>>,
    mask: readonly Uint8Array[] | undefined,
  ): Tree {
    // An operator without a name of its own is `operator_<i>` alone, not twice.
    const names = this.#entries.map((entry, i) =>
      entry.name === `operator_${i}` ? entry.name : `operator_${i} ('${entry.name}')`,
    );
    try {
      return this.strategy.merge(outputs, { names, extraParams, mask });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationError(`Composite '${this.name}': ${reason}`, {
        cause: error,
        ...(isWeftError(error) ? { code: error.code } : {}),
      });
    }
  }

  /** A serializable description naming the strategy, its options and the operators. */
  describe(): CompositeDescription {
    return {
      composite: this.name,
      strategy: this.strategy.describe(),
      operators: this.#entries.map((entry) =>
        entry.kind === 'composite'
          ? {
              name: entry.name,
              kind: entry.kind,
              description: (entry.composite as CompositeOperator).describe(),
            }
          : { name: entry.name, kind: entry.kind },
      ),
    };
  }
}

/**
 * Gives the operators' output sinks back to the pool once the apply succeeded, unless the
 * merged output holds them. Only sinks: operator code never sees them (the batch's shared
 * copy it does see, and may keep views of in states or metadata, is never pooled), and
 * only after a strategy of weft's own without a mergeFn, which keeps nothing of its inputs.
 */
function recycle(
  strategy: CompositionStrategy,
  data: Tree,
  outcomes: readonly OperatorOutcome[],
): void {
  const own =
    (strategy instanceof ParallelStrategy ||
      strategy instanceof WeightedParallelStrategy ||
      strategy instanceof ConditionalParallelStrategy) &&
    !(strategy as { mergeFn?: unknown }).mergeFn;
  if (!own) return;
  const buffers = outcomes.flatMap((outcome) => outcome.recyclable ?? []);
  if (buffers.length === 0) return;
  const held = new Set<ArrayBufferLike>(leavesOf(data).map(({ leaf }) => leaf.data.buffer));
  giveShared(buffers.filter((buffer) => !held.has(buffer)));
}

/** Examples `[0, size)` in chunks of `per`. */
function rangesOf(size: number, per: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let start = 0; start < size; start += per) ranges.push([start, Math.min(size, start + per)]);
  return ranges;
}
