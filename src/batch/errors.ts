/**
 * How a parallel call's failures are told. With a `post`, each failed item's own error
 * stands in its place among the results (BatchFlow's way, read with
 * {@link anyActionFailed}); without one, the call raises {@link ParallelActionFailed}
 * once every item has run, carrying one {@link ParallelItemError} per failed item.
 */
import { WeftError } from '../core/errors.ts';

/**
 * True when any result of a parallel call is an Error: the item that gave it failed.
 * @example
 * _post(results: unknown[]) {
 *   if (anyActionFailed(results)) throw new Error('some items failed');
 *   return this;
 * }
 */
export function anyActionFailed(results: readonly unknown[]): boolean {
  return results.some((result) => result instanceof Error);
}

/** One item of a parallel call failed. `cause` is the item's own error. */
export class ParallelItemError extends WeftError {
  override name = 'ParallelItemError';
  /** The call, as people see it: `MyBatch.someAction`. */
  readonly action: string;
  /** The item's position in init order. */
  readonly item: number;

  constructor(action: string, item: number, cause: unknown) {
    super('WEFT_PARALLEL_ITEM_FAILED', `${action} failed on item ${item}: ${messageOf(cause)}`, {
      cause,
    });
    this.action = action;
    this.item = item;
  }
}

/**
 * Items of a parallel call without `post` failed. Raised after every item has run;
 * `errors` holds one {@link ParallelItemError} per failed item, in init order.
 */
export class ParallelActionFailed extends AggregateError {
  override name = 'ParallelActionFailed';
  /** Stable identifier of this failure, as every weft error has. */
  readonly code = 'WEFT_PARALLEL_ACTION_FAILED';
  /** The call, as people see it: `MyBatch.someAction`. */
  readonly action: string;
  /** How many items the call ran. */
  readonly total: number;
  declare readonly errors: ParallelItemError[];

  constructor(action: string, errors: readonly ParallelItemError[], total: number) {
    const first = errors[0];
    const which =
      first === undefined ? '' : `; the first, item ${first.item}: ${messageOf(first.cause)}`;
    super(
      [...errors],
      `${action}: ${errors.length} of ${total} items failed${which}. ` +
        'Each error is in `errors`; give the action a post to handle failed items yourself.',
    );
    this.action = action;
    this.total = total;
  }
}

/**
 * Raises {@link ParallelActionFailed} when any of `results` (in init order) is an Error.
 * @param action the call, as people see it: `MyBatch.someAction`
 */
export function throwIfAnyFailed(action: string, results: readonly unknown[]): void {
  const errors: ParallelItemError[] = [];
  results.forEach((result, item) => {
    if (result instanceof Error) errors.push(new ParallelItemError(action, item, result));
  });
  if (errors.length > 0) throw new ParallelActionFailed(action, errors, results.length);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
