/**
 * Tasks of the bullmq executor's tests, run by a weft worker in the test's process: it
 * imports this module (already loaded) and finds them by name. They keep what a test
 * checks in this module's memory (how often each ran), which the worker shares.
 */
import { createHash } from 'node:crypto';
import { type TaskContext, task } from 'weftjs';

/** Executions per key, of the tasks that count them. */
export const executions = new Map<string, number>();

function count(key: string): void {
  executions.set(key, (executions.get(key) ?? 0) + 1);
}

/** Returns its input, counting its executions. */
export const echo = task('executor-test:echo', (value: unknown, ctx: TaskContext) => {
  count(ctx.key);
  return value;
});

/** Returns the key it was given, as the task saw it. */
export const keyOf = task('executor-test:keyOf', (_: unknown, ctx: TaskContext) => {
  count(ctx.key);
  return ctx.key;
});

/** Fails the first time it runs for a key, returns its input after that. */
export const failFirst = task('executor-test:failFirst', (value: unknown, ctx: TaskContext) => {
  count(ctx.key);
  if (executions.get(ctx.key) === 1) throw new Error(`first run of ${ctx.key} fails`);
  return value;
});

/** The length and digest of a string: that a large input arrived whole. */
export const digestOf = task('executor-test:digestOf', (text: string) => ({
  length: text.length,
  sha256: createHash('sha256').update(text).digest('hex'),
}));

/** A string of `length` copies of `char`: a large output. */
export const repeat = task(
  'executor-test:repeat',
  ({ char, length }: { char: string; length: number }) => char.repeat(length),
);

/** What {@link failWith} throws. */
export interface ErrorSpec {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly cause: { readonly name: string; readonly code: string; readonly message: string };
}

class SpecError extends Error {
  code: string;
  constructor(spec: Omit<ErrorSpec, 'cause'>, cause?: unknown) {
    super(spec.message, cause === undefined ? undefined : { cause });
    this.name = spec.name;
    this.code = spec.code;
  }
}

/** Throws an error of the given name, code and message, caused by another. */
export const failWith = task('executor-test:failWith', (spec: ErrorSpec): never => {
  throw new SpecError(spec, new SpecError(spec.cause));
});

/**
 * Reports 'started', then waits for its signal: reports 'aborted' and resolves when it
 * aborts. Never settles otherwise.
 */
export const untilAborted = task('executor-test:untilAborted', (id: number, ctx: TaskContext) => {
  ctx.progress({ done: 0, message: 'started' });
  return new Promise<string>((resolve) => {
    const onAbort = () => {
      ctx.progress({ done: 1, message: 'aborted' });
      resolve(`${id} aborted`);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
});

/**
 * The first time it runs for a key: reports 'started' and waits for its signal (resolves
 * when it aborts). After that: returns its input at once. Counts its executions.
 */
export const haltFirst = task('executor-test:haltFirst', (value: unknown, ctx: TaskContext) => {
  count(ctx.key);
  if (executions.get(ctx.key)! > 1) return value;
  ctx.progress({ done: 0, message: 'started' });
  return new Promise<unknown>((resolve) => {
    if (ctx.signal.aborted) resolve('aborted');
    else ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
});

/** What {@link viewsOf} saw of two views given to it. */
export interface ViewsReport {
  readonly values: readonly number[];
  readonly bytes: readonly number[];
  readonly sameBuffer: boolean;
  readonly shared: boolean;
}

/** Reports two views it is given: their contents, and whether they share a buffer. */
export const viewsOf = task(
  'executor-test:viewsOf',
  ({ floats, bytes }: { floats: Float64Array; bytes: Uint8Array }): ViewsReport => ({
    values: [...floats],
    bytes: [...bytes],
    sameBuffer: floats.buffer === bytes.buffer,
    shared: floats.buffer instanceof SharedArrayBuffer,
  }),
);

/** How {@link windDown} and {@link windDownTimed} behave. */
export interface WindDownInput {
  /** How long it runs when not aborted. */
  readonly ms: number;
  /**
   * How long it keeps its process's event loop busy once aborted, at once: before its
   * worker could reply the failure.
   */
  readonly busyMs: number;
}

async function windDownRun(input: WindDownInput, ctx: TaskContext): Promise<string> {
  count(ctx.key);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, input.ms);
    ctx.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        const end = Date.now() + input.busyMs;
        while (Date.now() < end) {}
        reject(ctx.signal.reason);
      },
      { once: true },
    );
  });
  return 'wound down';
}

/**
 * Waits `ms`; aborted, keeps the event loop of its process busy for a while, so that
 * BullMQ still holds its job as active then. For a worker in a process of its own.
 */
export const windDown = task('executor-test:windDown', windDownRun);

/** {@link windDown} with a 300 ms timeout, which its worker enforces. */
export const windDownTimed = task('executor-test:windDownTimed', windDownRun, {
  timeoutMs: 300,
});
