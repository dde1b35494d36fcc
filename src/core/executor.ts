/**
 * The executor contract. The engine hands task invocations to an executor; executors
 * run them in this thread, in worker threads, in child processes or on remote workers.
 * Executors import only this contract and the engine's errors, never each other.
 */
import { availableParallelism } from 'node:os';
import { ValidationError } from './errors.ts';
import type { Task, TaskContext } from './task.ts';

/** One attempt of one task instance, as handed to an executor. It is also the task's context. */
export interface TaskInvocation extends TaskContext {
  readonly task: Task;
  readonly input: unknown;
  /**
   * Executors call this when the task really starts, after any queueing, so that a
   * timeout measures the task and not its wait for a free slot.
   */
  started(): void;
  /**
   * Executors that run tasks elsewhere call this when an outcome arrives, with the
   * attempt's start and run time as measured where it ran, so that its record measures
   * the task and not its wait for a worker or for the rest of its batch.
   * @param startedAt milliseconds since the epoch
   */
  ran?(startedAt: number, durationMs: number): void;
}

/** The outcome of one invocation in a batch. */
export type Settled = { readonly ok: true; readonly value: unknown } | SettledError;
export interface SettledError {
  readonly ok: false;
  readonly error: unknown;
}

/** Runs tasks. Swapped by configuration alone: user code does not change. */
export interface Executor {
  /** Short name shown in messages and progress, e.g. `threads`. */
  readonly name: string;
  /**
   * True when tasks run outside this thread: they must be named tasks defined at a
   * module's top level, and inputs and outputs are copied (or transferred).
   */
  readonly remote: boolean;
  /** How many tasks a fan-out keeps in flight on this executor when not told otherwise. */
  readonly concurrency: number;
  /** The most tasks a fan-out may keep in flight on this executor (1 for `inline`). */
  readonly maxConcurrency: number;
  /**
   * For an executor that runs tasks on a fixed number of workers (a pool of threads or
   * processes): how many. At most that many tasks run at once, however many a fan-out
   * keeps in flight, so a fan-out capped at that many or more may queue more without
   * breaking its cap.
   */
  readonly workers?: number;
  /**
   * True when tasks run in workers that share this process's memory (worker threads): a
   * SharedArrayBuffer in a task's input is the same memory there, not a copy, so a front
   * end may hand workers one shared copy of its data and let them write results into it.
   * @default false
   */
  readonly sharesMemory?: boolean;
  /**
   * True when `run` calls `invocation.started()` as each task begins. Otherwise a
   * timeout counts from the hand-over to the executor.
   */
  readonly reportsStart?: boolean;
  /** Throws a typed error when this executor cannot run `task` (called before a fan-out starts). */
  check(task: Task): void;
  /**
   * Runs one invocation. Returns the output, or a promise of it; in-process executors
   * return synchronous outputs directly so that tiny tasks cost almost nothing.
   */
  run(invocation: TaskInvocation): unknown;
  /** Runs many invocations and returns every outcome in order; off-thread executors send them together. */
  runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]>;
  /**
   * Stops accepting work (it then fails with `ExecutorClosedError`) and releases
   * resources. Tasks waiting for a slot fail; off-thread executors stop their workers,
   * failing the tasks they ran. In-process tasks already running finish on their own.
   */
  close(): Promise<void>;
}

let defaultFactory: (() => Executor) | undefined;
let defaultExecutor: Executor | undefined;

/**
 * Sets how the default executor is made. The engine itself knows no executor
 * implementation: every entry point of the package loads `executors/default.ts`, which
 * provides one chosen from `WEFT_EXECUTOR`, and `weft run` sets the one of `--executor`.
 */
export function setDefaultExecutorFactory(factory: () => Executor): void {
  defaultFactory = factory;
  defaultExecutor = undefined;
}

/** Sets the default executor's factory unless one was set already (by `weft run`, say). */
export function provideDefaultExecutorFactory(factory: () => Executor): void {
  if (!defaultFactory) defaultFactory = factory;
}

/** The executor fan-outs use when given none; made on first use and shared. */
export function getDefaultExecutor(): Executor {
  if (defaultExecutor) return defaultExecutor;
  if (!defaultFactory) {
    throw new ValidationError(
      "No default executor: import 'weftjs' or one of its subpaths (each provides one), or pass { executor }.",
    );
  }
  defaultExecutor = defaultFactory();
  return defaultExecutor;
}

/** The kinds of executor a front end may ask the engine for by what they do, not by a module. */
export type ExecutorKind = 'inline' | 'asyncPool' | 'threads' | 'processes';

/** What a front end asks of an executor of a kind: its size. */
export interface ExecutorKindOptions {
  /** Worker threads or processes of a pool, or tasks at once of an async pool. */
  readonly workers?: number;
}

let kindFactory: ((kind: ExecutorKind, options: ExecutorKindOptions) => Executor) | undefined;

/**
 * Sets how executors are made by kind. As with the default executor, the engine knows no
 * implementation: `executors/default.ts`, which every entry point loads, provides them.
 */
export function provideExecutorKinds(
  factory: (kind: ExecutorKind, options: ExecutorKindOptions) => Executor,
): void {
  if (!kindFactory) kindFactory = factory;
}

/**
 * A new executor of `kind`, for a front end whose own vocabulary chooses where work runs
 * (BatchFlow's targets `threads`, `mpc`, `async`, `for`). The caller owns and closes it.
 */
export function makeExecutor(kind: ExecutorKind, options: ExecutorKindOptions = {}): Executor {
  if (!kindFactory) {
    throw new ValidationError(
      `No ${kind} executor: import 'weftjs' or one of its subpaths (each provides them), or pass { executor }.`,
    );
  }
  return kindFactory(kind, options);
}

/** The kinds of executor {@link sharedExecutor} keeps: every kind but `inline`. */
export type SharedExecutorKind = Exclude<ExecutorKind, 'inline'>;

/**
 * One executor of each kind per thread, made on first use and left open for later calls;
 * idle pool workers do not keep the process alive, so a script that used one still ends.
 */
const shared = new Map<SharedExecutorKind, Executor>();

/**
 * The executor of `kind` that the batch front end's targets and pipelines share when a
 * call brings none of its own (compose does not use it: a composite runs on the executor
 * it is given or the configured default). Pools get a worker per core; the async pool has
 * a slot for any number of tasks, since a fan-out's concurrency is what caps a call.
 */
export function sharedExecutor(kind: SharedExecutorKind): Executor {
  let executor = shared.get(kind);
  if (!executor) {
    const workers = kind === 'asyncPool' ? Number.MAX_SAFE_INTEGER : availableParallelism();
    executor = makeExecutor(kind, { workers });
    shared.set(kind, executor);
  }
  return executor;
}

/**
 * `runBatch` for executors that gain nothing from sending invocations together: runs each
 * with `run` and settles every outcome in order.
 */
export function runEach(
  executor: Pick<Executor, 'run'>,
  invocations: readonly TaskInvocation[],
): Promise<Settled[]> {
  return Promise.all(
    invocations.map(async (invocation): Promise<Settled> => {
      try {
        return { ok: true, value: await executor.run(invocation) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
}

/** True for promises and other thenables. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
