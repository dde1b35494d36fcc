/**
 * "Loops here, leaves there": front ends that orchestrate (an application's parallel
 * step running sub-applications, a flow layer running its tasks) keep their loops in this
 * thread, where persisters, trackers and artifact stores live, and send only their leaf
 * functions to an executor that runs tasks elsewhere. {@link splitExecutor} makes that
 * choice once, by what the executor is, for every front end.
 */
import { ExecutorClosedError } from './errors.ts';
import {
  type Executor,
  isThenable,
  runEach,
  type Settled,
  type TaskInvocation,
} from './executor.ts';
import { unwrapTransfer } from './transfer.ts';

/** An executor split into where the loops run and where the leaves run. */
export interface ExecutorSplit {
  /** Runs the orchestrating tasks: the executor itself, or loops in this thread. */
  readonly loops: Executor;
  /**
   * Runs the leaves: the executor when it runs tasks elsewhere (threads, processes,
   * remote workers), else undefined: the leaves then run inside their loops.
   */
  readonly leaves: Executor | undefined;
  /** Releases what the split made (never the executor it was given). */
  close(): Promise<void>;
}

/** Options of {@link splitExecutor}. */
export interface SplitOptions {
  /**
   * True when the loops must have slots of their own, apart from the executor's: loops
   * nested in a task of another loop on the same executor (a sub-application's parallel
   * step), or loops whose own tasks run on that executor (a flow's layers, whose ForEach
   * tasks must never wait for slots the layers hold).
   * @default false
   */
  readonly nested?: boolean;
}

/**
 * Splits `executor` for a front end that orchestrates: on an executor that runs tasks
 * elsewhere, loops run in this thread and leaves on the executor; on an in-process one,
 * both run on the executor (unless nested).
 * @example
 * const { loops, leaves, close } = splitExecutor(executor);
 * try { await map(items, orchestrate, { executor: loops, concurrency }); } finally { await close(); }
 */
export function splitExecutor(executor: Executor, options: SplitOptions = {}): ExecutorSplit {
  const leaves = executor.remote ? executor : undefined;
  if (!executor.remote && options.nested !== true) {
    return { loops: executor, leaves, close: async () => {} };
  }
  const loops = new LoopExecutor(executor.concurrency);
  return { loops, leaves, close: () => loops.close() };
}

/**
 * Runs orchestrating tasks in this thread, as many at once as the fan-out using it
 * allows: a fan-out bounds its own concurrency, so these loops need no queue of their own.
 */
class LoopExecutor implements Executor {
  readonly name = 'loops';
  readonly remote = false;
  readonly reportsStart = true;
  readonly maxConcurrency = Number.POSITIVE_INFINITY;
  readonly concurrency: number;
  #closed = false;

  constructor(concurrency: number) {
    this.concurrency = concurrency;
  }

  check(): void {}

  run(invocation: TaskInvocation): unknown {
    if (this.#closed) throw new ExecutorClosedError(this.name);
    invocation.started();
    // As the in-process pool does: a transfer() marks a move between threads, a no-op here.
    const output = invocation.task.fn(unwrapTransfer(invocation.input), invocation);
    return isThenable(output)
      ? Promise.resolve(output).then(unwrapTransfer)
      : unwrapTransfer(output);
  }

  runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    return runEach(this, invocations);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
