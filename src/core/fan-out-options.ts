/**
 * The options every fan-out (map, dag, and the front ends built on them) accepts, their
 * checks, and what a fan-out takes from them and from the run it is called in: the scope
 * its keys descend from and the run it records to.
 */
import { ValidationError } from './errors.ts';
import type { EventBus } from './events.ts';
import type { Executor } from './executor.ts';
import { type KeyScope, rootScope } from './keys.ts';
import type { Run } from './run.ts';

/** Options every fan-out accepts. */
export interface FanOutOptions {
  /**
   * Where tasks run.
   * @default the default executor (`WEFT_EXECUTOR`, else `asyncPool`)
   */
  readonly executor?: Executor;
  /**
   * Most tasks in flight at once.
   * @default the executor's `concurrency`
   */
  readonly concurrency?: number;
  /** Cancels the fan-out: nothing new starts, running tasks are aborted, and it rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /**
   * Scope whose path prefixes every key of this fan-out. Pass `ctx.scope` from inside a
   * task so that nested fan-outs get nested keys.
   * @default the root scope
   */
  readonly scope?: KeyScope;
  /** Bus that receives this fan-out's events. @default the shared `events` bus */
  readonly events?: EventBus;
  /**
   * `false` keeps the fan-out out of the run it is in: nothing recorded, nothing resumed.
   * For fan-outs whose caller records the outcome itself.
   * @default true
   */
  readonly record?: boolean;
  /**
   * How progress displays show this fan-out: `label` names it for people (a layer or an
   * action name), `total` gives its size when its input does not tell it (not an array).
   * `false` leaves it out: for a fan-out inside one task of another, which shows that
   * task already. Its events are sent all the same.
   * @default `{ label: <the task name for a map, the name for a dag> }`
   * @example map(indices(n), fit, { display: { label: 'Fit', total: n } })
   */
  readonly display?: FanOutDisplay | false;
}

/** See {@link FanOutOptions.display}. */
export interface FanOutDisplay {
  /** The name shown. @default the task name (map), the dag's name (dag) */
  readonly label?: string;
  /** How many items or nodes there are. @default the input's length when it is an array */
  readonly total?: number;
}

/** The scope a fan-out's keys descend from: the one given, else the run's, else the root. */
export function parentScope(options: FanOutOptions, run: Run | undefined): KeyScope {
  return options.scope ?? run?.scope ?? rootScope;
}

/** The run a fan-out records to: its scope's run, else the caller's, unless told not to record. */
export function recordingRun(options: FanOutOptions, current: Run | undefined): Run | undefined {
  if (options.record === false) return undefined;
  return options.scope?.run ?? current;
}

/**
 * Checks the options every fan-out shares.
 * @throws ValidationError naming the option and the fix
 */
export function checkFanOutOptions(
  kind: string,
  options: FanOutOptions & { onError?: unknown },
): void {
  const { concurrency, onError, display } = options;
  if (concurrency !== undefined && !(typeof concurrency === 'number' && concurrency >= 1)) {
    throw new ValidationError(
      `${kind}: concurrency must be a number ≥ 1 (or Infinity), got ${String(concurrency)}.`,
    );
  }
  if (display !== undefined && display !== false) {
    if (typeof display !== 'object' || display === null) {
      throw new ValidationError(
        `${kind}: display must be false or { label?, total? }, got ${String(display)}.`,
      );
    }
    const { label, total } = display;
    if (label !== undefined && (typeof label !== 'string' || label === '')) {
      throw new ValidationError(
        `${kind}: display.label must be a non-empty string, got ${String(label)}.`,
      );
    }
    if (total !== undefined && !(Number.isSafeInteger(total) && total >= 0)) {
      throw new ValidationError(
        `${kind}: display.total must be a whole number ≥ 0, got ${String(total)}.`,
      );
    }
  }
  if (onError !== undefined && onError !== 'throw' && onError !== 'collect') {
    throw new ValidationError(
      `${kind}: onError must be 'throw' or 'collect', got '${String(onError)}'.`,
    );
  }
}
