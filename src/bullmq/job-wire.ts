/**
 * What travels through Redis between a bullmq executor (the orchestrator) and `weft
 * worker`s: the job's data, the replies on the reply stream, the cancel messages and the
 * names of the keys. Both sides import this module and nothing else of each other, so
 * that they cannot drift apart.
 *
 * - One job per attempt of one task instance. Its id is derived from the run id, the task
 *   key and the attempt ({@link jobIdFor}), so that a resumed orchestrator adding the same
 *   attempt again re-attaches to the job in flight (BullMQ ignores an add whose id exists).
 * - Outcomes come back on a reply stream (a Redis stream): one per run, so that a resumed
 *   orchestrator reads, from the stream's start, what finished while it was away; one per
 *   executor outside a run. A worker writes a job's outcome there before BullMQ marks the
 *   job finished, so that an outcome is never lost to a worker dying in between (the job
 *   then stalls and runs again, and the second outcome is ignored).
 * - Values are encoded with the stores' serializer (what a run store keeps, a job keeps),
 *   inline below a threshold and through the run's artifact store above it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fromWire, type WireError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { defaultSerializer } from '../stores/serializer.ts';

/** Version of this format: a worker refuses jobs of another, naming both. */
export const wireVersion = 1;

/** A value as a job or a reply carries it. */
export type EncodedValue =
  /** The serializer's text. */
  | { readonly text: string }
  /** Too large for Redis: stored as an artifact of run `runId` under `artifact`. */
  | { readonly runId: string; readonly artifact: string; readonly bytes: number };

/** The data of one job (BullMQ stores it as JSON). */
export interface JobData {
  readonly v: typeof wireVersion;
  /** The task's name and portable module reference (see core/registry.ts). */
  readonly task: string;
  readonly module: string;
  /** The invocation's key and attempt, handed to the task's context. */
  readonly key: string;
  readonly attempt: number;
  readonly input: EncodedValue;
  /** The reply stream's Redis key. */
  readonly reply: string;
  /** The task has a timeout: the worker writes a `started` reply at once, which starts the orchestrator's clock. */
  readonly timed: boolean;
  /** The run the invocation belongs to, for large outputs; absent outside a run. */
  readonly runId?: string;
}

/**
 * One entry of a reply stream. Workers write `started`, `progress` and `outcome`; an
 * orchestrator writes `cancelled` on a run's stream when it stops waiting for a job (an
 * abort, its close), so that a resumed run adds that attempt as a new job rather than
 * re-attaching to the one being cancelled. Workers never read replies.
 */
export type Reply =
  | { readonly type: 'started'; readonly job: string }
  | { readonly type: 'progress'; readonly job: string; readonly value: unknown }
  | ({ readonly type: 'outcome'; readonly job: string } & Outcome)
  | { readonly type: 'cancelled'; readonly job: string };

/**
 * How a job ended. `progress`: how many progress replies came before it, so that the
 * orchestrator can wait for them all. `startedAt` (ms since the epoch) and `durationMs`
 * measure the attempt where it ran; -1 when it never started.
 */
export type Outcome = (
  | { readonly ok: true; readonly value: EncodedValue }
  | { readonly ok: false; readonly error: WireError }
) & { readonly startedAt: number; readonly durationMs: number; readonly progress: number };

/** A request to abort jobs, published on the cancel channel to every worker. */
export interface CancelMessage {
  readonly jobs: readonly string[];
  readonly reason: WireError;
  /**
   * When the cancel was sent, in ms since the epoch by the orchestrator's clock (which
   * also set the jobs' BullMQ `timestamp`). A job of the same id added after it (a
   * resumed run adding the attempt again) is not cancelled by it: a worker skips or
   * aborts a job only when `job.timestamp <= at`. Absent: the job, whenever added.
   */
  readonly at?: number;
}

/** Names of the Redis keys weft adds beside a BullMQ queue's own. */
export function keysOf(prefix: string, queue: string) {
  const base = `${prefix}:${queue}:weft`;
  const replies = `${base}:replies:`;
  return {
    /** Pub/sub channel of {@link CancelMessage}s. */
    cancel: `${base}:cancel`,
    /** What every reply stream of the queue starts with: a job naming another is refused. */
    replies,
    /** The reply stream of run `runId`. */
    runReplies: (runId: string) => `${replies}run:${digest(runId, 32)}`,
    /** The reply stream of one executor outside a run. */
    ownReplies: (executorId: string) => `${replies}own:${executorId}`,
  };
}

