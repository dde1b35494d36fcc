/**
 * Stopping chunks that run synchronous operators on worker threads. A worker busy in a
 * synchronous loop never reads the abort message its pool posts, so a cancelled apply, a
 * failed operator or a timed-out attempt would leave it working to the end. Instead each
 * chunk sent to threads carries a stop flag in shared memory, one slot per attempt: the
 * executor that hands its attempts over sets the attempt's slot when the attempt's signal
 * aborts (which the apply's signal aborts too), and the chunk runner reads it between
 * examples. Executors that share no memory (processes) get no flag: the runner yields to
 * their event loop now and then instead, so their abort message is delivered.
 */
import { type Executor, isThenable, type Settled, type TaskInvocation } from '../core/executor.ts';
import type { Task } from '../core/task.ts';

/** A flag for a chunk of `attempts` attempts at most, in shared memory; 0 in every slot. */
export function stopFlag(attempts: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * Math.max(1, attempts)));
}

/** True once attempt `attempt` (1 for the first) of the flag's chunk was told to stop. */
export function isStopped(flag: Int32Array, attempt: number): boolean {
  return Atomics.load(flag, slotOf(flag, attempt)) !== 0;
}

/**
 * Hands invocations to `inner` and sets each one's stop flag (an Int32Array at its
 * input's `stop`, see {@link stopFlag}) when its signal aborts.
 */
export class StopFlagExecutor implements Executor {
  readonly inner: Executor;
  readonly name: string;
  readonly remote: boolean;
  readonly concurrency: number;
  readonly maxConcurrency: number;
  readonly workers: number | undefined;
  readonly sharesMemory: boolean | undefined;
  readonly reportsStart: boolean | undefined;

  constructor(inner: Executor) {
    this.inner = inner;
    this.name = inner.name;
    this.remote = inner.remote;
    this.concurrency = inner.concurrency;
    this.maxConcurrency = inner.maxConcurrency;
    this.workers = inner.workers;
    this.sharesMemory = inner.sharesMemory;
    this.reportsStart = inner.reportsStart;
  }

  check(task: Task): void {
    this.inner.check(task);
  }

  run(invocation: TaskInvocation): unknown {
    const release = watch(invocation);
    let output: unknown;
    try {
      output = this.inner.run(invocation);
    } catch (error) {
      release();
      throw error;
    }
    if (!isThenable(output)) {
      release();
      return output;
    }
    return Promise.resolve(output).finally(release);
  }

  runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    const releases = invocations.map(watch);
    return this.inner.runBatch(invocations).finally(() => {
      for (const release of releases) release();
    });
  }

  /** Closes nothing: the executor it wraps is the apply's caller's. */
  async close(): Promise<void> {}
}

/** Sets the invocation's stop flag once its signal aborts; returns what stops watching. */
function watch(invocation: TaskInvocation): () => void {
  const flag = (invocation.input as { stop?: unknown } | null)?.stop;
  if (!(flag instanceof Int32Array)) return () => {};
  const slot = slotOf(flag, invocation.attempt);
  const { signal } = invocation;
  const stop = () => Atomics.store(flag, slot, 1);
  if (signal.aborted) {
    stop();
    return () => {};
  }
  signal.addEventListener('abort', stop, { once: true });
  return () => signal.removeEventListener('abort', stop);
}

function slotOf(flag: Int32Array, attempt: number): number {
  return Math.min(Math.max(1, attempt), flag.length) - 1;
}
