/**
 * Turning invocations into BullMQ jobs: the job of one attempt (its data, its input
 * encoded inline or through the run's store), the refusals that fail one invocation
 * alone, and, in a resumed run, clearing the finished jobs BullMQ keeps under the ids
 * about to be added again. The session adds the jobs, 500 per round trip.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { NotCloneableError, SerializationError } from '../core/errors.ts';
import type { TaskInvocation } from '../core/executor.ts';
import type { Store } from '../core/store.ts';
import { unwrapTransfer } from '../core/transfer.ts';
import { type EncodedValue, encodeValue, type JobData, wireVersion } from './job-wire.ts';
import { copySharedMemory } from './submit-shared-memory.ts';

/** What BullMQ's addBulk takes for one job. */
export interface BulkJob {
  readonly name: string;
  readonly data: JobData;
  readonly opts: Readonly<Record<string, unknown>> & { readonly jobId: string };
}

/** Most jobs added by one addBulk: one pipeline of that many scripts. */
export const maxJobsPerAdd = 500;

/** Where one job goes and what it carries besides the invocation. */
export interface JobTarget {
  readonly jobId: string;
  /** The reply stream's key. */
  readonly reply: string;
  /** The run the invocation belongs to, if any, and its store (for large inputs). */
  readonly runId: string | undefined;
  readonly store: Store | undefined;
  /** Bytes above which the input travels through the run's store. */
  readonly threshold: number;
  /** BullMQ options of every job (weft's own are set over them). */
  readonly jobOptions: Readonly<Record<string, unknown>>;
}

/**
 * The job of one attempt.
 * @throws NotCloneableError naming the task when its input cannot be serialized
 * @throws LargeValueError when the input is large and no shared run store can carry it
 */
export async function jobFor(invocation: TaskInvocation, target: JobTarget): Promise<BulkJob> {
  const { task, key, attempt } = invocation;
  const input = await encodeInput(invocation, target);
  const data: JobData = {
    v: wireVersion,
    task: task.name,
    // check() made sure it has one: its module as workers find it from the project root.
    module: task.ref!.module,
    key,
    attempt,
    input,
    reply: target.reply,
    timed: task.options.timeoutMs !== undefined,
    ...(target.runId === undefined ? {} : { runId: target.runId }),
  };
  return {
    name: task.name,
    data,
    opts: { ...target.jobOptions, jobId: target.jobId, attempts: 1 },
  };
}

async function encodeInput(invocation: TaskInvocation, target: JobTarget): Promise<EncodedValue> {
  const { task, key } = invocation;
  const encode = (value: unknown) =>
    encodeValue(value, {
      store: target.store,
      runId: target.runId,
      artifact: `bullmq/${target.jobId}/input`,
      threshold: target.threshold,
      what: `Task '${task.name}' (${key}) input`,
    });
  // transfer() only moves buffers between threads: through Redis, the value is copied.
  const input = unwrapTransfer(invocation.input);
  try {
    try {
      return await encode(input);
    } catch (error) {
      // Shared memory cannot be shared with another machine: its bytes travel instead.
      // Looked for only when refused, so that other inputs are not walked twice.
      if (!(error instanceof SerializationError)) throw error;
      const copied = copySharedMemory(input);
      if (copied === input) throw error;
      return await encode(copied);
    }
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    // The serializer's message names the task, the path and the type found there.
    throw new NotCloneableError(
      `${error.message} The bullmq executor sends inputs to its workers as the run stores keep values.`,
      { cause: error },
    );
  }
}

/**
 * In a resumed run, removes the jobs among `ids` that BullMQ keeps as failed (a day, by
 * default) or completed (when jobOptions keep them): adding such an id again would leave
 * the finished job as it is, and the task would never run again. An outcome the earlier
 * orchestrator left on the run's stream was taken already, if it was a success.
 */
export async function removeFinishedJobs(
  redis: Redis,
  queue: Queue,
  ids: readonly string[],
): Promise<void> {
  const failed = queue.toKey('failed');
  const completed = queue.toKey('completed');
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.zscore(failed, id).zscore(completed, id);
  const scores = (await pipeline.exec()) ?? [];
  const finished = ids.filter((_, i) => {
    const [inFailed, inCompleted] = [scores[2 * i], scores[2 * i + 1]];
    return (inFailed?.[1] ?? null) !== null || (inCompleted?.[1] ?? null) !== null;
  });
  await Promise.all(finished.map((id) => queue.remove(id)));
}
