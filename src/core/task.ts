/**
 * Tasks: named functions that can run anywhere. A task defined at the top level of a
 * module is found by name in worker threads, child processes and remote workers, which
 * import the module it was defined in.
 */
import { type CallSite, callSite, moduleUrl } from './call-site.ts';
import { describeType } from './describe.ts';
import { DuplicateTaskError, ValidationError } from './errors.ts';
import type { KeyScope } from './keys.ts';
import {
  type DefinitionRef,
  definitionNames,
  definitionRef,
  register,
  registered,
} from './registry.ts';

/** What a task receives besides its input. */
export interface TaskContext {
  /** Aborted when the task times out, its fan-out fails fast, or the caller cancels. */
  readonly signal: AbortSignal;
  /** 1 on the first try, 2 on the first retry, and so on. */
  readonly attempt: number;
  /** Deterministic key of this task instance, e.g. `map:square/4`. */
  readonly key: string;
  /** Scope for fan-outs started inside this task, so their keys nest under this one. */
  readonly scope: KeyScope;
  /**
   * Reports progress; it reaches every event subscriber as a `task:progress` event.
   * @example ctx.progress({ done: 3, total: 10 })
   */
  progress(value: Progress): void;
}

/** A progress report: a fraction in [0, 1], or counts with an optional message. */
export type Progress =
  | number
  | { readonly done: number; readonly total?: number; readonly message?: string };

/** The function a task runs. May be sync or async. */
export type TaskFn<I, O> = (input: I, ctx: TaskContext) => O | PromiseLike<O>;

/** How a failed attempt is retried. */
export interface BackoffOptions {
  /**
   * Delay before the first retry, in milliseconds.
   * @default 100
   */
  readonly delayMs?: number;
  /**
   * Each further retry waits this many times longer.
   * @default 2
   */
  readonly factor?: number;
  /**
   * Upper bound of one delay, in milliseconds.
   * @default 30000
   */
  readonly maxDelayMs?: number;
  /**
   * Randomise each delay between half and all of its value, so retries of many tasks
   * spread out; a number adds up to that many milliseconds at random instead.
   * @default true
   */
  readonly jitter?: boolean | number;
}

/** Options of {@link task}. */
export interface TaskOptions {
  /**
   * How many times a failed attempt is tried again.
   * @default 0
   */
  readonly retries?: number;
  /** Delays between retries. @default { delayMs: 100, factor: 2, maxDelayMs: 30000, jitter: true } */
  readonly backoff?: BackoffOptions;
  /**
   * Decides whether an error is worth retrying. Timeouts and crashes count as errors.
   * @default every error is retried
   */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /**
   * Milliseconds one attempt may take. When exceeded, weft stops waiting, aborts the
   * attempt's signal and fails (or retries) it with a `TimeoutError`.
   * @default no timeout
   */
  readonly timeoutMs?: number;
  /**
   * URL or path of the module defining the task, imported by workers to find it.
   * @default the module that called `task()`, found from the call site
   * @example task('resize', resize, { module: import.meta.url })
   */
  readonly module?: string | URL;
}

const taskBrand = Symbol.for('weft.task');

/** A named function that weft can run on any executor. Create one with {@link task}. */
export interface Task<I = unknown, O = unknown> {
  readonly [taskBrand]: true;
  /** Unique name; workers find the task by it. */
  readonly name: string;
  /** The function the task runs (a method signature, so any Task is assignable to `Task<unknown>`). */
  fn(input: I, ctx: TaskContext): O | PromiseLike<O>;
  readonly options: TaskOptions;
  /** URL of the defining module, or undefined when it could not be found. */
  readonly module: string | undefined;
  /** Where `task()` was called, for error messages. */
  readonly definedAt: string | undefined;
  /** How workers find the task again, or undefined when it runs only in this thread. */
  readonly ref: DefinitionRef | undefined;
  /** True for plain functions wrapped by weft: they can only run in this thread. */
  readonly local: boolean;
}

/**
 * Defines a named task. Define tasks at the top level of a module so that worker
 * threads, child processes and remote workers, which import that module, find them.
 *
 * @example
 * export const square = task('square', (x: number) => x * x);
 * export const fetchPage = task('fetchPage', async (url: string, { signal }) =>
 *   (await fetch(url, { signal })).text(), { retries: 3, timeoutMs: 10_000 });
 */
export function task<I, O>(name: string, fn: TaskFn<I, O>, options: TaskOptions = {}): Task<I, O> {
  return defineTask(name, fn, options, callSite(task), 'task');
}

/**
 * Defines a task named by `site`: for front ends that define tasks on their users' behalf
 * (compose's `operator()`), which find the user's call site themselves. Not public API.
 * @param what the defining function, in messages: `task`, `operator`
 */
