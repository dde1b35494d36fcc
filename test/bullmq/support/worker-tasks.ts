/**
 * Tasks that the worker tests' jobs name. The worker finds them by importing this module
 * from the project root, as it would a user's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type TaskContext, task } from 'weftjs';
import { fileExists } from '../../fixtures/bullmq-counted.ts';

/** Doubles a number. */
export const double = task('worker-test:double', (n: number) => n * 2);

/** Does nothing, as fast as it can: for throughput. */
export const noop = task('worker-test:noop', () => null);

/** Reports `count` progress values, then returns the count. */
export const reports = task('worker-test:reports', (count: number, ctx: TaskContext) => {
  for (let done = 1; done <= count; done++) ctx.progress({ done, total: count });
  return count;
});

/** Throws a TypeError naming its input. */
export const throws = task('worker-test:throws', (what: string) => {
  throw new TypeError(`bad ${what}`);
});

/** Returns a function: an output no serializer takes. */
export const returnsFunction = task('worker-test:returnsFunction', () => ({ f: () => 1 }));

/** Returns a string of `bytes` characters. */
export const bigOutput = task('worker-test:bigOutput', (bytes: number) => 'x'.repeat(bytes));

/** Returns the length of its input. */
export const lengthOf = task('worker-test:lengthOf', (text: string) => text.length);

/**
 * Reports 'started', then waits until its signal aborts, reports 'aborted' with the
 * reason's message, and returns. Never settles on its own.
 */
export const untilAborted = task('worker-test:untilAborted', waitForAbort);

/** {@link untilAborted} with a 300 ms timeout. */
export const timedUntilAborted = task('worker-test:timedUntilAborted', waitForAbort, {
  timeoutMs: 300,
});

/** Reports 'started' and never settles, ignoring its signal; 200 ms timeout. */
export const ignoresTimeout = task(
  'worker-test:ignoresTimeout',
  (_: unknown, ctx: TaskContext) => {
    ctx.progress({ done: 0, message: 'started' });
    return new Promise(() => {});
  },
  { timeoutMs: 200 },
);

/** Sleeps `ms` milliseconds after reporting 'started', then returns `ms`. */
export const sleeps = task('worker-test:sleeps', async (ms: number, ctx: TaskContext) => {
  ctx.progress({ done: 0, message: 'started' });
  await sleep(ms);
  return ms;
});

/**
 * Reports 'started', waits until the file `gate` exists (a test creates it when it is
 * ready for the task to end), then returns `value`.
 */
export const waitsForFile = task(
  'worker-test:waitsForFile',
  async ({ gate, value }: { gate: string; value: number }, ctx: TaskContext) => {
    ctx.progress({ done: 0, message: 'started' });
    await fileExists(gate, ctx.signal);
    return value;
  },
);

/** A timed task that finishes at once: its job sends a `started` reply. */
export const timedDouble = task('worker-test:timedDouble', (n: number) => n * 2, {
  timeoutMs: 10_000,
});

/** Ends the process it runs in (a child process of the worker's executor). */
export const exits = task('worker-test:exits', () => {
  process.exit(3);
});

/** Its context, as plain data. */
export const context = task('worker-test:context', (_: unknown, ctx: TaskContext) => ({
  key: ctx.key,
  attempt: ctx.attempt,
  scope: ctx.scope.path,
  aborted: ctx.signal.aborted,
}));

function waitForAbort(_: unknown, ctx: TaskContext): Promise<string> {
  ctx.progress({ done: 0, message: 'started' });
  return new Promise((resolve) => {
    const onAbort = () => {
      const reason = ctx.signal.reason as Error;
      ctx.progress({ done: 1, message: `aborted: ${reason.message}` });
      resolve('aborted');
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * For a fail-fast map run by a worker in the test's own process (this module is then the
 * same in both): item 0 hangs until aborted, item 1 fails once item 0 runs. `aborted`
 * settles when item 0's signal aborts, with its reason.
 */
export const failFast = {
  running: deferred<void>(),
  aborted: deferred<unknown>(),
  reset(): void {
    failFast.running = deferred<void>();
    failFast.aborted = deferred<unknown>();
  },
};

export const hangsOrFails = task(
  'worker-test:hangsOrFails',
  async (item: number, ctx: TaskContext) => {
    if (item === 1) {
      await failFast.running.promise;
      throw new Error('item 1 fails');
    }
    failFast.running.resolve();
    return new Promise((resolve) => {
      ctx.signal.addEventListener(
        'abort',
        () => {
          failFast.aborted.resolve(ctx.signal.reason);
          resolve('aborted');
        },
        { once: true },
      );
    });
  },
);

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
