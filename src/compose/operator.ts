/**
 * Operators: what a composite applies to each example. A plain function runs in this
 * thread; a task made by {@link operator} (or `task()`) is found by name in worker threads
 * and child processes, so the composite can run it on the executor it is given.
 */
import { ValidationError } from '../core/errors.ts';
import type { Task, TaskOptions } from '../core/task.ts';
import type { Tree, TreeInput } from './tree.ts';

/** A reproducible stream of random numbers: this operator's, for this example. */
export interface OperatorRandom {
  /** A number in [0, 1). */
  (): number;
  /** A number in [low, high). */
  uniform(low?: number, high?: number): number;
  /** A normally distributed number. */
  normal(mean?: number, std?: number): number;
  /** A whole number in [low, high). */
  int(low: number, high: number): number;
  /** True with probability `p`. */
  bool(p?: number): boolean;
  /** The stream's seed, from the apply's seed, the operator's index and the example's. */
  readonly seed: number;
}

/** What an operator receives besides the example. */
export interface OperatorContext {
  /** This operator's random stream for this example: the same seed draws the same numbers. */
  readonly random: OperatorRandom;
  /** The operator's state for this example, as given to `apply` (`states[i]` or `state`). */
  readonly state: unknown;
  /** The metadata given to `apply`. */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  /** The `extraParams` given to `apply`. */
  readonly extraParams: Readonly<Record<string, unknown>>;
  /** The example's position in the batch. */
  readonly index: number;
  /** This operator: its position among the composite's operators and its name. */
  readonly operator: { readonly index: number; readonly name: string };
  /** Aborted when the apply is cancelled or fails. */
  readonly signal: AbortSignal;
}

/** An operator's answer for one example that also reports its new state or metadata. */
export interface OperatorResult<O = TreeInput> {
  readonly data: O;
  readonly state?: unknown;
  readonly metadata?: Record<string, unknown>;
}

/** The per-example function of an operator. */
export type OperatorFn<E = Tree, O = TreeInput> = (
  element: E,
  ctx: OperatorContext,
) => O | OperatorResult<O> | PromiseLike<O | OperatorResult<O>>;

/**
 * Defines an operator that can run on worker threads and in child processes: a task,
 * registered by name, whose function is applied to each example. Define it at the top
 * level of a module (workers import that module to find it). Its retries and timeout
 * apply to each task of the composite: one operator over one chunk of examples.
 * @example
 * export const flip = operator('flip', (image: Tensor) => flipRows(image));
 */
export function operator<E = Tree, O = TreeInput>(
  _name: string,
  _fn: OperatorFn<E, O>,
  _options: TaskOptions = {},
): Task<E, O> {
  throw new ValidationError('operator: not built yet');
}

/**
 * Marks an operator's answer as carrying its new state or metadata besides its data.
 * @example return withState(image.map((x) => x * 2), { state: { seen: 1 } });
 */
export function withState<O>(
  _data: O,
  _extra: { readonly state?: unknown; readonly metadata?: Record<string, unknown> },
): OperatorResult<O> {
  throw new ValidationError('withState: not built yet');
}
