/**
 * Options of the bullmq executor and of `weft worker`, their defaults and the
 * environment variables that give them (`WEFT_REDIS_URL`, `WEFT_QUEUE`), so that
 * `--executor bullmq` alone picks the same queue the workers serve.
 */
import type { JobsOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { Store } from '../core/store.ts';

/** Where Redis is: a URL (`redis://user:password@host:6379/0`, `rediss://…`) or ioredis's options. */
export type RedisConnection = string | RedisOptions;

/** The Redis of `WEFT_REDIS_URL` when neither an option nor the variable says otherwise. */
const defaultRedisUrl = 'redis://127.0.0.1:6379';
/** The queue of `WEFT_QUEUE` when neither an option nor the variable says otherwise. */
const defaultQueue = 'weft';
/** Bytes above which a value travels through the run's artifact store. */
export const defaultLargeValueBytes = 256 * 1024;
/** BullMQ's own default key prefix. */
const defaultPrefix = 'bull';

/** What the executor and the workers share: where the queue is. */
export interface QueueOptions {
  /**
   * The Redis server.
   * @default `WEFT_REDIS_URL`, else `redis://127.0.0.1:6379`
   */
  readonly connection?: RedisConnection;
  /**
   * The BullMQ queue's name: workers started with the same `--queue` run its tasks.
   * @default `WEFT_QUEUE`, else `weft`
   */
  readonly queue?: string;
  /**
   * Prefix of every Redis key of the queue (BullMQ's `prefix`).
   * @default 'bull'
   */
  readonly prefix?: string;
  /**
   * How long to wait for Redis when connecting before failing with a
   * `RedisUnreachableError`, in milliseconds.
   * @default 5000
   */
  readonly connectTimeoutMs?: number;
}

/** Options of {@link bullmq}. */
export interface BullmqOptions extends QueueOptions {
  /**
   * BullMQ options given to every job (priority, lifo, removeOnComplete, removeOnFail…).
   * weft sets `jobId` (from the run, the task key and the attempt) and `attempts` (1: a
   * retry is a new weft attempt, with its own job) itself; `backoff` and `repeat` do not
   * apply (weft's `retry` option says when an attempt runs again).
   * @default { removeOnComplete: true, removeOnFail: { age: 86400, count: 10000 } }
   */
  readonly jobOptions?: Omit<JobsOptions, 'jobId' | 'attempts' | 'backoff' | 'repeat'>;
  /**
   * Tasks a fan-out keeps in flight on this executor when it sets no concurrency: jobs
   * waiting in the queue or running on a worker.
   * @default 1024
   */
  readonly concurrency?: number;
  /**
   * Values (inputs and outputs) whose serialized text is larger than this many bytes
   * travel through the run's artifact store instead of Redis; the store must be one every
   * machine reads (PostgreSQL).
   * @default 262144 (256 KiB)
   */
  readonly largeValueBytes?: number;
  /**
   * While tasks are in flight, how long Redis may stay out of reach before they fail with
   * a `RedisUnreachableError` (a resumed run then picks them up again), in milliseconds.
   * @default 30000
   */
  readonly reconnectTimeoutMs?: number;
}

/** Options of {@link startWorker}, and of `weft worker`. */
export interface WorkerOptions extends QueueOptions {
  /**
   * Jobs this worker runs at once.
   * @default 16 on asyncPool; twice the workers on threads or processes
   */
  readonly concurrency?: number;
  /**
   * Where the jobs' tasks run in this worker: an executor, or its name (`asyncPool`,
   * `threads`, `processes`, `inline`).
   * @default 'asyncPool'
   */
  readonly executor?: Executor | string;
  /** Workers of a `threads` or `processes` executor given by name. @default the number of cores */
  readonly workers?: number;
  /**
   * The store large values travel through (the runs' PostgreSQL store): a URL as
   * `--store` takes it, or a store. Without it, a job carrying a large value fails,
   * saying to start the worker with one.
   * @default `WEFT_STORE` when set
   */
  readonly store?: string | Store;
  /**
   * How long a job's lock lasts without renewal (renewed at half of it), in
   * milliseconds. With `stalledIntervalMs`, bounds how soon another worker takes over
   * the jobs of a worker that died: about the sum of both.
   * @default 5000
   */
  readonly lockDurationMs?: number;
  /**
   * How often this worker looks for stalled jobs (whose worker died), in milliseconds.
   * @default 5000
   */
  readonly stalledIntervalMs?: number;
  /**
   * How many times a job may stall (its worker dying under it) before it fails with a
   * `WorkerCrashedError` instead of running again.
   * @default 1
   */
  readonly maxStalledCount?: number;
  /** Stops the worker as `close()` does: jobs in flight finish first. */
  readonly signal?: AbortSignal;
}

/** The Redis of `connection`, `WEFT_REDIS_URL` or the default, and how messages name it. */
export interface ResolvedConnection {
  /** For ioredis: a URL or options. */
  readonly connection: RedisConnection;
  /** `redis://host:port/db` with any password hidden. */
  readonly location: string;
}

/** Resolves where Redis is (see {@link QueueOptions.connection}). */
export function resolveConnection(connection?: RedisConnection): ResolvedConnection {
  const chosen = connection ?? nonEmpty(process.env.WEFT_REDIS_URL) ?? defaultRedisUrl;
  if (typeof chosen === 'string') {
    let url: URL;
    try {
      url = new URL(chosen);
    } catch {
      throw new ValidationError(
        `The Redis URL '${chosen}' cannot be read: write it as redis://host:6379 (or rediss:// for TLS), ` +
          'with user:password@ and /db when needed (WEFT_REDIS_URL, --redis or bullmq({ connection })).',
      );
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new ValidationError(
        `The Redis URL '${hide(url)}' must start with redis:// or rediss:// (WEFT_REDIS_URL, --redis or bullmq({ connection })).`,
      );
    }
    return { connection: chosen, location: hide(url) };
  }
  const host = chosen.host ?? '127.0.0.1';
  const port = chosen.port ?? 6379;
  const location = chosen.path
    ? `redis+unix://${chosen.path}`
    : `redis://${host}:${port}${chosen.db ? `/${chosen.db}` : ''}`;
  return { connection: chosen, location };
}

/** The queue name of `queue`, `WEFT_QUEUE` or the default, checked. */
export function resolveQueue(queue?: string): string {
  const name = queue ?? nonEmpty(process.env.WEFT_QUEUE) ?? defaultQueue;
  // BullMQ builds Redis keys as prefix:queue:…, so a ':' would split the name.
  if (name === '' || name.includes(':') || /[\0\s]/.test(name) || name.length > 200) {
    throw new ValidationError(
      `The queue name '${name.replace(/\0/g, '\\0')}' cannot be used: give a name of letters, digits, '-', '_' or '.', ` +
        'without ":" or spaces, at most 200 characters (WEFT_QUEUE, --queue or bullmq({ queue })).',
    );
  }
  return name;
}

/** The key prefix, checked as the queue name is. */
export function resolvePrefix(prefix?: string): string {
  const chosen = prefix ?? defaultPrefix;
  if (chosen === '' || /[\0\s]/.test(chosen)) {
    throw new ValidationError(
      `The key prefix '${chosen}' cannot be used: give a non-empty name without spaces.`,
    );
  }
  return chosen;
}

/** Checks a whole number option ≥ `min`, naming it. */
export function checkCount(name: string, value: number | undefined, min = 1): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
    throw new ValidationError(`${name} must be a whole number ≥ ${min}, got ${String(value)}.`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function hide(url: URL): string {
  const shown = new URL(url.href);
  if (shown.password !== '') shown.password = '***';
  return shown.href.replace(/\/$/, '');
}
