/**
 * The orchestrator's half of the wire, written here from the format's description (job
 * data, reply streams, the cancel channel), so that the worker tests check `weft worker`
 * against the contract from outside: jobs are added with BullMQ's own Queue, replies read
 * with XREAD from the reply stream, cancels published on the queue's channel.
 * Also: a fresh queue of a test (closed after it), and one served by an in-process worker.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { defaultSerializer, type Task } from 'weftjs';
import { type StartWorkerOptions, startWorker, type WeftWorker } from 'weftjs/bullmq';
import { freshQueue, redisUrl } from '../../fixtures/services.ts';

/** The version of the job format the tests speak. */
export const wireVersion = 1;

/** A reply as the worker writes it (field `r` of a stream entry, as JSON). */
export interface Reply {
  readonly type: 'started' | 'progress' | 'outcome';
  readonly job: string;
  readonly value?: unknown;
  readonly ok?: boolean;
  readonly error?: {
    readonly name: string;
    readonly message: string;
    readonly code?: string;
    readonly cause?: unknown;
  };
  readonly startedAt?: number;
  readonly durationMs?: number;
  readonly progress?: number;
}

/** One job to add: its task (or a name and module of one that may not exist), and its input. */
export interface JobSpec {
  readonly task: Task | { readonly name: string; readonly module: string };
  readonly input?: unknown;
  readonly key?: string;
  readonly attempt?: number;
  readonly runId?: string;
  /** @default whether the task has a timeout */
  readonly timed?: boolean;
}

/** A queue of a test, its reply stream and what was read from it. */
export class TestQueue {
  readonly name: string;
  readonly queue: Queue;
  /** The reply stream this queue's jobs name. */
  readonly stream: string;
  readonly #redis: Redis;
  readonly #reader: Redis;
  readonly #events: QueueEvents;
  readonly #eventsConnection: Redis;
  #lastId = '0';
  readonly replies: Reply[] = [];
  #sequence = 0;
  readonly #id = randomBytes(6).toString('hex');

