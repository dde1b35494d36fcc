/**
 * Cancelling jobs of aborted invocations. The invocation itself was settled already;
 * what is left is to stop the work: a job still waiting is removed from the queue (BullMQ
 * removes only jobs no worker holds), and every worker hears a cancel message on the
 * queue's cancel channel, so that the one running the job aborts it. Cancels of one tick
 * travel as one message per reason (a fail-fast abort cancels many jobs at once).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { toWire } from '../core/errors.ts';
import { type CancelMessage, replyFields, replyStreamTtlSeconds } from './job-wire.ts';

/** Sends the cancels of aborted jobs, batched per tick. */
export class Canceller {
  readonly #redis: Redis;
  readonly #queue: Queue;
  readonly #channel: string;
  readonly #removed: (jobId: string) => void;
  /** Job ids to cancel, by the reason they are cancelled with. */
  #byReason = new Map<unknown, string[]>();
  /** Jobs to remove if still waiting, each after its add (if in flight) is done. */
  #removals: { readonly jobId: string; readonly after: Promise<unknown> | undefined }[] = [];
  /** `cancelled` markers to write, as [job id, run reply stream]. */
  #markers: [jobId: string, stream: string][] = [];
  #scheduled = false;
  /** Cancels sent and not answered yet, for {@link settled}. */
  readonly #inFlight = new Set<Promise<unknown>>();

  /**
   * @param removed called with the id of a job that was removed before any worker took
   *   it: no reply will ever come for it
   */
  constructor(redis: Redis, queue: Queue, channel: string, removed: (jobId: string) => void) {
    this.#redis = redis;
    this.#queue = queue;
    this.#channel = channel;
    this.#removed = removed;
  }

  /**
   * Cancels job `jobId` with `reason` (sent with the next batch).
   * @param after the job's add, when still in flight: the removal waits for it
   * @param runStream the run's reply stream, for a job of a run: a `cancelled` marker
   *   there tells a resumed run not to re-attach to this job
   */
  cancel(jobId: string, reason: unknown, after?: Promise<unknown>, runStream?: string): void {
    if (runStream !== undefined) this.#markers.push([jobId, runStream]);
    const ids = this.#byReason.get(reason);
    if (ids) ids.push(jobId);
    else this.#byReason.set(reason, [jobId]);
    this.#removals.push({ jobId, after });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what was cancelled so far now. */
  flush(): void {
    this.#scheduled = false;
    const byReason = this.#byReason;
    const removals = this.#removals;
    const markers = this.#markers;
    this.#byReason = new Map();
    this.#removals = [];
    this.#markers = [];
    if (markers.length > 0) {
      const pipeline = this.#redis.pipeline();
      const streams = new Set<string>();
      for (const [job, stream] of markers) {
        pipeline.xadd(stream, '*', ...replyFields({ type: 'cancelled', job }));
        streams.add(stream);
      }
      // A marker may create the stream: it goes by itself as the workers' replies do.
      for (const stream of streams) pipeline.expire(stream, replyStreamTtlSeconds);
      this.#track(pipeline.exec());
    }
    for (const [reason, jobs] of byReason) {
      const message: CancelMessage = { jobs, reason: toWire(reason), at: Date.now() };
      this.#track(this.#redis.publish(this.#channel, JSON.stringify(message)));
    }
    for (const { jobId, after } of removals) {
      const removal = (after ?? Promise.resolve())
        .then(() => this.#queue.remove(jobId))
        .then((code) => {
          // 1: removed, or gone already; 0: a worker holds it, and will reply.
          if (code === 1) this.#removed(jobId);
        });
      this.#track(removal);
    }
  }

  /** Resolves once every cancel sent so far was answered (or failed). */
  async settled(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.then(
      () => {},
      () => {},
    );
    this.#inFlight.add(tracked);
    tracked.then(() => this.#inFlight.delete(tracked));
  }
}
