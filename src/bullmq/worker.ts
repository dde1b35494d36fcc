/**
 * `weft worker`'s engine: a BullMQ worker that runs the jobs of a bullmq executor's
 * queue on an executor of its own (asyncPool by default; threads or processes for CPU
 * work), hears cancels on the queue's channel and writes every job's outcome to the
 * job's reply stream. See job-wire.ts for what travels, processor.ts for one job.
 */

import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { WorkerCrashedError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import { projectRoot } from '../core/registry.ts';
import type { Store } from '../core/store.ts';
import { registerTypeScript } from '../executors/register-typescript.js';
import { useTypeScriptInWorkers } from '../executors/worker-args.ts';
import { openStore } from '../stores/open.ts';
import { applies, CancelListener } from './cancel-listener.ts';
import { closeRedis, openRedis } from './connection.ts';
import { keysOf } from './job-wire.ts';
import {
  checkCount,
  defaultLargeValueBytes,
  resolveConnection,
  resolvePrefix,
  resolveQueue,
  type WorkerOptions,
} from './options.ts';
import {
  createProcessor,
  type ProcessorContext,
  type ProcessorCounts,
  writeStalledOut,
} from './processor.ts';
import type { JobRun } from './processor-run.ts';
import { TaskResolver } from './processor-tasks.ts';
import { ReplyWriter } from './reply-writer.ts';
import type { WeftBullWorker } from './worker-bullmq.ts';
import { checkExecutorName, makeExecutor } from './worker-executor.ts';

/** What a worker did so far. */
export interface WorkerStats {
  /** Jobs whose task completed, failed (its error sent back), or that are running now. */
  readonly completed: number;
  readonly failed: number;
  readonly running: number;
}

/** Options of {@link startWorker}: those of `weft worker`, and hooks for a program that embeds one. */
export interface StartWorkerOptions extends WorkerOptions {
  /**
   * Outputs whose serialized text is larger than this many bytes go through the store
   * (`store`) instead of Redis; set it as the executors adding the jobs set theirs.
   * @default 262144 (256 KiB), as bullmq()'s
   */
  readonly largeValueBytes?: number;
  /**
   * Hears what goes wrong around the jobs rather than in them: Redis out of reach, a
   * reply that could not be written. Tasks' own failures go back to their orchestrator.
   * @default ignored
   */
  readonly onProblem?: (error: Error) => void;
}

/** A running worker. */
export interface WeftWorker {
  /** The queue it serves, and where Redis is (password hidden). */
  readonly queue: string;
  readonly location: string;
  /** Jobs it runs at once. */
  readonly concurrency: number;
  /** Where its jobs' tasks run. */
  readonly executor: Executor;
  /** The store large values go through, if it has one. */
  readonly store: Store | undefined;
  /** The folder jobs' modules are imported from (undefined outside any package). */
  readonly projectRoot: string | undefined;
  readonly stats: () => WorkerStats;
  /**
   * Stops taking jobs and resolves once the jobs in flight finished and their outcomes
   * were sent. With `force`, aborts them at once instead (they run again elsewhere).
   * While Redis is out of reach it does not wait for it (see `onProblem` for what was left
   * to other workers); BullMQ's own retries may then keep the process alive, so a program
   * that stops for good exits once `closed` settles, as `weft worker` does.
   */
  close(options?: { readonly force?: boolean }): Promise<void>;
  /** Settles when the worker stopped, however it was stopped. */
  readonly closed: Promise<void>;
}

/** Starts a worker on the queue; resolves once it is connected and taking jobs. */
export async function startWorker(options: StartWorkerOptions = {}): Promise<WeftWorker> {
  checkCount('concurrency', options.concurrency);
  checkCount('workers', options.workers);
  checkCount('lockDurationMs', options.lockDurationMs);
  checkCount('stalledIntervalMs', options.stalledIntervalMs);
  checkCount('maxStalledCount', options.maxStalledCount, 0);
  checkCount('largeValueBytes', options.largeValueBytes, 0);
  if (typeof options.executor === 'string') checkExecutorName(options.executor);
  const resolved = resolveConnection(options.connection);
  const queue = resolveQueue(options.queue);
  const prefix = resolvePrefix(options.prefix);
  const onProblem = options.onProblem ?? (() => {});
  const purpose = `weft worker (queue ${queue})`;
  const timeouts = {
    purpose,
    blocking: true,
    ...(options.connectTimeoutMs === undefined
      ? {}
      : { connectTimeoutMs: options.connectTimeoutMs }),
  };

  // Undone in reverse order if starting fails half-way.
  const undo: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const step of undo.reverse()) await step().catch(() => {});
  };
  try {
    const redis = await openRedis(resolved, timeouts);
    undo.push(() => closeRedis(redis));
    redis.on('error', (error: Error) => onProblem(error));
    // Replies go on a connection of their own: a pipeline on BullMQ's, which carries its
    // scripts, costs many times more to build.
    const replies = await openRedis(resolved, { ...timeouts, purpose: `${purpose}, replies` });
    undo.push(() => closeRedis(replies));
    replies.on('error', (error: Error) => onProblem(error));
    const subscriber = await openRedis(resolved, { ...timeouts, purpose: `${purpose}, cancels` });
    const keys = keysOf(prefix, queue);
    const cancels = new CancelListener(subscriber, keys.cancel);
    undo.push(() => cancels.close());
    subscriber.on('error', (error: Error) => onProblem(error));

    let store: Store | undefined;
    let ownStore = false;
    if (typeof options.store === 'string') {
      store = await openStore(options.store);
      ownStore = true;
      undo.push(() => store!.close());
    } else {
      store = options.store;
    }

    // Jobs name modules of any kind: TypeScript ones load here and in pool workers.
    await registerTypeScript();
    useTypeScriptInWorkers();
    const made = makeExecutor(options);
    const { executor, concurrency } = made;
    if (made.own) undo.push(() => executor.close());

    const counts: ProcessorCounts = { completed: 0, failed: 0, running: 0 };
    const running = new Map<string, JobRun>();
    const writer = new ReplyWriter(replies, { onProblem });
    let stoppingNow = false;
    const context: ProcessorContext = {
      executor,
      tasks: new TaskResolver(executor),
      writer,
      cancels,
      store,
      replyPrefix: keys.replies,
      largeValueBytes: options.largeValueBytes ?? defaultLargeValueBytes,
      counts,
      running,
      stoppingNow: () => stoppingNow,
    };
    const processor = createProcessor(context);

    const { WeftBullWorker } = await import('./worker-bullmq.ts');
    const bull: WeftBullWorker = new WeftBullWorker(queue, processor, {
      connection: redis,
      prefix,
      concurrency,
      lockDuration: options.lockDurationMs ?? 5000,
      stalledInterval: options.stalledIntervalMs ?? 5000,
      maxStalledCount: options.maxStalledCount ?? 1,
      autorun: false,
    });
    undo.push(() => bull.close(true));
    bull.on('error', (error: Error) => onProblem(error));
    bull.onStalledOut((job) => writeStalledOut(context, job).catch(onProblem));
    // Cancels are heard before the first job is taken.
    await cancels.listen((jobId, reason, at) => {
      const run = running.get(jobId);
      if (run === undefined) return false;
      if (applies(at, run.addedAt)) run.abort(reason);
      return true;
    });
    await bull.waitUntilReady();
    void bull.run().catch((error: Error) => onProblem(error));

    let closing: Promise<void> | undefined;
    let settleClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      settleClosed = resolve;
    });
    const stopNow = () => {
      stoppingNow = true;
      writer.stop();
      // Left active in BullMQ: their locks lapse and another worker runs them again.
      bull.leaveJobs();
      const reason = new WorkerCrashedError(
        `The weft worker on queue ${queue} stopped at once; the job runs again on another worker.`,
      );
      for (const run of running.values()) run.abort(reason, 0);
    };
    const shutdown = async (force: boolean) => {
      if (force) stopNow();
      const bullClosed = bull.close(force).then(
        () => true,
        (error: Error) => {
          onProblem(error);
          return true;
        },
      );
      const drainStuck = force ? undefined : watchDrain(redis, counts);
      const drained = drainStuck
        ? await Promise.race([bullClosed, drainStuck.stuck.then(() => false)])
        : await bullClosed;
      drainStuck?.cancel();
      if (!drained) {
        // BullMQ's close waits for Redis without end: the jobs still in flight (none, or
        // unreachable) are left to other workers, and the connections are dropped.
        const left = counts.running;
        const down = redis.status !== 'ready';
        stopNow();
        bull.abandon();
        void bull.disconnect().catch(() => {});
        for (const connection of [redis, replies, subscriber]) connection.disconnect();
        onProblem(
          new Error(
            `${down ? `Redis at ${resolved.location} is out of reach` : 'BullMQ did not finish closing'}: ` +
              `stopped without waiting for it; ${left} ${left === 1 ? 'job' : 'jobs'} in flight left ` +
              'to other workers (they run again there once their locks lapse).',
          ),
        );
        await Promise.race([bullClosed, delay(giveUpWaitMs)]);
      }
      await writer.flush();
      await cancels.close().catch(() => {});
      if (made.own) await executor.close().catch((error: Error) => onProblem(error));
      if (ownStore) await store?.close().catch((error: Error) => onProblem(error));
      await closeRedis(replies);
      await closeRedis(redis);
      settleClosed();
    };
    const close = (closeOptions: { readonly force?: boolean } = {}) => {
      const force = closeOptions.force === true;
      // Asked again with force while draining: the jobs in flight are given up.
      if (closing && force && !stoppingNow) stopNow();
      closing ??= shutdown(force);
      return closing;
    };
    const { signal } = options;
    if (signal) {
      if (signal.aborted) void close();
      else signal.addEventListener('abort', () => void close(), { once: true });
    }
    return {
      queue,
      location: resolved.location,
      concurrency,
      executor,
      store,
      projectRoot: projectRoot(),
      stats: () => ({ ...counts }),
      close,
      closed,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/**
 * How long a drain goes on once no job runs, or while Redis is out of reach, before the
 * worker stops without waiting for BullMQ any longer.
 */
const drainGraceMs = 3000;
const drainCheckMs = 100;
/** After giving up on a drain, how long BullMQ is given to wind down on dropped connections. */
const giveUpWaitMs = 500;

/**
 * Settles `stuck` when a drain should end without BullMQ: no job runs and Redis is out of
 * reach (nothing to wait for, and BullMQ's close would wait for Redis), or no job has run
 * for {@link drainGraceMs}, or Redis has been out of reach that long with jobs in flight
 * (their locks lapse and their outcomes cannot be written).
 */
function watchDrain(
  redis: Redis,
  counts: ProcessorCounts,
): { stuck: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<void>((resolve) => {
    let waitingSince: number | undefined;
    const check = () => {
      const down = redis.status !== 'ready';
      const idle = counts.running === 0;
      if (!(idle || down)) {
        waitingSince = undefined;
        return;
      }
      const now = performance.now();
      waitingSince ??= now;
      if ((idle && down) || now - waitingSince >= drainGraceMs) {
        clearInterval(timer);
        resolve();
      }
    };
    timer = setInterval(check, drainCheckMs);
    check();
  });
  return { stuck, cancel: () => clearInterval(timer) };
}
