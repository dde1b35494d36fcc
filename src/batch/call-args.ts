/**
 * The arguments of a parallel call. TypeScript has no keyword arguments, so BatchFlow's
 * conventions become these: a call's last argument, when it is a plain object, holds its
 * named arguments (weft takes its own options out of it), and an init's argument set is
 * an array (positional), a plain object (named), or {@link args} for both.
 */
import { describeType, isPlainObject } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { Target, TargetName } from './parallel-spec.ts';

/** Named arguments: a plain object. */
export type Named = Readonly<Record<string, unknown>>;

/**
 * One argument set with both positional and named arguments, as an init yields it: weft's
 * explicit form of BatchFlow's 2-tuple `(args, kwargs)`. Make one with {@link args}.
 */
export class Args {
  /** Positional arguments, passed first (before the call's own). */
  readonly positional: readonly unknown[];
  /** Named arguments, merged under the call's own into the method's last argument. */
  readonly named: Named;

  constructor(positional: readonly unknown[] = [], named: Named = {}) {
    if (!Array.isArray(positional)) {
      throw new ValidationError(
        `args(positional, named): positional must be an array, got ${shown(positional)}.`,
      );
    }
    if (!isPlainObject(named)) {
      throw new ValidationError(
        `args(positional, named): named must be a plain object, got ${shown(named)}.`,
      );
    }
    this.positional = Object.freeze([...positional]);
    this.named = Object.freeze({ ...named });
  }
}

/**
 * An argument set of both positional and named arguments, for an init to yield: the
 * method is then called as `method(...positional, ...callPositional, { ...named,
 * ...callNamed })`. An init may also yield an array (positional only), a plain object
 * (named only) or any other value (one positional argument).
 * @example
 * _init() { return this.indices.map((id) => args([this.data, id], { scale: 2 })); }
 * // the method runs as method(data, id, { scale: 2 })
 */
export function args(positional: readonly unknown[] = [], named: Named = {}): Args {
  return new Args(positional, named);
}

/** The positional and named arguments of one init argument set. */
export interface ItemArgs {
  readonly positional: readonly unknown[];
  readonly named: Named;
}

const none: Named = Object.freeze({});

/**
 * What one argument set yielded by an init means: an {@link Args} is both, an array is
 * positional arguments, a plain object named arguments, any other value one argument.
 */
export function itemArgs(set: unknown): ItemArgs {
  if (set instanceof Args) return set;
  if (Array.isArray(set)) return { positional: set, named: none };
  if (isPlainObject(set)) return { positional: [], named: set };
  return { positional: [set], named: none };
}

/**
 * The arguments of one item's call: `[...initPositional, ...callPositional, named]`, with
 * `named = { ...initNamed, ...callNamed }` passed only when it is not empty.
 */
export function methodArguments(item: ItemArgs, call: CallParts): unknown[] {
  const named = { ...item.named, ...call.named };
  const list = [...item.positional, ...call.positional];
  if (Object.keys(named).length > 0) list.push(named);
  return list;
}

/** Options a call gives in its named arguments, which weft takes out. */
export interface CallOptions {
  /**
   * Most items at once, on every target.
   * @default the number of cores (`availableParallelism()`)
   */
  readonly nWorkers?: number;
  /** Where the items run this time, instead of the decorator's target. */
  readonly target?: TargetName;
  /** With target `for`: stop at the first error, which propagates as it is. */
  readonly debug?: boolean;
  /** Stops the call: no new item starts, and the call rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Runs the items on this executor instead of the target's own. */
  readonly executor?: Executor;
}

const callOptionNames = ['nWorkers', 'target', 'debug', 'signal', 'executor'] as const;

/** A call split into its arguments and weft's options. */
export interface CallParts {
  readonly positional: readonly unknown[];
  /** The named arguments, without weft's options. */
  readonly named: Named;
  readonly options: CallOptions;
}

/**
 * Splits a call's arguments: a last argument that is a plain object holds the named ones,
 * of which `nWorkers`, `target`, `debug`, `signal` and `executor` are weft's.
 * @param where the call, for error messages, e.g. `MyBatch.someAction`
 * @throws ValidationError naming a bad option
 */
export function splitCall(callArgs: readonly unknown[], where: string): CallParts {
  const last = callArgs[callArgs.length - 1];
  if (callArgs.length === 0 || !isPlainObject(last)) {
    return { positional: callArgs, named: none, options: {} };
  }
  const named: Record<string, unknown> = { ...last };
  const options: Record<string, unknown> = {};
  for (const name of callOptionNames) {
    if (!(name in named)) continue;
    if (named[name] !== undefined) options[name] = named[name];
    delete named[name];
  }
  checkCallOptions(options, where);
  return { positional: callArgs.slice(0, -1), named, options };
}

function checkCallOptions(options: CallOptions, where: string): void {
  const { nWorkers, debug, signal, executor } = options;
  if (nWorkers !== undefined && !isWorkerCount(nWorkers)) {
    throw new ValidationError(
      `${where}: nWorkers must be a whole number ≥ 1 (or Infinity), got ${shown(nWorkers)}.`,
    );
  }
  if (options.target !== undefined) resolveTarget(options.target, where);
  if (debug !== undefined && typeof debug !== 'boolean') {
    throw new ValidationError(`${where}: debug must be true or false, got ${shown(debug)}.`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError(`${where}: signal must be an AbortSignal, got ${shown(signal)}.`);
  }
  if (
    executor !== undefined &&
    (typeof executor !== 'object' ||
      executor === null ||
      typeof (executor as Executor).run !== 'function')
  ) {
    throw new ValidationError(
      `${where}: executor must be an Executor (inline(), asyncPool(), threads() …), got ${shown(executor)}.`,
    );
  }
}

const targets: Readonly<Record<string, Target>> = {
  threads: 'threads',
  t: 'threads',
  async: 'async',
  a: 'async',
  mpc: 'mpc',
  processes: 'mpc',
  m: 'mpc',
  for: 'for',
  f: 'for',
};

/** A cap of items at once: a whole number ≥ 1, or Infinity. */
export function isWorkerCount(value: unknown): value is number {
  return (
    value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && (value as number) >= 1)
  );
}

/**
 * The target a name or alias stands for.
 * @throws ValidationError naming the accepted targets
 */
export function resolveTarget(name: unknown, where: string): Target {
  const target =
    typeof name === 'string' && Object.hasOwn(targets, name) ? targets[name] : undefined;
  if (target === undefined) {
    throw new ValidationError(
      `${where}: unknown target ${shown(name)}; use threads (t), async (a), mpc (processes, m) or for (f).`,
    );
  }
  return target;
}

/**
 * Checks that `debug` goes with target `for`, the only one that stops at the first error.
 * @param target the target in force, undefined for the default (`threads`)
 */
export function checkDebug(debug: boolean, target: Target | undefined, where: string): void {
  if (debug && target !== 'for') {
    throw new ValidationError(
      `${where}: debug: true needs target 'for' (it runs items one after another and stops at the first error); ` +
        `the target is ${target === undefined ? "the default, 'threads'" : `'${target}'`}. Add target: 'for', or drop debug.`,
    );
  }
}

/** A value as error messages show it: a primitive as it is, anything else by its type. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return String(value);
  }
  return describeType(value);
}