  constructor(name: string, url = redisUrl) {
    this.name = name;
    this.#redis = new Redis(url, { maxRetriesPerRequest: null });
    this.#reader = new Redis(url, { maxRetriesPerRequest: null });
    this.queue = new Queue(name, { connection: this.#redis });
    this.#eventsConnection = this.#reader.duplicate();
    this.#events = new QueueEvents(name, { connection: this.#eventsConnection });
    this.stream = `bull:${name}:weft:replies:own:${this.#id}`;
  }

  /** The data weft's executor would give a job of `spec`. */
  dataOf(spec: JobSpec): Record<string, unknown> {
    const { task } = spec;
    const module = 'ref' in task ? task.ref!.module : task.module;
    const timed = 'options' in task ? task.options.timeoutMs !== undefined : false;
    return {
      v: wireVersion,
      task: task.name,
      module,
      key: spec.key ?? `test/${task.name}/${this.#sequence}`,
      attempt: spec.attempt ?? 1,
      input: { text: defaultSerializer.encode(spec.input) },
      reply: this.stream,
      timed: spec.timed ?? timed,
      ...(spec.runId === undefined ? {} : { runId: spec.runId }),
    };
  }

  /** Adds jobs as weft's executor does; returns their ids. */
  async add(...specs: JobSpec[]): Promise<string[]> {
    const jobs = specs.map((spec) => ({
      name: spec.task.name,
      data: this.dataOf(spec),
      opts: this.#options(),
    }));
    const added = await this.queue.addBulk(jobs);
    return added.map((job) => job.id!);
  }

  /** Adds one job with `data` as it is (hostile data); returns its id. */
  async addRaw(data: unknown, name = 'raw'): Promise<string> {
    const job = await this.queue.add(name, data, this.#options());
    return job.id!;
  }

  #options() {
    return {
      jobId: `x-${this.#id}-${++this.#sequence}`,
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: { age: 3600 },
    };
  }

  /** Resolves with the first reply (read so far, or to come) that `test` accepts. */
  async reply(what: string, test: (reply: Reply) => boolean, timeoutMs = 15_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    // The stream is read at least once before the deadline counts: a reply already written
    // is found even with a deadline shorter than a tick of the clock.
    for (let seen = 0, read = false; ; read = true) {
      for (; seen < this.replies.length; seen++) {
        if (test(this.replies[seen]!)) return this.replies[seen]!;
      }
      const left = deadline - Date.now();
      if (left <= 0 && read) {
        throw new Error(
          `No ${what} within ${timeoutMs} ms; replies: ${JSON.stringify(this.replies).slice(0, 2000)}`,
        );
      }
      await this.#read(Math.min(left, 500));
    }
  }

  /** The outcome of job `id`. */
  outcome(id: string, timeoutMs?: number): Promise<Reply> {
    return this.reply(
      `outcome of job ${id}`,
      (r) => r.type === 'outcome' && r.job === id,
      timeoutMs,
    );
  }

  /** Every reply of job `id` read so far. */
  repliesOf(id: string): Reply[] {
    return this.replies.filter((reply) => reply.job === id);
  }

  /** The value of an ok outcome, decoded. */
  valueOf(outcome: Reply): unknown {
    if (outcome.ok !== true) {
      throw new Error(`Job ${outcome.job} failed: ${JSON.stringify(outcome.error)}`);
    }
    return defaultSerializer.decode((outcome.value as { text: string }).text);
  }

  /**
   * Publishes a cancel message for `ids` on the queue's channel, as the executor does;
   * `at`: when it says it was sent (now by default).
   */
  async cancel(ids: readonly string[], message: string, at = Date.now()): Promise<void> {
    await this.publishRaw(
      JSON.stringify({ jobs: ids, reason: { name: 'AbortError', message }, at }),
    );
  }

  /** Publishes `text` on the queue's cancel channel as it is. */
  async publishRaw(text: string): Promise<void> {
    await this.#redis.publish(`bull:${this.name}:weft:cancel`, text);
  }

  /**
   * Resolves once BullMQ finished job `id`: `completed` (completed jobs are removed, so a
   * job gone is one that completed) or `failed` with its reason.
   */
  async finished(
    id: string,
    timeoutMs = 15_000,
  ): Promise<{ readonly state: 'completed' | 'failed'; readonly reason?: string }> {
    await this.#events.waitUntilReady();
    const job = await this.queue.getJob(id);
    if (!job) return { state: 'completed' };
    try {
      await job.waitUntilFinished(this.#events, timeoutMs);
      return { state: 'completed' };
    } catch (error) {
      const state = await this.queue.getJobState(id);
      if (state === 'unknown') return { state: 'completed' };
      if (state !== 'failed') throw error;
      const failed = await this.queue.getJob(id);
      return { state: 'failed', reason: failed?.failedReason ?? '' };
    }
  }

  /** Resolves with the job's failure reason once BullMQ marked it failed; rejects if it completes. */
  async failedReason(id: string, timeoutMs = 15_000): Promise<string> {
    const { state, reason } = await this.finished(id, timeoutMs);
    if (state !== 'failed') throw new Error(`Job ${id} completed; it was expected to fail.`);
    return reason!;
  }

  /** The state of job `id` in BullMQ (`waiting`, `active`, `failed`, `unknown` once removed…). */
  state(id: string): Promise<string> {
    return this.queue.getJobState(id);
  }

  async #read(blockMs: number): Promise<void> {
    const result = await this.#reader.xread(
      'COUNT',
      1000,
      'BLOCK',
      Math.max(1, Math.round(blockMs)),
      'STREAMS',
      this.stream,
      this.#lastId,
    );
    for (const [, entries] of result ?? []) {
      for (const [id, fields] of entries) {
        this.#lastId = id;
        const at = fields.indexOf('r');
        if (at >= 0) this.replies.push(JSON.parse(fields[at + 1]!) as Reply);
      }
    }
  }

  async close(): Promise<void> {
    await this.#events.close();
    this.#eventsConnection.disconnect();
    await this.queue.close();
    this.#redis.disconnect();
    this.#reader.disconnect();
  }
}

/**
 * A {@link TestQueue} on a fresh queue, closed when the test (or the file, or the
 * `describe`, when called there) is done.
 */
export function testQueue(label: string, url = redisUrl): TestQueue {
  const queue = new TestQueue(freshQueue(label, url), url);
  after(() => queue.close());
  return queue;
}

/**
 * A {@link testQueue} that an in-process worker serves for the whole file (or `describe`)
 * that calls this: the worker starts before its tests and closes after them.
 */
export function servedQueue(
  label: string,
  options: Omit<StartWorkerOptions, 'connection' | 'queue'> = {},
): { readonly queue: TestQueue; readonly worker: WeftWorker } {
  const queue = new TestQueue(freshQueue(label));
  let worker: WeftWorker | undefined;
  before(async () => {
    worker = await startWorker({ connection: redisUrl, queue: queue.name, ...options });
  });
  after(async () => {
    await worker?.close();
    await queue.close();
  });
  return {
    queue,
    get worker() {
      return worker!;
    },
  };
}

/** Accepts the progress reply of job `id` whose value's message is `message`. */
export function progressOf(id: string, message: string): (reply: Reply) => boolean {
  return (reply) =>
    reply.type === 'progress' &&
    reply.job === id &&
    (reply.value as { message?: string }).message === message;
}
