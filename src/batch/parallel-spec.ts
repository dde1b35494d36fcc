/**
 * What `inbatchParallel` knows about a parallel method: its checked options, the method
 * itself (run once per item), and where it was defined. The method as installed on a
 * class (or returned by the function form) is a wrapper; workers find the wrapper again
 * and run the method it wraps.
 */

/** Where the items of a parallel call run (BatchFlow's targets, with their one-letter aliases). */
export type Target = 'threads' | 'async' | 'mpc' | 'for';

/** A target as given: a name or an alias (`t`, `a`, `m`, `processes`, `f`). */
export type TargetName = Target | 't' | 'a' | 'm' | 'processes' | 'f';

/**
 * What `init` may be: a standard init (`'indices'`, `'items'`, `'run_once'`), a component
 * name, the name of a method of the batch, or a function called with the batch as `this`.
 * `'indices'` gives each item its id, which is its position only in a batch made without
 * an index: a dataset's batches carry the dataset's ids, so find the item with
 * `this.position(id)` (or `this.get(id)`).
 */
export type InitOption =
  | 'indices'
  | 'items'
  | 'run_once'
  | (string & {})
  // biome-ignore lint/suspicious/noExplicitAny: init functions are called with the batch as this and the call's arguments
  | ((this: any, ...args: any[]) => Iterable<unknown> | PromiseLike<Iterable<unknown>>);

/** What `post` may be: the name of a method of the batch, or a function called with the batch as `this`. */
export type PostOption =
  | string
  // biome-ignore lint/suspicious/noExplicitAny: post functions are called with the batch as this and the call's arguments
  | ((this: any, results: any[], ...args: any[]) => unknown);

/** Options of {@link inbatchParallel}. Any other option is handed to `init` and `post` (never to the method). */
export interface InbatchParallelOptions {
  /**
   * One argument set per parallel call of the method: a standard init (`'indices'`,
   * `'items'`, `'run_once'`), a component name, a method name, or a function. Each set
   * is an array (positional arguments), a plain object (named arguments), `args(positional,
   * named)` (both), or any other value (one argument).
   */
  readonly init: InitOption;
  /**
   * Called with the results in init order (an Error in place of each failed call); its
   * return value is the call's value. A call with a post records its items in the run
   * it belongs to, and a resumed run hands post the finished items' stored results
   * without running them again; a call without one keeps only what its items wrote into
   * the batch, so its items are not recorded and all run again on a resume.
   * @default none: a failure raises `ParallelActionFailed`, else the batch is returned
   */
  readonly post?: PostOption;
  /**
   * Where the calls run. An `async` method always runs on `async`.
   * @default 'threads'
   */
  readonly target?: TargetName;
  /**
   * With target `for`: the first error propagates at once and later items never run.
   * @default false
   */
  readonly debug?: boolean;
  /**
   * Most items at once on every target, unless a call gives its own `nWorkers`.
   * @default the number of cores
   */
  readonly nWorkers?: number;
  /** Extra options, handed to `init` and `post` as named arguments. */
  readonly [extra: string]: unknown;
}

/** Checked options of a parallel method. */
export interface ParallelOptions {
  readonly init: InitOption;
  readonly post: PostOption | undefined;
  /** The target the decorator gave, resolved from its alias (undefined: the default). */
  readonly target: Target | undefined;
  readonly debug: boolean;
  /** The decorator's cap of items at once, when it gives one. */
  readonly nWorkers: number | undefined;
  /** Every other option, handed to init and post. */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** A parallel method, as `inbatchParallel` made it. */
export interface ParallelSpec {
  readonly options: ParallelOptions;
  /** The method run once per item (the decorated one). */
  readonly method: Function;
  /** The method's name (the decorated member's, or the function's). */
  readonly name: string;
  /** URL of the module where `inbatchParallel` was called, when known: workers look there. */
  readonly module: string | undefined;
}

/**
 * The spec rides on the wrapper under a shared symbol, not in a map of this module: a
 * worker may load weft twice (its sources and its build), and the copy running an item
 * must find the spec that the copy which decorated the class gave.
 */
const specKey = Symbol.for('weft.parallel');

/** Marks `wrapper` as the installed form of the parallel method `spec`. */
export function setParallelSpec(wrapper: object, spec: ParallelSpec): void {
  Object.defineProperty(wrapper, specKey, { value: spec, enumerable: false });
}

/** The spec of a parallel method's wrapper, or undefined for any other value. */
export function parallelSpecOf(wrapper: unknown): ParallelSpec | undefined {
  return typeof wrapper === 'function'
    ? ((wrapper as { [specKey]?: ParallelSpec })[specKey] ?? undefined)
    : undefined;
}
