/**
 * The worker's ear on the queue's cancel channel. An orchestrator whose invocation was
 * aborted (fail fast, its caller's signal, its timeout) publishes the job ids once to
 * every worker; the one running a job aborts it, and the others remember the most recent
 * ids, so that a job cancelled before it started (still waiting, or taken but not yet
 * running) does not start.
 */
import type { Redis } from 'ioredis';
import { fromWire, type WireError } from '../core/errors.ts';
import { closeRedis } from './connection.ts';
import type { CancelMessage } from './job-wire.ts';

/** How many recent cancelled job ids a worker keeps. */
const recentCancelsLimit = 4096;

/** Most job ids one message may name: a bigger one is not weft's, and is ignored. */
const maxJobsPerMessage = 100_000;

/**
 * What a worker does with a cancelled job id: aborts it if it runs here (and was added
 * at or before `at`, when given), and says whether it runs here.
 */
export type CancelJob = (jobId: string, reason: Error, at: number | undefined) => boolean;

interface Cancel {
  readonly reason: Error;
  /** When the cancel was sent (ms since the epoch); undefined: whenever the job was added. */
  readonly at: number | undefined;
}

/** Listens on one cancel channel; see the module comment. */
export class CancelListener {
  readonly #subscriber: Redis;
  readonly #channel: string;
  /** Cancels by job id, oldest first, at most {@link recentCancelsLimit}. */
  readonly #recent = new Map<string, Cancel>();
  #cancelJob: CancelJob = () => false;
  readonly #onMessage = (channel: string, text: string) => {
    if (channel === this.#channel) this.#heard(text);
  };

  /** @param subscriber a connection of its own: once subscribed, it can do nothing else */
  constructor(subscriber: Redis, channel: string) {
    this.#subscriber = subscriber;
    this.#channel = channel;
  }

  /** Subscribes; resolves once Redis confirmed, so no cancel published after it is missed. */
  async listen(cancelJob: CancelJob): Promise<void> {
    this.#cancelJob = cancelJob;
    this.#subscriber.on('message', this.#onMessage);
    await this.#subscriber.subscribe(this.#channel);
  }

  /**
   * The reason job `jobId`, added at `addedAt` (BullMQ's timestamp), was cancelled, if a
   * cancel for it was heard lately and sent after it was added (a job added again under
   * the same id by a resumed run is not cancelled by a cancel of the earlier one). It is
   * forgotten once taken.
   */
  take(jobId: string, addedAt: number): Error | undefined {
    if (this.#recent.size === 0) return undefined;
    const cancel = this.#recent.get(jobId);
    if (cancel === undefined) return undefined;
    this.#recent.delete(jobId);
    return applies(cancel.at, addedAt) ? cancel.reason : undefined;
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.#subscriber.off('message', this.#onMessage);
    this.#recent.clear();
    await closeRedis(this.#subscriber);
  }

  #heard(text: string): void {
    const message = parse(text);
    if (!message) return;
    const reason = reasonOf(message.reason);
    const at = typeof message.at === 'number' ? message.at : undefined;
    for (const jobId of message.jobs) {
      if (this.#cancelJob(jobId, reason, at)) continue;
      // Not running here (yet): the job finds the reason if it starts here later.
      this.#recent.delete(jobId);
      this.#recent.set(jobId, { reason, at });
      if (this.#recent.size > recentCancelsLimit) {
        this.#recent.delete(this.#recent.keys().next().value!);
      }
    }
  }
}

/** Whether a cancel sent at `at` applies to a job added at `addedAt`. */
export function applies(at: number | undefined, addedAt: number): boolean {
  return at === undefined || !(addedAt > at);
}

function parse(text: string): CancelMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { jobs } = message as Partial<CancelMessage>;
  if (!Array.isArray(jobs) || jobs.length > maxJobsPerMessage) return undefined;
  if (!jobs.every((id) => typeof id === 'string')) return undefined;
  return message as CancelMessage;
}

function reasonOf(reason: unknown): Error {
  if (
    typeof reason === 'object' &&
    reason !== null &&
    typeof (reason as WireError).message === 'string' &&
    typeof (reason as WireError).name === 'string'
  ) {
    return fromWire(reason as WireError);
  }
  return new Error('The job was cancelled by the process that added it.');
}
