/**
 * Executors that run tasks in this thread: `inline` (one after another, like
 * BatchFlow's `for`) and `asyncPool` (many at once on the event loop, like BatchFlow's
 * `async`; the default). Synchronous outputs come back synchronously, so the engine can
 * run tiny tasks without allocating a promise per task.
 */
import { ExecutorClosedError, ValidationError } from '../core/errors.ts';
import {
  type Executor,
  isThenable,
  runEach,
  type Settled,
  type TaskInvocation,
} from '../core/executor.ts';
import { Fifo } from '../core/queue.ts';
import { unwrapTransfer } from '../core/transfer.ts';

/** A task waiting for a slot, and how to settle what `run` returned for it. */
interface Waiter {
  readonly invocation: TaskInvocation;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Options of {@link asyncPool}. */
export interface AsyncPoolOptions {
  /**
   * Most tasks running at once on this pool, across every fan-out that uses it.
   * @default 64
   */
  readonly concurrency?: number;
}

/**
 * Runs up to `concurrency` tasks at once on this thread's event loop, shared by every
 * fan-out that uses it. {@link InlineExecutor} is the same pool with one slot.
 */
export class AsyncPoolExecutor implements Executor {
  readonly name: string = 'asyncPool';
  readonly remote = false;
  readonly reportsStart = true;
  readonly concurrency: number;
  /** A fan-out may keep as many tasks in flight as it likes: the pool queues those beyond its slots. */
  readonly maxConcurrency: number = Number.POSITIVE_INFINITY;
  #active = 0;
  /** Tasks waiting for a slot, oldest first (a map at concurrency Infinity queues every item). */
  readonly #waiting = new Fifo<Waiter>();
  #wakeScheduled = false;
  #closed = false;

  constructor(options: AsyncPoolOptions = {}) {
    const { concurrency = 64 } = options;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new ValidationError(
        `asyncPool: concurrency must be a whole number ≥ 1, got ${concurrency}.`,
      );
    }
    this.concurrency = concurrency;
  }

  check(): void {}

  run(invocation: TaskInvocation): unknown {
    if (this.#closed) throw new ExecutorClosedError(this.name);
    if (this.#active < this.concurrency && this.#waiting.length === 0) {
      return this.#start(invocation);
    }
    // Full: wait for a slot, started by #scheduleWake. One promise per waiting task, as a
    // fan-out at concurrency Infinity queues every item here at once.
    return new Promise((resolve, reject) => {
      this.#waiting.push({ invocation, resolve, reject });
    });
  }

  runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    return runEach(this, invocations);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const error = new ExecutorClosedError(this.name);
    for (let waiter = this.#waiting.shift(); waiter; waiter = this.#waiting.shift()) {
      waiter.reject(error);
    }
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
      return unwrapTransfer(result);
    }
    if (invocation.task.options.timeoutMs === undefined) {
      return result.then(
        (value) => {
          this.#release();
          return unwrapTransfer(value);
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
        return unwrapTransfer(value);
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
      while (this.#active < this.concurrency && this.#waiting.length > 0) {
        const { invocation, resolve, reject } = this.#waiting.shift()!;
        // Its fan-out stopped while it waited: it does not start.
        if (invocation.signal.aborted) {
          reject(invocation.signal.reason);
          continue;
        }
        try {
          resolve(this.#start(invocation));
        } catch (error) {
          reject(error);
        }
      }
    });
  }
}

/**
 * The async pool with one slot. It also keeps each fan-out to one task in flight, so a
 * fan-out that asks for more still takes its items one after another instead of queueing
 * them in the pool.
 */
export class InlineExecutor extends AsyncPoolExecutor {
  override readonly name = 'inline';
  override readonly maxConcurrency = 1;

  constructor() {
    super({ concurrency: 1 });
  }
}

/**
 * Runs tasks one after another in this thread (BatchFlow's `for`), also across fan-outs
 * sharing it. Handy for debugging: stack traces are plain and breakpoints work.
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
