/**
 * What the bullmq executor's tests share: invocations made by hand inside a run (a run
 * opened for the first time, or resumed) and handed to an executor, waiting for a
 * condition on Redis or an answer with a deadline, the test's view of the queue, and
 * replies written as a worker writes them.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  EventBus,
  type Executor,
  KeyScope,
  Run,
  type Store,
  type Task,
  type TaskInvocation,
} from 'weftjs';
import { redisUrl } from '../../fixtures/services.ts';

/** When each run of each store was created, as its record keeps it across resumes. */
const created = new WeakMap<Store, Map<string, number>>();

/**
 * A run as withRun would open it: `attempts` 1 the first time, more once resumed. Its
 * `createdAt` is the one of the first run of that id in `store` (a resume), so that a
 * run of the same id in another store is another run, as in another process.
 */
export function runOf(id: string, store: Store, attempts: number): Run {
  const now = Date.now();
  const runs = created.get(store) ?? new Map<string, number>();
  created.set(store, runs);
  const createdAt = runs.get(id) ?? now;
  runs.set(id, createdAt);
  return new Run(
    { id, status: 'running', createdAt, updatedAt: now, attempts, meta: {} },
    store,
    0,
    new EventBus(),
  );
}

/** An invocation of attempt `attempt` of `task` under `key`, in `run` when given. */
export function invocationOf<I>(
  task: Task<I, unknown>,
  input: I,
  key: string,
  options: {
    readonly run?: Run;
    readonly attempt?: number;
    readonly signal?: AbortSignal;
    readonly progress?: (value: unknown) => void;
    readonly ran?: (startedAt: number, durationMs: number) => void;
  } = {},
): TaskInvocation {
  return {
    ...(options.ran ? { ran: options.ran } : {}),
    task: task as Task,
    input,
    key,
    attempt: options.attempt ?? 1,
    signal: options.signal ?? new AbortController().signal,
    scope: new KeyScope(key, options.run),
    progress: options.progress ?? (() => {}),
    started: () => {},
  };
}

/**
 * What `executor` answers `invocation`, as a promise (`run` may answer at once). A failure
 * is not reported as unhandled while the test has not awaited it yet.
 */
export function runOn(executor: Executor, invocation: TaskInvocation): Promise<unknown> {
  const answer = Promise.resolve(executor.run(invocation));
  answer.catch(() => {});
  return answer;
}

/** BullMQ's view of queue `name` on the tests' Redis, closed when the test is done. */
export function queueOf(name: string): Queue {
  const queue = new Queue(name, { connection: { url: redisUrl } });
  after(() => queue.close());
  return queue;
}

/** How long a test waits for a condition before it fails. */
export const deadlineMs = 10_000;

/**
 * Resolves once `check` resolves true, asking every 20 ms; fails naming `what` after
 * the deadline. For states of Redis that no event announces (a job count).
 */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = deadlineMs,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for `promise` at most the deadline, failing with `what`. */
export async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: still pending after ${deadlineMs} ms.`)),
          deadlineMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The reason `promise` rejects with, within the deadline (naming `what`); fails if it resolves. */
export function rejectionOf(
  promise: unknown,
  what: string,
): Promise<Error & { readonly code?: unknown }> {
  return within(
    Promise.resolve(promise).then(
      (value) => assert.fail(`${what}: expected a rejection, got ${String(value)}`),
      (error: unknown) => error as Error,
    ),
    what,
  );
}

/**
 * Writes, as a weft worker does when `job`'s task timed out, the failed outcome on the
 * reply stream the job names.
 */
export async function replyTimedOut(redis: Redis, job: Job): Promise<void> {
  const stream = (job.data as { reply: string }).reply;
  const error = { name: 'TimeoutError', message: 'timed out', code: 'WEFT_TIMEOUT' };
  const outcome = { type: 'outcome', ok: false, error, startedAt: -1, durationMs: 0, progress: 0 };
  await redis.xadd(stream, '*', 'r', JSON.stringify({ job: job.id, ...outcome }));
}
