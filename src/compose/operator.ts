/**
 * Operators: what a composite applies to each example. A plain function runs in this
 * thread; a task made by {@link operator} (or `task()`) is found by name in worker threads
 * and child processes, so the composite can run it on the executor it is given.
 */
import { callSite } from '../core/call-site.ts';
import { describeType } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import { defineTask, type Task, type TaskFn, type TaskOptions } from '../core/task.ts';
import type { Tree, TreeInput } from './tree.ts';
import { isPlainObject } from './tree.ts';

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
  /**
   * The example's position in the batch; in a composite nested under a condition, its
   * position in the outer batch (the nested composite runs over the examples where its
   * condition holds, numbered as they are there).
   */
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
 * export const noise = operator('noise', (image: Tensor, { random }) =>
 *   image.map((x) => x + random.normal(0, 0.1)), { retries: 2 });
 * @throws ValidationError for a missing name or function; DuplicateTaskError for a name
 * another operator or task of this thread already has
 */
export function operator<E = Tree, O = TreeInput>(
  name: string,
  fn: OperatorFn<E, O>,
  options: TaskOptions = {},
): Task<E, O> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ValidationError('operator() needs a non-empty string name as its first argument.');
  }
  if (typeof fn !== 'function') {
    throw new ValidationError(
      `operator('${name}') needs a function (element, ctx) => output as its second argument, got ${describeType(fn)}.`,
    );
  }
  return defineTask(name, fn as unknown as TaskFn<E, O>, options, callSite(operator), 'operator');
}

/** Marks what withState made; shared by every loaded copy of weft. */
const resultBrand = Symbol.for('weft.operatorResult');

/**
 * Marks an operator's answer as carrying its new state or metadata besides its data.
 * @example return withState(image.map((x) => x * 2), { state: { seen: 1 } });
 * @throws ValidationError when `metadata` is not a plain object
 */
export function withState<O>(
  data: O,
  extra: { readonly state?: unknown; readonly metadata?: Record<string, unknown> },
): OperatorResult<O> {
  if (typeof extra !== 'object' || extra === null) {
    throw new ValidationError(
      `withState(data, extra): extra must be { state?, metadata? }, got ${describeType(extra)}.`,
    );
  }
  const { metadata } = extra;
  if (metadata !== undefined && !isPlainObject(metadata)) {
    throw new ValidationError(
      `withState(): metadata must be a plain object of values, got ${describeType(metadata)}.`,
    );
  }
  const result: OperatorResult<O> = {
    data,
    ...(Object.hasOwn(extra, 'state') ? { state: extra.state } : {}),
    ...(metadata === undefined ? {} : { metadata }),
  };
  Object.defineProperty(result, resultBrand, { value: true });
  return Object.freeze(result);
}

/** True for what {@link withState} made. */
export function isOperatorResult(value: unknown): value is OperatorResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [resultBrand]?: unknown })[resultBrand] === true
  );
}
