/**
 * How a composite tells that one of its operators failed. The error crosses threads and
 * processes as plain data (its code and fields survive, its class does not), so the
 * composite rebuilds it from the code when it comes back: recognise it by
 * `isWeftError(error, 'WEFT_OPERATOR_FAILED')`.
 */
import { isWeftError, WeftError } from '../core/errors.ts';

/** Where an operator failed. */
export interface OperatorFailure {
  /** The composite's name. */
  readonly composite: string;
  /** The operator's position among the composite's operators. */
  readonly operator: number;
  /** The operator's name. */
  readonly operatorName: string;
  /** The example it failed on, when known (a timeout or a crash fails a whole chunk). */
  readonly example?: number | undefined;
  /** The examples of the failed task, `[start, end)`, when the example is not known. */
  readonly examples?: readonly [number, number] | undefined;
  /** Attempts made, when the task was retried. */
  readonly attempts?: number | undefined;
}

/**
 * An operator of a composite failed on an example: its own error is the `cause`.
 * @example
 * try { await composite.apply(batch); }
 * catch (error) { if (isWeftError(error, 'WEFT_OPERATOR_FAILED')) console.log(error.example); }
 */
export class OperatorFailedError extends WeftError {
  override name = 'OperatorFailedError';
  /** The name of the composite whose operator failed. */
  readonly composite: string;
  /** The operator's position among the composite's operators. */
  readonly operator: number;
  /** The operator's name (`operator_<i>` for a function without a name of its own). */
  readonly operatorName: string;
  /** The example it failed on, or undefined when the whole chunk failed (timeout, crash). */
  readonly example: number | undefined;
  /** First example of the failed chunk, when the example is not known. */
  readonly start: number | undefined;
  /** One past the last example of the failed chunk, when the example is not known. */
  readonly end: number | undefined;

  constructor(failure: OperatorFailure, cause: unknown) {
    const where =
      failure.example !== undefined
        ? ` on example ${failure.example}`
        : failure.examples !== undefined
          ? failure.examples[1] - failure.examples[0] === 1
            ? ` on example ${failure.examples[0]}`
            : ` on examples ${failure.examples[0]} to ${failure.examples[1] - 1}`
          : '';
    const tries =
      failure.attempts !== undefined && failure.attempts > 1
        ? ` after ${failure.attempts} attempts`
        : '';
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'WEFT_OPERATOR_FAILED',
      `Composite '${failure.composite}': ${operatorLabel(failure.operator, failure.operatorName)} failed${where}${tries}: ${reason}`,
      { cause },
    );
    this.composite = failure.composite;
    this.operator = failure.operator;
    this.operatorName = failure.operatorName;
    this.example = failure.example;
    this.start = failure.examples?.[0];
    this.end = failure.examples?.[1];
  }
}

/**
 * The {@link OperatorFailedError} that `error` is, rebuilt when it crossed a thread or a
 * process (then a plain Error with its code and fields), or undefined when it is another.
 * @param attempts how many times the failed task was tried, for the message
 */
export function asOperatorFailed(
  error: unknown,
  attempts?: number,
): OperatorFailedError | undefined {
  if (!isWeftError(error, 'WEFT_OPERATOR_FAILED')) return undefined;
  if (error instanceof OperatorFailedError && (attempts === undefined || attempts <= 1)) {
    return error;
  }
  const { composite, operator, operatorName, example } = error as unknown as Record<
    string,
    unknown
  >;
  if (typeof composite !== 'string' || typeof operator !== 'number') return undefined;
  return new OperatorFailedError(
    {
      composite,
      operator,
      operatorName: typeof operatorName === 'string' ? operatorName : `operator_${operator}`,
      example: typeof example === 'number' ? example : undefined,
      attempts,
    },
    error.cause,
  );
}

/** `operator_1`, or `operator_1 ('flip')` when the operator has a name of its own. */
function operatorLabel(index: number, name: string): string {
  return name === `operator_${index}` ? name : `operator_${index} ('${name}')`;
}
