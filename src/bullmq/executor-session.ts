/**
 * The bullmq executor's link to Redis, made when its first invocations are sent: a
 * command connection (BullMQ's queue, cancels, trims), a blocking one reading the reply
 * streams, and every invocation awaited, by job id, until its outcome comes back.
 *
 * Redis out of reach while jobs are awaited: ioredis reconnects by itself; once it is
 * back, the jobs still awaited are added again under the same ids (BullMQ ignores ids it
 * holds, and runs again those a Redis restarted without data lost). Out of reach longer
 * than `reconnectTimeoutMs`, every awaited invocation fails with a RedisUnreachableError
 * (executor-link.ts watches the connections).
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskInvocation } from '../core/executor.ts';
import type { Store } from '../core/store.ts';
import type { Progress } from '../core/task.ts';
import {
  closeRedis,
  defaultConnectTimeoutMs,
  isConnectionError,
  openRedis,
  within,
} from './connection.ts';
import { RedisUnreachableError } from './errors.ts';
import { Canceller } from './executor-cancel.ts';
import { LinkWatch } from './executor-link.ts';
import {
  decodeValue,
  keysOf,
  newExecutorId,
  type Outcome,
  outcomeError,
  type Reply,
} from './job-wire.ts';
import type { ResolvedConnection } from './options.ts';
import { KeptOutcomes, type OkOutcome, SpentJobIds } from './replies-kept.ts';
import { RepliesReader, type ReplyStream } from './replies-reader.ts';
import { BatchSubmitter, type SubmitHost } from './submit-batch.ts';
import type { BulkJob } from './submit-jobs.ts';

/** What the executor resolved of its options. */
export interface SessionConfig {
  readonly resolved: ResolvedConnection;
  readonly queue: string;
  readonly prefix: string;
  readonly connectTimeoutMs: number | undefined;
  readonly reconnectTimeoutMs: number;
  readonly largeValueBytes: number;
  /** BullMQ options of every job, weft's defaults included. */
  readonly jobOptions: Omit<JobsOptions, 'jobId' | 'attempts' | 'backoff' | 'repeat'>;
}

/** One invocation handed to the executor, until its outcome came back. */
export interface Pending {
  readonly invocation: TaskInvocation;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The caller has its answer (the outcome, or an abort that stopped the wait). */
  settled: boolean;
  /** Set once its job is known. */
  jobId?: string;
  job?: BulkJob;
  stream?: ReplyStream;
  /** The run store its values go through, if it belongs to a run. */
  store?: Store | undefined;
  /** Its add, while in flight. */
  adding?: Promise<unknown> | undefined;
  /** Counted among the session's unsettled invocations (it was registered). */
  counted?: boolean;
  /** The abort listener it shares with the rest of its batch on its signal. */
  aborts?: AbortGroup | undefined;
}

/** One abort listener for the invocations of one batch sharing a signal. */
interface AbortGroup {
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
  /** Invocations of the group not settled yet: at 0, the listener goes. */
  left: number;
}

/** Invocations that failed or were aborted lately, whose task may still report how it wound down. */
const maxWindingDown = 1024;
/** After a reconnection: how long replies that came meanwhile may take to be read before jobs are added again. */
const catchUpMs = 2_000;

/** The executor's connections to Redis and the invocations it awaits. */
export class ExecutorSession {
  readonly #config: SessionConfig;
  readonly #redis: Redis;
  readonly #blocking: Redis;
  readonly #queue: Queue;
  readonly #reader: RepliesReader;
  readonly #canceller: Canceller;
  readonly #executorId: string;
  /** Awaited invocations by job id; settled ones stay until their outcome, for late progress. */
  readonly #pending = new Map<string, Pending>();
  readonly #kept = new KeptOutcomes();
  /** Run job ids that failed or were cancelled: not re-attached to (see SpentJobIds). */
  readonly #spent = new SpentJobIds();
  readonly #link: LinkWatch;
  readonly #submitter: BatchSubmitter;
  /**
   * Invocations that failed or were aborted, by job id, for progress their task reports
   * after its outcome: a worker replies at its timeout (or cancel) without waiting for a
   * task that ignores its signal, and the task may report on its way out later.
   */
  readonly #windingDown = new Map<string, TaskInvocation>();
  /** Batches being turned into jobs. */
  #submitting = 0;
  /** Awaited invocations not settled yet: while there are, the process stays alive. */
  #unsettled = 0;
  #closing = false;

