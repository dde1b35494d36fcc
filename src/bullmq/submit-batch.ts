/**
 * Turning a batch of the bullmq executor's invocations into jobs: each gets its job id
 * and reply stream (a run's is read from its start first, and Redis out of reach is waited
 * for), is settled at once from an outcome a resumed run finds kept, or has its input
 * encoded and its job added, 500 per round trip. The session (executor-session.ts) holds
 * what is awaited and answers the callers.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ExecutorClosedError } from '../core/errors.ts';
import { isConnectionError } from './connection.ts';
import type { RedisUnreachableError } from './errors.ts';
import type { LinkWatch } from './executor-link.ts';
import type { Pending, SessionConfig } from './executor-session.ts';
import { jobIdFor, keysOf, type Outcome } from './job-wire.ts';
import type { KeptOutcomes, SpentJobIds } from './replies-kept.ts';
import type { RepliesReader, ReplyStream } from './replies-reader.ts';
import { jobFor, maxJobsPerAdd, removeFinishedJobs } from './submit-jobs.ts';

/** What the submitter uses of the executor's session. */
export interface SubmitHost {
  readonly config: SessionConfig;
  readonly redis: Redis;
  readonly queue: Queue;
  readonly reader: RepliesReader;
  readonly link: LinkWatch;
  readonly kept: KeptOutcomes;
  readonly spent: SpentJobIds;
  readonly executorId: string;
  /** The executor is closing: nothing more is added. */
  readonly closing: boolean;
  /** An invocation awaits the job of id `jobId`. */
  awaits(jobId: string): boolean;
  /** `pending` is the invocation awaiting its job. */
  isAwaited(pending: Pending): boolean;
  /** Answers the caller of `pending`, once. */
  settle(pending: Pending, ok: boolean, result: unknown): void;
  /** Answers the caller of `pending` from the outcome of its job. */
  settleFrom(pending: Pending, outcome: Outcome): void;
  /** Registers `pending` as awaiting its job's replies. */
  register(pending: Pending): void;
  /** No reply will come (or matter) for `pending` any more. */
  finish(pending: Pending): void;
  /** Stops waiting for invocations whose signal aborts, and cancels their jobs. */
  listenForAborts(pendings: readonly Pending[]): void;
  /** The error of `count` tasks when Redis stayed out of reach. */
  unreachable(count: number, cause?: unknown): RedisUnreachableError;
}

/** Turns batches of invocations into jobs for one session. */
export class BatchSubmitter {
  readonly #host: SubmitHost;
  /** Run job ids given to invocations being prepared, not yet awaited. */
  readonly #claimed = new Set<string>();
  #sequence = 0;

  constructor(host: SubmitHost) {
    this.#host = host;
  }

  /** Forgets the claim on `pending`'s job id (its batch failed). */
  release(pending: Pending): void {
    if (pending.jobId !== undefined) this.#claimed.delete(pending.jobId);
  }