/** A random id for one executor (its own reply stream and its job ids outside a run). */
export function newExecutorId(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * The job id of one attempt. In a run: `r-` and a digest of the run id, when the run was
 * created, the key and the attempt, the same in every process that resumes the run
 * (BullMQ ids may not hold ':' nor be all digits, and keys hold anything). The creation
 * time tells apart a new run that reuses a run id (a memory store opens every run anew):
 * its jobs never meet the jobs BullMQ keeps of the earlier one. Outside a run: the
 * executor's id and a sequence number.
 */
export function jobIdFor(
  at:
    | {
        readonly runId: string;
        /** The run record's `createdAt`: the same across resumes, new for a new run. */
        readonly createdAt: number;
        readonly key: string;
        readonly attempt: number;
      }
    | {
        readonly executorId: string;
        readonly sequence: number;
      },
): string {
  if ('runId' in at) {
    return `r-${digest(`${at.runId}\0${at.createdAt}\0${at.key}\0${at.attempt}`, 43)}`;
  }
  return `x-${at.executorId}-${at.sequence}`;
}

function digest(text: string, length: number): string {
  // UTF-16 code units, so that keys differing only in lone surrogates (which UTF-8 would
  // turn into the same U+FFFD) get different ids.
  return createHash('sha256').update(text, 'utf16le').digest('base64url').slice(0, length);
}

/** Where {@link encodeValue} puts a value too large for Redis. */
export interface LargeValueTarget {
  /** The run store, or undefined outside a run. */
  readonly store: Store | undefined;
  readonly runId: string | undefined;
  /** The artifact key to store it under, e.g. `bullmq/<job id>/input`. */
  readonly artifact: string;
  /** Bytes above which the value goes to the store. */
  readonly threshold: number;
  /** Says what the value is and where, in errors: `Task 'resize' (run-7/map:resize/3) input`. */
  readonly what: string;
}

/** Store kinds that other machines cannot read: a large value there would never arrive. */
const localStoreKinds = new Set(['memory', 'sqlite']);

/** True for a store other machines can read too (PostgreSQL), false for memory and SQLite. */
export function isSharedStore(store: Store): boolean {
  return !localStoreKinds.has(store.kind);
}

/**
 * How long a reply stream lives after its last use, in seconds: an orchestrator that died
 * and is never resumed leaves it behind, and it goes by itself.
 */
export const replyStreamTtlSeconds = 7 * 24 * 60 * 60;

/**
 * True when `text` is at most `threshold` bytes in UTF-8 whatever it holds, without
 * counting them: a character takes at most 3 bytes (a surrogate pair, 2 characters, 4).
 * False says only that the bytes must be counted.
 */
export function surelyFits(text: string, threshold: number): boolean {
  return text.length * 3 <= threshold;
}

/**
 * Encodes a value for a job or a reply: inline when its text is at most `threshold`
 * bytes, else as an artifact of the run.
 * @throws SerializationError naming `what` when the serializer refuses the value
 * @throws ValidationError (code `WEFT_STORE_NOT_SHARED`) when the value is large and there
 *   is no run store, or it is one other machines cannot read (memory, SQLite)
 */
export async function encodeValue(value: unknown, target: LargeValueTarget): Promise<EncodedValue> {
  return encodeText(defaultSerializer.encode(value, target.what), target);
}

/**
 * {@link encodeValue} of a value the serializer turned into `text` already.
 * @throws ValidationError as {@link encodeValue} does
 */
export async function encodeText(text: string, target: LargeValueTarget): Promise<EncodedValue> {
  if (surelyFits(text, target.threshold)) return { text };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= target.threshold) return { text };
  const { store, runId } = target;
  if (store === undefined || runId === undefined || !isSharedStore(store)) {
    const { LargeValueError } = await import('./errors.ts');
    throw new LargeValueError(target.what, bytes, target.threshold, store);
  }
  await store.putArtifact(runId, target.artifact, Buffer.from(text, 'utf8'));
  return { runId, artifact: target.artifact, bytes };
}

/**
 * Decodes a value {@link encodeValue} made. `store` is where large values are read from:
 * the orchestrator's run store, or the worker's `--store`.
 * @throws ValidationError when the value is an artifact and there is no store, or the
 *   store does not hold it
 */
export async function decodeValue(
  encoded: EncodedValue,
  store: Store | undefined,
): Promise<unknown> {
  if ('text' in encoded) return defaultSerializer.decode(encoded.text);
  const { MissingLargeValueError } = await import('./errors.ts');
  if (store === undefined) throw new MissingLargeValueError(encoded, undefined);
  const bytes = await store.getArtifact(encoded.runId, encoded.artifact);
  if (bytes === undefined) throw new MissingLargeValueError(encoded, store);
  return defaultSerializer.decode(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  );
}

/** The fields of one reply stream entry: `r` holds the reply as JSON. */
export function replyFields(reply: Reply): [string, string] {
  return ['r', JSON.stringify(reply)];
}

/**
 * Reads one reply stream entry's fields (`[name, value, name, value…]` as XREAD returns
 * them), or undefined for an entry that is not a reply of this format (read from a stream
 * others may write, it is skipped rather than trusted).
 */
export function readReply(fields: readonly string[]): Reply | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'r') continue;
    try {
      const reply = JSON.parse(fields[i + 1]!) as Reply;
      if (typeof reply === 'object' && reply !== null && typeof reply.job === 'string') {
        if (
          reply.type === 'started' ||
          reply.type === 'progress' ||
          reply.type === 'outcome' ||
          reply.type === 'cancelled'
        )
          return reply;
      }
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The error of an outcome that failed, rebuilt with its name, code, message and cause. */
export function outcomeError(outcome: Extract<Outcome, { ok: false }>): Error {
  return fromWire(outcome.error);
}

/** Reads a job's data, refusing data of another format or version with a message saying which. */
export function readJobData(data: unknown): JobData {
  const job = data as Partial<JobData> | null;
  if (
    typeof job !== 'object' ||
    job === null ||
    typeof job.task !== 'string' ||
    typeof job.module !== 'string' ||
    typeof job.key !== 'string' ||
    typeof job.attempt !== 'number' ||
    typeof job.reply !== 'string' ||
    typeof job.input !== 'object' ||
    job.input === null
  ) {
    throw new TypeError(
      'This job was not added by a weft bullmq executor (its data lacks task, module, key, attempt, input or reply): ' +
        'give weft workers a queue of their own.',
    );
  }
  if (job.v !== wireVersion) {
    throw new TypeError(
      `This job was added by a weft of wire version ${String(job.v)}, and this worker speaks version ${wireVersion}: ` +
        'run the same weftjs version on every machine.',
    );
  }
  return job as JobData;
}