export function defineTask<I, O>(
  name: string,
  fn: TaskFn<I, O>,
  options: TaskOptions,
  site: CallSite | undefined,
  what: string,
): Task<I, O> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ValidationError(`${what}() needs a non-empty string name as its first argument.`);
  }
  if (typeof fn !== 'function') {
    throw new ValidationError(`${what}('${name}') needs a function as its second argument.`);
  }
  validateTaskOptions(name, options);
  const module =
    options.module === undefined ? site?.module : moduleUrl(options.module, `${what}('${name}')`);
  const definedAt = site?.location;
  const existing = registered('task', name);
  // The same definition evaluated again (a module loaded twice) replaces itself quietly.
  if (existing && existing.definedAt !== definedAt) {
    throw new DuplicateTaskError(
      `Two tasks are named '${name}': one defined at ${existing.definedAt ?? 'an unknown place'}, ` +
        `another at ${definedAt ?? 'an unknown place'}. Workers find tasks by name, so give each a unique name.`,
    );
  }
  // An infinite timeout is no timeout: the engine then skips the timer entirely.
  const stored =
    options.timeoutMs === Number.POSITIVE_INFINITY ? { ...options, timeoutMs: undefined } : options;
  const created: Task<I, O> = Object.freeze({
    [taskBrand]: true as const,
    name,
    fn,
    options: Object.freeze({ ...stored }),
    module,
    definedAt,
    ref: definitionRef('task', name, module),
    local: false,
  });
  register('task', name, { value: created, module, definedAt });
  return created;
}

/**
 * A task that runs only in this thread and is not registered by name: for front ends
 * that wrap user code with retry options of their own.
 */
export function localTask<I, O>(
  name: string,
  fn: TaskFn<I, O>,
  options: TaskOptions = {},
): Task<I, O> {
  validateTaskOptions(name, options);
  return Object.freeze({
    [taskBrand]: true as const,
    name,
    fn,
    options: Object.freeze({ ...options }),
    module: undefined,
    definedAt: undefined,
    ref: undefined,
    local: true,
  });
}

/** True when `value` was made by {@link task}. */
export function isTask(value: unknown): value is Task {
  return typeof value === 'object' && value !== null && (value as Task)[taskBrand] === true;
}

/** Looks a task up by name in this thread's registry. */
export function findTask(name: string): Task | undefined {
  return registered<Task>('task', name)?.value;
}

/** Names of every task defined in this thread, for error messages. */
export function taskNames(): string[] {
  return definitionNames('task');
}

const plainTasks = new WeakMap<Function, Task>();

/** Wraps a plain function as a local task (runs only in this thread), or returns the task given. */
export function toTask<I, O>(fnOrTask: Task<I, O> | TaskFn<I, O>): Task<I, O> {
  if (isTask(fnOrTask)) return fnOrTask as Task<I, O>;
  if (typeof fnOrTask !== 'function') {
    throw new ValidationError(
      `Expected a task or a function, got ${describeType(fnOrTask)}. Pass task('name', fn) or a function.`,
    );
  }
  let wrapped = plainTasks.get(fnOrTask);
  if (!wrapped) {
    wrapped = Object.freeze({
      [taskBrand]: true as const,
      name: fnOrTask.name || 'anonymous',
      fn: fnOrTask as TaskFn<unknown, unknown>,
      options: Object.freeze({}),
      module: undefined,
      definedAt: undefined,
      ref: undefined,
      local: true,
    });
    plainTasks.set(fnOrTask, wrapped);
  }
  return wrapped as Task<I, O>;
}

function validateTaskOptions(name: string, options: TaskOptions): void {
  const where = `task('${name}')`;
  const { retries, timeoutMs, backoff } = options;
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    throw new ValidationError(`${where}: retries must be a whole number ≥ 0, got ${retries}.`);
  }
  if (
    timeoutMs !== undefined &&
    timeoutMs !== Number.POSITIVE_INFINITY &&
    !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= 2_147_483_647)
  ) {
    throw new ValidationError(
      `${where}: timeoutMs must be a number of milliseconds from 1 to 2147483647 (about 24.8 days), ` +
        `or Infinity for none; got ${timeoutMs}.`,
    );
  }
  if (backoff?.jitter !== undefined && typeof backoff.jitter !== 'boolean') {
    if (!(typeof backoff.jitter === 'number' && backoff.jitter >= 0)) {
      throw new ValidationError(
        `${where}: backoff.jitter must be true, false or a number of milliseconds ≥ 0, got ${backoff.jitter}.`,
      );
    }
  }
  for (const field of ['delayMs', 'factor', 'maxDelayMs'] as const) {
    const value = backoff?.[field];
    if (value !== undefined && !(typeof value === 'number' && value >= 0)) {
      throw new ValidationError(`${where}: backoff.${field} must be a number ≥ 0, got ${value}.`);
    }
  }
}
