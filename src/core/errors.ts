/**
 * weft's errors. Every error weft raises is a {@link WeftError} with a stable `code`,
 * a message that names the offending thing and the fix, and the underlying `cause`.
 *
 * Errors cross threads and processes, where `instanceof` no longer works: recognise
 * them by `code` (see {@link isWeftError}), and use {@link toWire} / {@link fromWire}
 * to carry any error across a boundary.
 */
import { nodeName } from './describe.ts';

/** Options shared by every weft error constructor. */
export interface WeftErrorOptions {
  /** The error that caused this one. */
  readonly cause?: unknown;
}

/** Base class of every error weft raises. */
export class WeftError extends Error {
  override name = 'WeftError';
  /** Stable, machine-readable identifier of the kind of failure, e.g. `WEFT_TIMEOUT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: WeftErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Input that weft cannot act on: a bad option, graph, name or value. Raised before any work starts. */
export class ValidationError extends WeftError {
  override name = 'ValidationError';
  constructor(message: string, options?: WeftErrorOptions & { readonly code?: string }) {
    super(options?.code ?? 'WEFT_VALIDATION', message, options);
  }
}

/** Two tasks were defined with the same name, so a worker could not tell them apart. */
export class DuplicateTaskError extends WeftError {
  override name = 'DuplicateTaskError';
  constructor(message: string) {
    super('WEFT_DUPLICATE_TASK', message);
  }
}

/** A worker was asked to run a task name that no imported module defines. */
export class UnknownTaskError extends WeftError {
  override name = 'UnknownTaskError';
  constructor(message: string, options?: WeftErrorOptions) {
    super('WEFT_UNKNOWN_TASK', message, options);
  }
}

/** A plain function (not a named task) was handed to an executor that runs code elsewhere. */
export class PlainFunctionError extends WeftError {
  override name = 'PlainFunctionError';
  constructor(message: string) {
    super('WEFT_PLAIN_FUNCTION', message);
  }
}

/** A value could not be copied to or from a worker thread or process. */
export class NotCloneableError extends WeftError {
  override name = 'NotCloneableError';
  constructor(message: string, options?: WeftErrorOptions) {
    super('WEFT_NOT_CLONEABLE', message, options);
  }
}

/** A task attempt ran longer than its `timeoutMs`; its signal was aborted. */
export class TimeoutError extends WeftError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super('WEFT_TIMEOUT', message);
  }

  /** The error of an attempt that ran out of time, wherever it ran (one wording everywhere). */
  static forAttempt(task: string, key: string, timeoutMs: number, attempt: number): TimeoutError {
    return new TimeoutError(
      `Task '${task}' (${key}) timed out after ${timeoutMs} ms on attempt ${attempt}; ` +
        'its signal was aborted.',
    );
  }
}

/** The worker thread or process running a task died (exit, uncaught error, out of memory). */
export class WorkerCrashedError extends WeftError {
  override name = 'WorkerCrashedError';
  constructor(message: string, options?: WeftErrorOptions) {
    super('WEFT_WORKER_CRASHED', message, options);
  }
}

/**
 * A module that a worker imported to find a task, an action or a flow started work at its
 * top level (a map, a dag, a run): every worker would run it again and start more
 * workers. The task that needed the module fails with this error. Never retried.
 */
export class TopLevelWorkError extends WeftError {
  override name = 'TopLevelWorkError';
  constructor(message: string) {
    super('WEFT_TOP_LEVEL_WORK', message);
  }
}

/** Work was handed to an executor after `close()`. Never retried. */
export class ExecutorClosedError extends WeftError {
  override name = 'ExecutorClosedError';
  constructor(executor: string) {
    super(
      'WEFT_EXECUTOR_CLOSED',
      `The ${executor} executor is closed. Create a new one, or close it only after the work that uses it.`,
    );
  }
}

/** A task failed after all its attempts. `cause` is the task's own error. */
export class TaskFailedError extends WeftError {
  override name = 'TaskFailedError';
  /** Name of the task that failed. */
  readonly task: string;
  /** Deterministic key of the failed task instance. */
  readonly key: string;
  /** Number of attempts made. */
  readonly attempts: number;

  constructor(task: string, key: string, attempts: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    super('WEFT_TASK_FAILED', `Task '${task}' (${key}) failed after ${tries}: ${reason}`, {
      cause,
    });
    this.task = task;
    this.key = key;
    this.attempts = attempts;
  }
}