  private constructor(config: SessionConfig, redis: Redis, blocking: Redis, queue: Queue) {
    this.#config = config;
    this.#redis = redis;
    this.#blocking = blocking;
    this.#queue = queue;
    this.#executorId = newExecutorId();
    const keys = keysOf(config.prefix, config.queue);
    this.#reader = new RepliesReader(
      blocking,
      redis,
      keys.ownReplies(this.#executorId),
      (stream, reply) => this.#onReply(stream, reply),
    );
    this.#canceller = new Canceller(redis, queue, keys.cancel, (jobId) => this.#forget(jobId));
    this.#link = new LinkWatch(redis, blocking, config.reconnectTimeoutMs, {
      regained: () => this.#regained(),
      givenUp: () => this.#givenUp(),
    });
    this.#submitter = new BatchSubmitter(this.#submitHost());
  }

  /** What the submitter (submit-batch.ts) uses of this session. */
  #submitHost(): SubmitHost {
    const closing = () => this.#closing;
    return {
      config: this.#config,
      redis: this.#redis,
      queue: this.#queue,
      reader: this.#reader,
      link: this.#link,
      kept: this.#kept,
      spent: this.#spent,
      executorId: this.#executorId,
      get closing() {
        return closing();
      },
      awaits: (jobId) => this.#pending.has(jobId),
      isAwaited: (pending) => this.#pending.get(pending.jobId!) === pending,
      settle: (pending, ok, result) => this.#settle(pending, ok, result),
      settleFrom: (pending, outcome) => this.#settleFrom(pending, outcome),
      register: (pending) => this.#await(pending),
      finish: (pending) => this.#finish(pending),
      listenForAborts: (pendings) => this.#listenForAborts(pendings),
      unreachable: (count, cause) => this.#unreachable(count, cause),
    };
  }

  /**
   * Connects to Redis and opens the queue.
   * @throws RedisUnreachableError when Redis does not answer within the connect timeout
   */
  static async open(config: SessionConfig): Promise<ExecutorSession> {
    const purpose = `the bullmq executor (queue '${config.queue}')`;
    const connections = await Promise.allSettled([
      openRedis(config.resolved, { purpose, connectTimeoutMs: config.connectTimeoutMs }),
      openRedis(config.resolved, {
        purpose,
        connectTimeoutMs: config.connectTimeoutMs,
        blocking: true,
      }),
    ]);
    const [command, blocking] = connections;
    if (command.status === 'rejected' || blocking.status === 'rejected') {
      for (const opened of connections)
        if (opened.status === 'fulfilled') opened.value.disconnect();
      throw command.status === 'rejected'
        ? command.reason
        : (blocking as PromiseRejectedResult).reason;
    }
    const { Queue } = await import('bullmq');
    const queue = new Queue(config.queue, { connection: command.value, prefix: config.prefix });
    // Errors are seen where the commands fail; without a listener BullMQ prints them.
    queue.on('error', () => {});
    try {
      await queue.waitUntilReady();
    } catch (error) {
      command.value.disconnect();
      blocking.value.disconnect();
      throw error;
    }
    return new ExecutorSession(config, command.value, blocking.value, queue);
  }

  /** Turns a batch of invocations into jobs and adds them; settles each pending in the end. */
  submit(batch: readonly Pending[]): void {
    this.#submitting++;
    this.#hold();
    this.#submitter
      .submit(batch)
      .catch((failure: unknown) => {
        const error = isConnectionError(failure)
          ? this.#unreachable(batch.length, failure)
          : failure;
        for (const pending of batch) {
          this.#submitter.release(pending);
          if (pending.jobId !== undefined) this.#finish(pending);
          this.#settle(pending, false, error);
        }
      })
      .finally(() => {
        this.#submitting--;
        this.#hold();
      });
  }

  /** Registers `pending` as awaiting its job's replies. */
  #await(pending: Pending): void {
    this.#pending.set(pending.jobId!, pending);
    this.#reader.follow(pending.stream!);
    this.#unsettled++;
    pending.counted = true;
  }

  /** Stops waiting for invocations whose signal aborts, and cancels their jobs. */
  #listenForAborts(pendings: readonly Pending[]): void {
    const bySignal = new Map<AbortSignal, Pending[]>();
    for (const pending of pendings) {
      const { signal } = pending.invocation;
      const group = bySignal.get(signal);
      if (group) group.push(pending);
      else bySignal.set(signal, [pending]);
    }
    for (const [signal, group] of bySignal) {
      // One listener per signal and batch, dropped once the whole group has its answer.
      const aborts: AbortGroup = {
        signal,
        onAbort: () => {
          for (const pending of group) {
            if (pending.settled || this.#pending.get(pending.jobId!) !== pending) continue;
            this.#cancel(pending, signal.reason);
            this.#settle(pending, false, signal.reason);
          }
        },
        left: group.length,
      };
      signal.addEventListener('abort', aborts.onAbort, { once: true });
      for (const pending of group) pending.aborts = aborts;
    }
  }

  /** Cancels the job of `pending`, marking it on its run's stream (see SpentJobIds). */
  #cancel(pending: Pending, reason: unknown): void {
    const { stream } = pending;
    this.#canceller.cancel(
      pending.jobId!,
      reason,
      pending.adding,
      stream?.run === true ? stream.key : undefined,
    );
  }

  #onReply(stream: ReplyStream, reply: Reply): void {
    const pending = this.#pending.get(reply.job);
    switch (reply.type) {
      case 'cancelled':
        if (stream.run) this.#spent.add(reply.job);
        return;
      case 'started':
        if (pending && !pending.settled) pending.invocation.started();
        return;
      case 'progress':
        // Also after the caller stopped waiting: a task reporting how it wound down.
        (pending?.invocation ?? this.#windingDown.get(reply.job))?.progress(
          reply.value as Progress,
        );
        return;
      case 'outcome':
        if (stream.run && reply.ok !== true) this.#spent.add(reply.job);
        if (!pending) {
          // A resumed run adding this job will take its outcome instead; failures run again.
          if (stream.run && reply.ok === true) this.#kept.keep(reply as OkOutcome);
          return;
        }
        // Progress replies before it on the same stream were handed on; later ones (a
        // task winding down after its timeout or cancel) still reach the invocation.
        this.#finish(pending);
        if (!reply.ok || pending.settled) this.#windDown(reply.job, pending.invocation);
        this.#settleFrom(pending, reply);
        return;
    }
  }

  /** Answers the caller, once. */
  #settle(pending: Pending, ok: boolean, result: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    const { aborts } = pending;
    if (aborts && --aborts.left === 0) {
      aborts.signal.removeEventListener('abort', aborts.onAbort);
    }
    if (pending.counted && --this.#unsettled === 0) this.#hold();
    if (ok) pending.resolve(result);
    else pending.reject(result);
  }

  #windDown(jobId: string, invocation: TaskInvocation): void {
    this.#windingDown.set(jobId, invocation);
    if (this.#windingDown.size > maxWindingDown) {
      this.#windingDown.delete(this.#windingDown.keys().next().value!);
    }
  }

  #settleFrom(pending: Pending, outcome: Outcome): void {
    if (pending.settled) return;
    try {
      if (typeof outcome.startedAt === 'number' && outcome.startedAt >= 0) {
        pending.invocation.ran?.(outcome.startedAt, outcome.durationMs);
      }
      if (outcome.ok === false && isObject(outcome.error)) {
        this.#settle(pending, false, outcomeError(outcome));
        return;
      }
      if (outcome.ok === true && isObject(outcome.value)) {
        decodeValue(outcome.value, pending.store).then(
          (value) => this.#settle(pending, true, value),
          (error: unknown) => this.#settle(pending, false, error),
        );
        return;
      }
    } catch (error) {
      this.#settle(pending, false, error);
      return;
    }
    const { task, key } = pending.invocation;
    this.#settle(
      pending,
      false,
      new TypeError(
        `The reply to task '${task.name}' (${key}) holds no value nor error: is something other ` +
          `than weft workers writing to queue '${this.#config.queue}'s reply streams?`,
      ),
    );
  }

  /** No reply will come (or matter) for `pending` any more. */
  #finish(pending: Pending): void {
    if (this.#pending.get(pending.jobId!) !== pending) return;
    this.#pending.delete(pending.jobId!);
    this.#reader.unfollow(pending.stream!);
    pending.job = undefined;
  }

  /** A job removed before it ran: drop its entry. */
  #forget(jobId: string): void {
    const pending = this.#pending.get(jobId);
    if (pending?.settled) this.#finish(pending);
  }

  /** Keeps the process alive while work is awaited (see LinkWatch.hold). */
  #hold(): void {
    this.#link.hold(this.#submitting > 0 || this.#unsettled > 0);
  }

  /** Out of reach too long: every awaited invocation fails (a resumed run picks them up). */
  #givenUp(): void {
    const awaited = [...this.#pending.values()].filter((pending) => !pending.settled);
    if (awaited.length === 0) return;
    const error = this.#unreachable(awaited.length);
    for (const pending of awaited) {
      this.#finish(pending);
      this.#settle(pending, false, error);
    }
  }

  /** Back: the jobs still awaited are added again (BullMQ ignores those it holds). */
  #regained(): void {
    if (this.#closing) return;
    // Replies that came meanwhile first: a job that finished is not added again.
    this.#reader
      .caughtUp(catchUpMs)
      .catch(() => {})
      .then(() => {
        if (this.#link.lost || this.#closing) return;
        const awaited = [...this.#pending.values()].filter(
          (pending) => !pending.settled && pending.job !== undefined,
        );
        if (awaited.length > 0) this.#submitter.add(awaited);
      });
  }

  /** @param cause the command's own error, when one failed */
  #unreachable(count: number, cause?: unknown): RedisUnreachableError {
    const { location } = this.#config.resolved;
    const tasks = count === 1 ? '1 task' : `${count} tasks`;
    return new RedisUnreachableError(
      location,
      `Redis at ${location} was out of reach for more than ${this.#config.reconnectTimeoutMs} ms ` +
        `while the bullmq executor awaited ${tasks} (queue '${this.#config.queue}'). ` +
        'Resume the run once Redis is back (weft resume), or raise bullmq({ reconnectTimeoutMs }).',
      cause === undefined ? undefined : { cause },
    );
  }

  /**
   * Fails every awaited invocation with `error`, cancels their jobs, and closes the
   * queue and the connections. Never waits long for a Redis out of reach.
   */
  async close(error: unknown): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#link.stop();
    const awaited = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of awaited) {
      if (pending.settled) continue;
      this.#settle(pending, false, error);
      this.#cancel(pending, error);
    }
    const reachable = this.#redis.status === 'ready';
    if (reachable) {
      this.#canceller.flush();
      await within(
        Promise.all([this.#canceller.settled(), this.#reader.close()]),
        this.#config.connectTimeoutMs ?? defaultConnectTimeoutMs,
      );
    } else {
      void this.#reader.close();
    }
    this.#blocking.disconnect();
    await within(this.#queue.close(), 1_000);
    await closeRedis(this.#redis);
    await this.#reader.ended();
  }
}

function isObject(value: unknown): value is Record<string, unknown> & object {
  return typeof value === 'object' && value !== null;
}