  /** Turns `batch` into jobs and adds them; settles each pending that needs no job or cannot have one. */
  async submit(batch: readonly Pending[]): Promise<void> {
    let streams: Map<string, ReplyStream>;
    for (;;) {
      // Redis out of reach: the batch waits for it as the jobs in flight do.
      const back = await this.#host.link.whenBack();
      if (this.#host.closing || !back) {
        const error = this.#host.closing
          ? new ExecutorClosedError('bullmq')
          : this.#host.unreachable(batch.length);
        for (const pending of batch) this.#host.settle(pending, false, error);
        return;
      }
      try {
        // Sent just as Redis went away, the reads may wait for it without end: they lose
        // to the give-up, and the loop fails the batch.
        const opening = this.#openRuns(batch);
        opening.catch(() => {});
        const opened = await Promise.race([opening, this.#host.link.whenDown()]);
        if (opened === undefined) continue;
        streams = opened;
        break;
      } catch (error) {
        // Gone meanwhile: wait again (or fail once it stays away too long).
        if (!isConnectionError(error) || !this.#host.link.lost) throw error;
      }
    }
    if (this.#refusedClosed(batch)) return;

    const live = batch.filter((pending) => this.#target(pending, streams));
    const prepared = await Promise.all(
      live.map((pending) =>
        this.#prepare(pending).then(
          () => true,
          (error: unknown) => {
            this.#host.settle(pending, false, error);
            return false;
          },
        ),
      ),
    );
    for (const pending of live) this.#claimed.delete(pending.jobId!);
    if (this.#refusedClosed(live)) return;
    const ready: Pending[] = [];
    const resumed: string[] = [];
    for (const [i, pending] of live.entries()) {
      if (!prepared[i] || pending.settled) continue;
      // Aborted while its input was encoded: no job.
      if (pending.invocation.signal.aborted) {
        this.#host.settle(pending, false, pending.invocation.signal.reason);
        continue;
      }
      ready.push(pending);
      this.#host.register(pending);
      const run = pending.invocation.scope.run;
      if (pending.stream!.run && run!.record.attempts > 1) resumed.push(pending.jobId!);
    }
    if (ready.length === 0) return;
    this.#host.listenForAborts(ready);
    // Failed jobs are kept a day: an add of the same id would leave such a job as it is.
    if (resumed.length > 0) await removeFinishedJobs(this.#host.redis, this.#host.queue, resumed);
    // While Redis is out of reach, the jobs wait for the reconnection, which adds them.
    if (!this.#host.link.lost) this.add(ready);
  }

  /**
   * The reply streams of the runs of `batch`, by run id. A run's stream is read from its
   * start before its first job is added, so that the outcomes of jobs that finished while
   * no orchestrator read it are known.
   */
  async #openRuns(batch: readonly Pending[]): Promise<Map<string, ReplyStream>> {
    const runs = new Map<string, Promise<ReplyStream>>();
    const keys = keysOf(this.#host.config.prefix, this.#host.config.queue);
    for (const pending of batch) {
      const run = pending.invocation.scope.run;
      if (run && !runs.has(run.id))
        runs.set(run.id, this.#host.reader.openRun(keys.runReplies(run.id)));
    }
    const streams = new Map<string, ReplyStream>();
    for (const [runId, opening] of runs) streams.set(runId, await opening);
    return streams;
  }

  /** Closed meanwhile: fails `pendings` (none is awaited yet) with ExecutorClosedError. */
  #refusedClosed(pendings: readonly Pending[]): boolean {
    if (!this.#host.closing) return false;
    const error = new ExecutorClosedError('bullmq');
    for (const pending of pendings) this.#host.settle(pending, false, error);
    return true;
  }

  /**
   * Gives `pending` its job id and reply stream, or settles it from an outcome kept for
   * its id; false when it needs no job.
   */
  #target(pending: Pending, streams: ReadonlyMap<string, ReplyStream>): boolean {
    if (pending.settled) return false;
    const { invocation } = pending;
    const run = invocation.scope.run;
    pending.store = run?.store;
    if (run) {
      const base = jobIdFor({
        runId: run.id,
        createdAt: run.record.createdAt,
        key: invocation.key,
        attempt: invocation.attempt,
      });
      // The attempt's id, then the one this opening of the run gives it when the job of
      // that id failed or was cancelled (perhaps still active: an add would re-attach to
      // it, and wait for an outcome that came already, or take the cancel's).
      for (const jobId of [base, `${base}-${run.record.attempts}`]) {
        const kept = this.#host.kept.take(jobId);
        if (kept) {
          this.#host.settleFrom(pending, kept);
          return false;
        }
        if (this.#host.spent.has(jobId)) continue;
        // An id in use (awaited, or aborted with its job perhaps still failing with the
        // cancel: a run resumed in this process at once) gets no second invocation: this
        // one runs as a job of its own, whose outcome answers only it.
        if (this.#host.awaits(jobId) || this.#claimed.has(jobId)) break;
        this.#claimed.add(jobId);
        pending.jobId = jobId;
        pending.stream = streams.get(run.id)!;
        return true;
      }
    }
    pending.jobId = jobIdFor({ executorId: this.#host.executorId, sequence: ++this.#sequence });
    pending.stream = this.#host.reader.own;
    return true;
  }

  /** Makes the job of `pending` (its input encoded, inline or through the run's store). */
  async #prepare(pending: Pending): Promise<void> {
    const run = pending.invocation.scope.run;
    pending.job = await jobFor(pending.invocation, {
      jobId: pending.jobId!,
      reply: pending.stream!.key,
      runId: run?.id,
      store: run?.store,
      threshold: this.#host.config.largeValueBytes,
      jobOptions: this.#host.config.jobOptions,
    });
  }

  /** Adds the jobs of `pendings` still awaited, 500 per round trip. */
  add(all: readonly Pending[]): void {
    const pendings = all.filter((pending) => {
      // Aborted while earlier jobs were looked up: its cancel went out, no job is added.
      if (pending.settled) this.#host.finish(pending);
      return !pending.settled;
    });
    for (let i = 0; i < pendings.length; i += maxJobsPerAdd) {
      const chunk = pendings.slice(i, i + maxJobsPerAdd);
      const adding = this.#host.queue.addBulk(chunk.map((pending) => pending.job!));
      for (const pending of chunk) pending.adding = adding;
      adding.then(
        () => {
          for (const pending of chunk) if (pending.adding === adding) pending.adding = undefined;
        },
        (error: unknown) => {
          for (const pending of chunk) if (pending.adding === adding) pending.adding = undefined;
          // Out of reach: the reconnection adds them again, or their wait times out.
          if (this.#host.link.lost || this.#host.closing) return;
          for (const pending of chunk) {
            if (!this.#host.isAwaited(pending)) continue;
            this.#host.finish(pending);
            this.#host.settle(pending, false, error);
          }
        },
      );
    }
  }
}