/** A DAG node did not run because a node it depends on failed. */
export class DependencyFailedError extends WeftError {
  override name = 'DependencyFailedError';
  /** Id of the node that did not run, as given (a string or a number). */
  readonly node: string | number;
  /** Id of the node whose own failure is the root cause. */
  readonly rootCause: string | number;

  constructor(
    node: string | number,
    dependency: string | number,
    rootCause: string | number,
    cause: unknown,
  ) {
    const via = dependency === rootCause ? '' : ` (via ${nodeName(dependency)})`;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'WEFT_DEPENDENCY_FAILED',
      `Node ${nodeName(node)} did not run: its dependency ${nodeName(rootCause)} failed${via}: ${reason}`,
      { cause },
    );
    this.node = node;
    this.rootCause = rootCause;
  }
}

/** A State operation was applied to a value of the wrong kind (e.g. append to a non-list). */
export class StateError extends WeftError {
  override name = 'StateError';
  constructor(message: string) {
    super('WEFT_STATE', message);
  }
}

/** True when `error` is a weft error, also one rebuilt from another thread or process. */
export function isWeftError(error: unknown, code?: string): error is WeftError {
  if (!(error instanceof Error)) return false;
  const found = (error as { code?: unknown }).code;
  if (typeof found !== 'string' || !found.startsWith('WEFT_')) return false;
  return code === undefined || found === code;
}

/** The plain-data form of an error, safe to post to a worker, a process or a queue. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly cause?: WireError;
  readonly props?: Record<string, unknown>;
}

const ownKeysSkipped = new Set(['name', 'message', 'stack', 'code', 'cause']);

/** Turns any thrown value into its {@link WireError} form. */
export function toWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: typeof error === 'string' ? error : safeString(error) };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (ownKeysSkipped.has(key)) continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      props[key] = value;
    }
  }
  const code = (error as { code?: unknown }).code;
  const cause = error.cause !== undefined && depth < 8 ? toWire(error.cause, depth + 1) : undefined;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(typeof code === 'string' ? { code } : {}),
    ...(cause === undefined ? {} : { cause }),
    ...(Object.keys(props).length > 0 ? { props } : {}),
  };
}

/**
 * Rebuilds an Error from its {@link WireError} form, keeping name, message, code, stack and
 * cause. The wire form may come from disk or another process: its fields become own data
 * properties (a `__proto__` field never sets a prototype), only the primitive fields
 * {@link toWire} writes are kept, and causes are followed as deep as toWire writes them.
 */
export function fromWire(wire: WireError, depth = 0): Error {
  const cause = wire.cause && depth < 8 ? fromWire(wire.cause, depth + 1) : undefined;
  const error = new Error(String(wire.message), cause === undefined ? undefined : { cause });
  Object.defineProperty(error, 'name', {
    value: wire.name,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  if (wire.code !== undefined) (error as Error & { code: string }).code = wire.code;
  for (const [key, value] of Object.entries(wire.props ?? {})) {
    if (ownKeysSkipped.has(key)) continue;
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) continue;
    Object.defineProperty(error, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A value that cannot be stored (a function, a symbol, a class instance…). */
export class SerializationError extends WeftError {
  override name = 'SerializationError';
  constructor(message: string, options?: WeftErrorOptions) {
    super('WEFT_SERIALIZATION', message, options);
  }
}

/**
 * Another process owns the run: it holds the run's lease, and two processes would run the
 * same tasks twice. Wait for it to finish; a run whose owner died is free once its lease
 * expires, or at once with `weft resume --force`.
 */
export class RunBusyError extends WeftError {
  override name = 'RunBusyError';
  /** The run asked for. */
  readonly runId: string;
  /** Who holds the run's lease. */
  readonly owner: string;
  /** When that lease ends unless renewed, in milliseconds since the epoch. */
  readonly leaseExpiresAt: number;
  constructor(runId: string, owner: string, leaseExpiresAt: number, message?: string) {
    super(
      'WEFT_RUN_BUSY',
      message ??
        `Run '${runId}' is owned by another process (${owner}), whose lease lasts until ` +
          `${new Date(leaseExpiresAt).toISOString()}. Wait for it to finish; if that process ` +
          'is dead, the run is free once its lease expires, or at once with: ' +
          `weft resume ${runId} --force`,
    );
    this.runId = runId;
    this.owner = owner;
    this.leaseExpiresAt = leaseExpiresAt;
  }
}

/** A store could not be opened or used: a bad URL, an unreachable server, a foreign file. */
export class StoreError extends WeftError {
  override name = 'StoreError';
  constructor(message: string, options?: WeftErrorOptions & { readonly code?: string }) {
    super(options?.code ?? 'WEFT_STORE', message, options);
  }
}
