/**
 * Executors that run tasks in this thread: `inline` (one after another, like
 * BatchFlow's `for`) and `asyncPool` (many at once on the event loop, like BatchFlow's
 * `async`; the default). Synchronous outputs come back synchronously, so the engine can
 * run tiny tasks without allocating a promise per task.
 */
import { ValidationError } from '../core/errors.ts';
import { type Executor, isThenable, type Settled, type TaskInvocation } from '../core/executor.ts';
import { unwrapTransfer } from '../core/transfer.ts';

/** Options of {@link asyncPool}. */
export interface AsyncPoolOptions {
  /**
   * Most tasks running at once on this pool, across every fan-out that uses it.
   * @default 64
   */
  readonly concurrency?: number;
}

abstract class InProcessExecutor implements Executor {
  abstract readonly name: string;
  readonly remote = false;
  abstract readonly concurrency: number;
  abstract readonly maxConcurrency: number;
  readonly reportsStart = true;

  check(): void {}

  abstract run(invocation: TaskInvocation): unknown;

  runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    return Promise.all(
      invocations.map(async (invocation): Promise<Settled> => {
        try {
          return { ok: true, value: await this.run(invocation) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  #closed = false;

  /** Refuses work once closed, like every executor. */
  protected assertOpen(): void {
    if (this.#closed) throw new ValidationError(`This ${this.name} executor is closed.`);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** Runs tasks one after another in this thread. */
export class InlineExecutor extends InProcessExecutor {
  readonly name = 'inline';
  readonly concurrency = 1;
  readonly maxConcurrency = 1;

  run(invocation: TaskInvocation): unknown {
    this.assertOpen();
    invocation.started();
    return invocation.task.fn(unwrapTransfer(invocation.input), invocation);
  }
}

/** Runs up to `concurrency` tasks at once on this thread's event loop. */
export class AsyncPoolExecutor extends InProcessExecutor {
  readonly name = 'asyncPool';
  readonly concurrency: number;
  readonly maxConcurrency = Number.POSITIVE_INFINITY;
  #active = 0;
  /** Slots promised to woken waiters that have not started yet. */
  #reserved = 0;
  readonly #waiting: (() => void)[] = [];
  #wakeScheduled = false;

  constructor(options: AsyncPoolOptions = {}) {
    super();
    const { concurrency = 64 } = options;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new ValidationError(
        `asyncPool: concurrency must be a whole number ≥ 1, got ${concurrency}.`,
      );
    }
    this.concurrency = concurrency;
  }

  run(invocation: TaskInvocation): unknown {
    this.assertOpen();
    if (this.#active + this.#reserved < this.concurrency && this.#waiting.length === 0) {
      return this.#start(invocation);
    }
    // Full: wait for a slot, shared with every other fan-out on this pool.
    return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(() => {
      this.#reserved--;
      if (invocation.signal.aborted) {
        this.#scheduleWake();
        throw invocation.signal.reason;
      }
      return this.#start(invocation);
    });
  }

  #start(invocation: TaskInvocation): unknown {
    this.#active++;
    invocation.started();
    let result: unknown;
    try {
      result = invocation.task.fn(unwrapTransfer(invocation.input), invocation);
    } catch (error) {
      this.#release();
      throw error;
    }
    if (!isThenable(result)) {
      this.#release();
      return result;
    }
    if (invocation.task.options.timeoutMs === undefined) {
      return result.then(
        (value) => {
          this.#release();
          return value;
        },
        (error: unknown) => {
          this.#release();
          throw error;
        },
      );
    }
    // A timed task's slot is free once it settles or once weft stops waiting for it (its
    // signal aborted by the timeout), whichever comes first: a task that ignores its
    // signal must not hold the pool for good.
    let released = false;
    const signal = invocation.signal;
    const releaseOnce = () => {
      if (released) return;
      released = true;
      signal.removeEventListener('abort', releaseOnce);
      this.#release();
    };
    signal.addEventListener('abort', releaseOnce, { once: true });
    return result.then(
      (value) => {
        releaseOnce();
        return value;
      },
      (error: unknown) => {
        releaseOnce();
        throw error;
      },
    );
  }

  #release(): void {
    this.#active--;
    this.#scheduleWake();
  }

  #scheduleWake(): void {
    if (this.#waiting.length === 0 || this.#wakeScheduled) return;
    // Wake waiters only after this turn's callbacks ran: a fan-out that is failing fast
    // has then aborted its signal, and its queued tasks do not start.
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      while (this.#active + this.#reserved < this.concurrency && this.#waiting.length > 0) {
        this.#reserved++;
        this.#waiting.shift()!();
      }
    });
  }
}

/**
 * Runs tasks one after another in this thread (BatchFlow's `for`). Handy for debugging:
 * stack traces are plain and breakpoints work.
 */
export function inline(): Executor {
  return new InlineExecutor();
}

/**
 * Runs tasks concurrently on this thread's event loop: the right choice for I/O such as
 * model calls and HTTP requests. The default executor.
 * @example map(prompts, askModel, { executor: asyncPool({ concurrency: 8 }) })
 */
export function asyncPool(options: AsyncPoolOptions = {}): Executor {
  return new AsyncPoolExecutor(options);
}
