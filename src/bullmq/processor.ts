/**
 * The BullMQ processor of `weft worker`: a job's data is checked, its task found (see
 * processor-tasks.ts), its input decoded, the task run on the worker's own executor (see
 * processor-run.ts), and its outcome written to the job's reply stream, where the
 * orchestrator waits for it. The processor settles only once the outcome is in Redis;
 * for a task that failed it then throws, so that BullMQ shows the job failed.
 *
 * Per job it costs what a job must: no Redis command of its own (the outcome shares one
 * script call with the others of its turn), and no promise a synchronous task does not need.
 */
import type { Job } from 'bullmq';
import { NotCloneableError, toWire, ValidationError, WorkerCrashedError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { Store } from '../core/store.ts';
import { defaultSerializer } from '../stores/serializer.ts';
import type { CancelListener } from './cancel-listener.ts';
import {
  decodeValue,
  type EncodedValue,
  encodeText,
  type JobData,
  readJobData,
  surelyFits,
  wireVersion,
} from './job-wire.ts';
import { JobRun, type RunEnd } from './processor-run.ts';
import type { TaskResolver } from './processor-tasks.ts';
import type { ReplyWriter } from './reply-writer.ts';

/** Counts of what a worker did, updated by its processor. */
export interface ProcessorCounts {
  completed: number;
  failed: number;
  running: number;
}

/** What the processor works with: the worker's parts. */
export interface ProcessorContext {
  readonly executor: Executor;
  readonly tasks: TaskResolver;
  readonly writer: ReplyWriter;
  readonly cancels: CancelListener;
  /** Where large values are read and written; undefined without `--store`. */
  readonly store: Store | undefined;
  /** Every reply stream of the queue starts with it; a job naming another is refused. */
  readonly replyPrefix: string;
  /** Bytes above which an output goes through the store. */
  readonly largeValueBytes: number;
  readonly counts: ProcessorCounts;
  /** Runs in progress, by job id, so that a cancel or stopping at once can abort them. */
  readonly running: Map<string, JobRun>;
  /** True once the worker stops at once: outcomes are no longer written (the jobs run again elsewhere). */
  readonly stoppingNow: () => boolean;
}

/** The error a failed job is marked with in BullMQ: the task's own message. */
class JobFailedError extends Error {
  constructor(error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    super(message, { cause: error });
    this.name = error instanceof Error ? error.name : 'Error';
  }
}

/**
 * Makes the processor. It takes no signal from BullMQ (which then makes no
 * AbortController per job): cancels reach runs through {@link ProcessorContext.running}.
 */
export function createProcessor(context: ProcessorContext): (job: Job) => Promise<void> {
  return async (job) => {
    const { counts } = context;
    counts.running++;
    try {
      await processJob(context, job);
    } finally {
      counts.running--;
    }
  };
}

async function processJob(context: ProcessorContext, job: Job): Promise<void> {
  const id = job.id!;
  if (context.stoppingNow()) throw new Error('The worker is stopping: this job runs elsewhere.');
  let data: JobData;
  try {
    data = checkJobData(job.data, context.replyPrefix);
  } catch (error) {
    // A job of another version may still say where its orchestrator waits.
    return fail(context, id, replyStreamOf(job.data, context.replyPrefix), error);
  }
  const { cancels } = context;
  const addedAt = job.timestamp;
  let cancelled = cancels.take(id, addedAt);
  if (cancelled !== undefined) return fail(context, id, data.reply, cancelled);
  let found = context.tasks.find(data.task, data.module);
  if (found instanceof Promise) found = await found;
  if ('error' in found) return fail(context, id, data.reply, found.error);
  let input: unknown;
  try {
    const encoded = data.input;
    input =
      'text' in encoded
        ? defaultSerializer.decode(encoded.text)
        : await decodeValue(encoded, context.store);
  } catch (error) {
    return fail(context, id, data.reply, inputError(data, error));
  }
  // From here to the run's start nothing awaits, so no cancel falls in between.
  cancelled = cancels.take(id, addedAt);
  if (cancelled !== undefined) return fail(context, id, data.reply, cancelled);
  const run = new JobRun(found.task, input, data.key, data.attempt, addedAt, {
    writer: context.writer,
    stream: data.reply,
    job: id,
    timed: data.timed === true,
  });
  const { running } = context;
  running.set(id, run);
  let end = run.start(context.executor);
  if (end instanceof Promise) end = await end;
  running.delete(id);
  if (!end.ok) return fail(context, id, data.reply, end.result, end);
  let value: EncodedValue;
  try {
    // Serialized once, unnamed (a refusal is named in outputError); a small output needs
    // no promise, a larger one has its bytes counted and may go through the store.
    const text = defaultSerializer.encode(end.result);
    value = surelyFits(text, context.largeValueBytes)
      ? { text }
      : await encodeText(text, {
          // Outside a run there is nowhere to put it, whatever the worker's store.
          store: data.runId === undefined ? undefined : context.store,
          runId: data.runId,
          artifact: `bullmq/${id}/output`,
          threshold: context.largeValueBytes,
          what: outputWhat(data),
        });
  } catch (error) {
    return fail(context, id, data.reply, outputError(data, context.store, end.result, error), end);
  }
  if (context.stoppingNow()) throw new Error('The worker stopped before writing this outcome.');
  await context.writer.write(data.reply, {
    type: 'outcome',
    job: id,
    ok: true,
    value,
    startedAt: end.startedAt,
    durationMs: end.durationMs,
    progress: end.progress,
  });
  context.counts.completed++;
}

/**
 * Writes the outcome of a job that stalled out: BullMQ fails it without calling the
 * processor, after its worker died more often than the queue allows.
 */
export async function writeStalledOut(context: ProcessorContext, job: Job): Promise<void> {
  let data: JobData;
  try {
    data = checkJobData(job.data, context.replyPrefix);
  } catch {
    return;
  }
  const times = job.stalledCounter;
  const error = new WorkerCrashedError(
    `Task '${data.task}' (${data.key}) did not finish: the weft worker running it died or stopped ` +
      `answering ${times} ${times === 1 ? 'time' : 'times'}, more than the queue allows, so it is not run again ` +
      `(job ${job.id}). Look for what ends that worker (memory, a crash in native code), or raise maxStalledCount.`,
  );
  await writeFailure(context, job.id!, data.reply, error);
}

/**
 * Writes a failure outcome (when the job says where), then throws, so that BullMQ marks
 * the job failed with the task's message.
 */
async function fail(
  context: ProcessorContext,
  id: string,
  reply: string | undefined,
  error: unknown,
  end?: RunEnd,
): Promise<never> {
  await writeFailure(context, id, reply, error, end);
  throw new JobFailedError(error);
}

/**
 * Counts a failed job and writes its failure outcome, unless the job says nowhere or the
 * worker stops at once (the job runs again elsewhere). `end`: the run's, if it started.
 */
async function writeFailure(
  context: ProcessorContext,
  id: string,
  reply: string | undefined,
  error: unknown,
  end?: RunEnd,
): Promise<void> {
  context.counts.failed++;
  if (reply === undefined || context.stoppingNow()) return;
  await context.writer.write(reply, {
    type: 'outcome',
    job: id,
    ok: false,
    error: toWire(error),
    startedAt: end?.startedAt ?? -1,
    durationMs: end?.durationMs ?? 0,
    progress: end?.progress ?? 0,
  });
}

function outputWhat(data: JobData): string {
  return `Task '${data.task}' (${data.key}) output`;
}

/** Checks a job's data: weft's format and version, a reply stream of this queue, a value it can read. */
function checkJobData(data: unknown, replyPrefix: string): JobData {
  const job = readJobData(data);
  if (!job.reply.startsWith(replyPrefix)) {
    throw new TypeError(
      `This job's reply stream '${job.reply}' is not one of this queue's (${replyPrefix}…): ` +
        'it was not added by a weft bullmq executor of this queue.',
    );
  }
  if (!Number.isSafeInteger(job.attempt) || job.attempt < 1 || !isEncodedValue(job.input)) {
    throw new TypeError(
      'This job was not added by a weft bullmq executor (its attempt or input is not of the format): ' +
        'give weft workers a queue of their own.',
    );
  }
  return job;
}

function isEncodedValue(value: EncodedValue): boolean {
  if ('text' in value) return typeof value.text === 'string';
  return (
    typeof value.runId === 'string' &&
    typeof value.artifact === 'string' &&
    Number.isSafeInteger(value.bytes)
  );
}

/** The reply stream of a job of another version, if it names one of this queue's. */
function replyStreamOf(data: unknown, replyPrefix: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { reply, v } = data as { reply?: unknown; v?: unknown };
  // Only jobs of another version: other data is no weft orchestrator's.
  if (v === wireVersion || typeof v !== 'number') return undefined;
  return typeof reply === 'string' && reply.startsWith(replyPrefix) ? reply : undefined;
}

function inputError(data: JobData, error: unknown): unknown {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'WEFT_SERIALIZATION') {
    return error;
  }
  return new NotCloneableError(
    `Task '${data.task}' (${data.key}) input cannot be read on this worker: ${error.message}`,
    { cause: error },
  );
}

function outputError(
  data: JobData,
  store: Store | undefined,
  output: unknown,
  error: unknown,
): unknown {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (code === 'WEFT_SERIALIZATION') {
    // Refused unnamed on the fast path: refused again, naming the task's output.
    const what = outputWhat(data);
    let refusal = error as Error;
    if (!refusal.message.startsWith(what)) {
      try {
        defaultSerializer.encode(output, what);
      } catch (named) {
        refusal = named as Error;
      }
    }
    return new NotCloneableError(
      refusal.message.replace(' cannot be stored: ', ' cannot be sent back from a weft worker: '),
      { cause: refusal },
    );
  }
  if (code === 'WEFT_STORE_NOT_SHARED' && store === undefined && data.runId !== undefined) {
    // The executor's message speaks of the run's store; here the worker lacks one.
    return new ValidationError(
      `Task '${data.task}' (${data.key}) output is too large to send through Redis, and this worker ` +
        'has no store to put it in: start weft worker with --store (or WEFT_STORE) naming the ' +
        `PostgreSQL store run '${data.runId}' uses. (${(error as Error).message})`,
      { code: 'WEFT_STORE_NOT_SHARED', cause: error },
    );
  }
  return error;
}
