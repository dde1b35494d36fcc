/**
 * The tasks of the executor conformance suite. They are defined at the top level of this
 * module so that every executor finds them: worker threads, child processes and remote
 * workers import this module and look the tasks up by name. Tasks share no memory with
 * the test that runs them, so everything a case needs to observe comes back as the
 * task's output, its error, or a progress report.
 */
import { type Task, type TaskContext, task } from '../core/task.ts';
import { transfer } from '../core/transfer.ts';

/** The `code` of the error thrown by {@link fail} and {@link failOdd}. */
export const conformanceErrorCode = 'E_CONFORMANCE';

/** The error the failing tasks throw: a custom name and a custom `code`. */
class ConformanceError extends Error {
  override name = 'ConformanceError';
  readonly code = conformanceErrorCode;
}

/** Progress message a task reports when its signal aborts, just before it settles. */
export const abortedMessage = 'aborted';
/** Progress message a task reports once it runs. */
export const startedMessage = 'started';
/** Progress message a task reports when its work is over, just before it returns. */
export const endedMessage = 'ended';

/** Doubles a number, synchronously. */
export const double = task('conformance:double', (x: number) => x * 2);

/** Doubles a number after a short wait that varies with it, so items finish out of order. */
export const doubleLater = task('conformance:doubleLater', async (x: number) => {
  await new Promise((resolve) => setTimeout(resolve, 3 - (x % 4)));
  return x * 2;
});

/** Adds up an array of numbers. */
export const sum = task('conformance:sum', (values: readonly number[]) =>
  values.reduce((total, value) => total + value, 0),
);

/**
 * Sums a Float64Array given with `transfer()` (or copied) and moves a new one back with
 * `transfer()`: `{ sum, filled }`, `filled` holding `length` copies of the sum.
 */
export const sumAndMoveBack = task('conformance:sumAndMoveBack', (data: Float64Array) => {
  let total = 0;
  for (const value of data) total += value;
  return transfer({ sum: total, filled: new Float64Array(data.length).fill(total) });
});

/** Returns its input together with the type tag the task saw, e.g. `[object Map]`. */
export const echo = task('conformance:echo', (value: unknown) => ({
  value,
  tag: Object.prototype.toString.call(value),
}));

/** Throws a `ConformanceError` (custom name and code) with the message it is given. */
export const fail = task('conformance:fail', (message: string): never => {
  throw new ConformanceError(message);
});

/** Fails on odd numbers (message `odd <x>`), doubles even ones. */
export const failOdd = task('conformance:failOdd', (x: number) => {
  if (x % 2 === 1) throw new ConformanceError(`odd ${x}`);
  return x * 2;
});

/** What {@link context} saw of its context. */
export interface ContextReport {
  readonly input: unknown;
  readonly attempt: number;
  readonly key: string;
  readonly signalIsAbortSignal: boolean;
  readonly aborted: boolean;
}

/** Reports what it sees of its context. */
export const context = task(
  'conformance:context',
  (input: unknown, ctx: TaskContext): ContextReport => ({
    input,
    attempt: ctx.attempt,
    key: ctx.key,
    signalIsAbortSignal: ctx.signal instanceof AbortSignal,
    aborted: ctx.signal.aborted,
  }),
);

/** Reports progress twice (a fraction, then counts with a message), then returns its input. */
export const progress = task('conformance:progress', (x: number, ctx: TaskContext) => {
  ctx.progress(0.5);
  ctx.progress({ done: 1, total: 2, message: `item ${x}` });
  return x;
});

/** Fails on attempts 1 and 2, succeeds on attempt 3, deciding by `ctx.attempt` alone. */
export const flaky = task(
  'conformance:flaky',
  (x: number, ctx: TaskContext) => {
    if (ctx.attempt < 3) throw new ConformanceError(`attempt ${ctx.attempt} of ${x} fails`);
    return { x, attempt: ctx.attempt };
  },
  { retries: 2, backoff: { delayMs: 1, jitter: false } },
);

/**
 * Never settles on its own: resolves when its signal aborts, after reporting
 * {@link abortedMessage} (so the test sees the abort reach wherever the task runs).
 */
function untilAborted(id: unknown, ctx: TaskContext): Promise<string> {
  const { signal } = ctx;
  ctx.progress({ done: 0, message: startedMessage });
  return new Promise((resolve) => {
    const onAbort = () => {
      ctx.progress({ done: 1, message: abortedMessage });
      resolve(`${String(id)} aborted`);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** {@link untilAborted} with a 50 ms timeout. */
export const hangUntilTimeout = task('conformance:hangUntilTimeout', untilAborted, {
  timeoutMs: 50,
});

/** One item of a fail-fast map: hangs until aborted, fails, or returns its value. */
export type FailFastItem =
  | { readonly kind: 'hang'; readonly id: number }
  | { readonly kind: 'fail'; readonly id: number }
  | { readonly kind: 'value'; readonly id: number };

/** Runs a {@link FailFastItem}. */
export const failFast = task('conformance:failFast', (item: FailFastItem, ctx: TaskContext) => {
  if (item.kind === 'hang') return untilAborted(item.id, ctx);
  if (item.kind === 'fail') throw new ConformanceError(`item ${item.id} fails`);
  return String(item.id);
});

/**
 * Reports {@link startedMessage}, works for `ms` milliseconds (timers, so that tasks of
 * one worker overlap too), reports {@link endedMessage} and returns its input.
 */
export const busy = task('conformance:busy', async (ms: number, ctx: TaskContext) => {
  ctx.progress({ done: 0, message: startedMessage });
  await new Promise((resolve) => setTimeout(resolve, ms));
  ctx.progress({ done: 1, message: endedMessage });
  return ms;
});

/** Returns a function, which cannot be sent back from a worker. */
export const returnsFunction = task('conformance:returnsFunction', (x: number) => ({
  x,
  callback: () => x,
}));

/** One item of a crash map: the worker exits with `exitCode`, or the value comes back. */
export interface CrashItem {
  readonly value: number;
  readonly exitCode?: number;
}

/** Ends the worker it runs in with `process.exit(exitCode)`, or returns the value. */
export const exitWorker = task('conformance:exitWorker', (item: CrashItem) => {
  if (item.exitCode !== undefined) process.exit(item.exitCode);
  return item.value;
});

/**
 * A task defined inside a function body: workers import this module but do not find it
 * there, since the function never runs in them. Only remote executors should be asked
 * to run it; every call returns the same definition.
 */
export function notTopLevel(): Task<number, number> {
  return task('conformance:notTopLevel', (x: number) => x);
}

/** An item of {@link hoardOrDouble}: a number to double, or a leak of `megabytes`. */
export type HoardItem = number | { readonly kind: 'leak'; readonly megabytes: number };

/**
 * Doubles a number; given a leak, holds that many megabytes at once, then lets them go
 * and returns how many it held: bounded, so that a worker without a memory cap survives.
 */
export const hoardOrDouble = task('conformance:hoardOrDouble', (item: HoardItem) => {
  if (typeof item === 'number') return item * 2;
  const held: number[][] = [];
  // 131,072 doubles: one megabyte each.
  for (let i = 0; i < item.megabytes; i++) held.push(new Array<number>(131_072).fill(i + 0.5));
  return held.length;
});
