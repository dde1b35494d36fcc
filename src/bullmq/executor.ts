/**
 * The `bullmq` executor: each attempt of a task becomes a BullMQ job on a Redis queue,
 * run by `weft worker`s on any machine; outcomes come back on a reply stream (see the
 * contract in job-wire.ts).
 *
 * This module is the thin public class: it checks options and tasks and gathers the
 * invocations of one tick. It is loaded by every entry point of the package (the
 * default executor may be `bullmq`), so BullMQ, ioredis and the session that uses them
 * (executor-session.ts) are imported only when the first invocation is sent.
 */
import { ExecutorClosedError } from '../core/errors.ts';
import { type Executor, runEach, type Settled, type TaskInvocation } from '../core/executor.ts';
import { BatchBuffer, checkRemoteTask } from '../core/remote-executor.ts';
import type { Task } from '../core/task.ts';
import type { ExecutorSession, Pending, SessionConfig } from './executor-session.ts';
import {
  type BullmqOptions,
  checkCount,
  defaultLargeValueBytes,
  resolveConnection,
  resolvePrefix,
  resolveQueue,
} from './options.ts';

/** Jobs kept by BullMQ unless `jobOptions` says otherwise (see {@link BullmqOptions.jobOptions}). */
const defaultJobOptions = {
  removeOnComplete: true,
  removeOnFail: { age: 86_400, count: 10_000 },
} as const;

/**
 * Runs tasks on `weft worker`s over BullMQ on Redis. Connects on first use: an
 * unreachable Redis fails the first tasks with a `RedisUnreachableError` within the
 * connect timeout. Close it when done (`weft run` does), so that its connections end.
 * @throws ValidationError when an option cannot be used (a Redis URL, a queue name…)
 * @example await map(pages, summarise, { executor: bullmq({ connection: 'redis://queue.internal:6379', queue: 'summaries' }) })
 */
export function bullmq(options: BullmqOptions = {}): Executor {
  return new BullmqExecutor(options);
}

/** The executor {@link bullmq} makes: invocations of a tick travel as one batch of jobs. */
class BullmqExecutor implements Executor {
  readonly name = 'bullmq';
  readonly remote = true;
  readonly reportsStart = true;
  readonly concurrency: number;
  readonly maxConcurrency = Number.POSITIVE_INFINITY;
  readonly #config: SessionConfig;
  /**
   * Everything launched in this turn of the event loop (a fan-out refilling many slots
   * from one read of replies) goes out in one batch of jobs.
   */
  readonly #buffer = new BatchBuffer<Pending>(setImmediate, (batch) => this.#flush(batch));
  #session: Promise<ExecutorSession> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: BullmqOptions) {
    checkCount('bullmq({ concurrency })', options.concurrency);
    checkCount('bullmq({ largeValueBytes })', options.largeValueBytes, 0);
    checkCount('bullmq({ reconnectTimeoutMs })', options.reconnectTimeoutMs);
    checkCount('bullmq({ connectTimeoutMs })', options.connectTimeoutMs);
    this.concurrency = options.concurrency ?? 1024;
    this.#config = {
      resolved: resolveConnection(options.connection),
      queue: resolveQueue(options.queue),
      prefix: resolvePrefix(options.prefix),
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectTimeoutMs: options.reconnectTimeoutMs ?? 30_000,
      largeValueBytes: options.largeValueBytes ?? defaultLargeValueBytes,
      jobOptions: { ...defaultJobOptions, ...options.jobOptions },
    };
  }

  check(task: Task): void {
    checkRemoteTask(task, {
      executor: this.name,
      where: 'on weft workers, in other processes and machines',
      module: 'a module that the workers also have',
      workers: 'weft workers',
      needsRef: true,
    });
  }

  run(invocation: TaskInvocation): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ExecutorClosedError(this.name));
    if (invocation.signal.aborted) return Promise.reject(invocation.signal.reason);
    if (invocation.task.ref === undefined) {
      // Fan-outs check tasks first; a direct call gets the same error.
      try {
        this.check(invocation.task);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      this.#buffer.push({ invocation, resolve, reject, settled: false });
    });
  }

  runBatch(invocations: readonly TaskInvocation[]): Promise<Settled[]> {
    return runEach(this, invocations);
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    const error = new ExecutorClosedError(this.name);
    for (const pending of this.#buffer.take()) fail(pending, error);
    const session = await this.#session?.catch(() => undefined);
    await session?.close(error);
  }

  #flush(batch: Pending[]): void {
    if (this.#closed) {
      for (const pending of batch) fail(pending, new ExecutorClosedError(this.name));
      return;
    }
    this.#open().then(
      (session) => session.submit(batch),
      (error: unknown) => {
        // The next batch tries again: Redis may be up by then.
        this.#session = undefined;
        for (const pending of batch) fail(pending, error);
      },
    );
  }

  /** The session, opened on first use (BullMQ and ioredis load then). */
  #open(): Promise<ExecutorSession> {
    this.#session ??= import('./executor-session.ts').then(({ ExecutorSession }) =>
      ExecutorSession.open(this.#config),
    );
    return this.#session;
  }
}

function fail(pending: Pending, error: unknown): void {
  if (pending.settled) return;
  pending.settled = true;
  pending.reject(error);
}
