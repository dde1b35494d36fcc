/**
 * Between weft's records and SQL rows, the same for both SQL stores: values (outputs,
 * states, meta, events) become text through the store's serializer; errors become JSON of
 * their wire form, readable by any SQL client. Everything is encoded before a write
 * transaction opens, so a value that cannot be stored rejects the whole write and leaves
 * the database as it was. Keys go through the key codec (key-codec.ts) here and nowhere
 * else, so that every key round-trips exactly.
 */
import { ValidationError, type WireError } from '../../core/errors.ts';
import type { WeftEvent } from '../../core/events.ts';
import type { Serializer } from '../../core/serializer.ts';
import type { Checkpoint, RunRecord, RunStatus, TaskRecord } from '../../core/store.ts';
import { checkArtifactWrites, checkCheckpoint, checkTaskRecord } from '../validate.ts';
import { isDigest, isPlainKey, keyFromStored, storedKey } from './key-codec.ts';

/**
 * What a lookup of completed keys answers for each key asked, in the order asked: the
 * stored output (text, or null) of a key that completed, a number for one that did not.
 */
export type LookedUp = string | null | number;

/** A `runs` row as read. */
export type RunRow = {
  readonly id: string;
  readonly status: string;
  readonly created_at: number;
  readonly updated_at: number;
  readonly attempts: number;
  readonly meta: string;
  readonly error: string | null;
  readonly owner: string | null;
  readonly lease_expires_at: number | null;
};

/**
 * An `artifacts` row as listed: its stored key, the full form beside a digest, and the
 * blob that holds its bytes when they are a file.
 */
export type ArtifactKeyRow = {
  readonly key: string;
  readonly full_key: string | null;
  readonly blob: string | null;
};

/** An `artifacts` row as read: its bytes, or (empty bytes and) the blob holding them. */
export type ArtifactRow = {
  readonly data: Uint8Array;
  readonly blob: string | null;
};

/**
 * The values of one artifact, in the order of the artifact columns (queries.ts) from `key`
 * on: the run id is added by the store. A store that keeps large artifacts as files puts
 * the file's name in `blob` and empties `data`.
 */
export type ArtifactValues = [
  key: string,
  fullKey: string | null,
  data: Uint8Array,
  blob: string | null,
];

/** A `tasks` row as read. */
export type TaskRow = {
  readonly key: string;
  /** The key's full stored form when `key` holds its digest, else null. */
  readonly full_key: string | null;
  readonly task: string;
  readonly status: string;
  readonly attempts: number;
  readonly started_at: number;
  readonly duration_ms: number;
  readonly queued_ms: number;
  readonly output: string | null;
  readonly error: string | null;
};

/** A `checkpoints` row as read. */
export type CheckpointRow = {
  readonly app_id: string;
  readonly partition_key: string;
  readonly sequence_id: number;
  readonly position: string;
  readonly state: string;
  readonly status: string;
  readonly created_at: number;
};

/**
 * The values of one task record, in the order of `taskColumns` (queries.ts), from `key`
 * on: the run id and the sequence number are added by the store.
 */
export type TaskValues = readonly [
  key: string,
  fullKey: string | null,
  task: string,
  status: string,
  attempts: number,
  startedAt: number,
  durationMs: number,
  queuedMs: number,
  output: string | null,
  error: string | null,
];

/** How many values {@link TaskValues} holds. */
export const taskValueCount = 10;

/** The values of one checkpoint, in the order of the checkpoint columns (queries.ts). */
export type CheckpointValues = readonly [
  appId: string,
  partitionKey: string,
  sequenceId: number,
  position: string,
  state: string,
  status: string,
  createdAt: number,
];

/** Encodes and decodes the records of one store with its serializer. */
export class Codec {
  readonly #serializer: Serializer;
  readonly #maxKeyBytes: number;

  /**
   * @param maxKeyBytes the longest key, in bytes of UTF-8, that the database indexes as it
   *   is; longer ones are stored by digest
   */
  constructor(serializer: Serializer, maxKeyBytes: number) {
    this.#serializer = serializer;
    this.#maxKeyBytes = maxKeyBytes;
  }

  /** A key (of an artifact, an application, a partition) as bound. */
  key(key: string): string {
    return storedKey(key, this.#maxKeyBytes);
  }

  /**
   * The outputs of those of `keys` that completed, by key: `chunkSize` keys at a time,
   * each chunk given to `read` in its stored form, which answers for each key in order
   * (see {@link LookedUp}). Answers in order rather than rows naming keys, so that no key
   * is read back and matched with the key asked.
   */
  async findCompleted(
    keys: readonly string[],
    chunkSize: number,
    read: (stored: string[]) => Promise<readonly LookedUp[]> | readonly LookedUp[],
  ): Promise<Map<string, unknown>> {
    const outputs = new Map<string, unknown>();
    for (let start = 0; start < keys.length; start += chunkSize) {
      const end = Math.min(keys.length, start + chunkSize);
      const stored = new Array<string>(end - start);
      for (let i = start; i < end; i++) stored[i - start] = this.key(keys[i]!);
      const answers = await read(stored);
      for (let i = 0; i < answers.length; i++) {
        const answer = answers[i]!;
        if (typeof answer !== 'number') outputs.set(keys[start + i]!, this.output(answer));
      }
    }
    return outputs;
  }

  /** The task key of a row. */
  taskKey(row: Pick<TaskRow, 'key' | 'full_key'>): string {
    return keyFromStored(row.full_key ?? row.key);
  }

  /** An artifact key as bound: its stored form, and its full form beside a digest (else null). */
  artifactKey(key: string): [stored: string, full: string | null] {
    const stored = this.key(key);
    return [stored, isDigest(stored) ? storedKey(key) : null];
  }

  /**
   * The prefix a listing of artifact keys matches stored keys against; every key stored in
   * another form (starting with the key marker) is matched once decoded. A prefix that is
   * not plain matches any stored key: one ending in half an emoji starts plain keys too.
   */
  artifactPrefix(prefix: string): string {
    return isPlainKey(prefix) ? prefix : '';
  }

  /**
   * The key of a listed `artifacts` row, or undefined for a digest kept without its full
   * form (long keys that schema version 4 digested), which nothing can name.
   */
  artifactKeyOf(row: ArtifactKeyRow): string | undefined {
    if (row.full_key === null && isDigest(row.key)) return undefined;
    return keyFromStored(row.full_key ?? row.key);
  }

  /** A run's meta as stored. */
  meta(id: string, meta: Readonly<Record<string, unknown>>): string {
    return this.#serializer.encode({ ...meta }, `Run meta of '${id}'`);
  }

  /** Meta merged over the stored meta of a reopened run: later facts win. */
  mergeMeta(id: string, stored: string, meta: Readonly<Record<string, unknown>>): string {
    return this.meta(id, { ...(this.#serializer.decode(stored) as object), ...meta });
  }

  /**
   * Checks and encodes task records.
   * @throws ValidationError for a malformed record
   * @throws SerializationError naming the key when an output cannot be stored
   */
  tasks(runId: string, records: readonly TaskRecord[]): TaskValues[] {
    return records.map((record) => {
      checkTaskRecord(runId, record);
      const { key, task, status, attempts, startedAt, durationMs, queuedMs = 0 } = record;
      // Only a completed task has an output to resume from; a failed one keeps its error.
      const output =
        status === 'completed'
          ? this.#serializer.encode(record.output, `Task output for key '${key}'`)
          : null;
      const stored = this.key(key);
      return [
        stored,
        isDigest(stored) ? storedKey(key) : null,
        task,
        status,
        attempts,
        startedAt,
        durationMs,
        queuedMs,
        output,
        wire(record.error),
      ];
    });
  }

  /**
   * Checks the artifacts of task records and binds them: each key once (its last write,
   * as writes one by one would leave it), its bytes copied, so that what is stored is what
   * the records held when given, as with outputs.
   * @throws SerializationError naming the artifact and its task when one cannot be stored
   */
  artifacts(runId: string, records: readonly TaskRecord[]): ArtifactValues[] {
    let unique: Map<string, ArtifactValues> | undefined;
    for (const record of records) {
      const artifacts = checkArtifactWrites(runId, record);
      if (artifacts.length === 0) continue;
      unique ??= new Map();
      for (const { key, data } of artifacts) {
        const [stored, full] = this.artifactKey(key);
        unique.set(stored, [stored, full, Buffer.from(data), null]);
      }
    }
    return unique === undefined ? [] : [...unique.values()];
  }

  /**
   * Checks and encodes events.
   * @throws SerializationError naming the event when it cannot be stored
   */
  events(runId: string, events: readonly WeftEvent[]): string[] {
    return events.map((event, i) => {
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
        throw new ValidationError(`Event ${i} of run '${runId}' is not an event object.`);
      }
      return this.#serializer.encode(event, `Event ${i} ('${event.type}') of run '${runId}'`);
    });
  }

  /**
   * Checks and encodes a checkpoint.
   * @throws SerializationError naming the application when its state cannot be stored
   */
  checkpoint(checkpoint: Checkpoint): CheckpointValues {
    const { appId, partitionKey, sequenceId, position, status, createdAt } = checkpoint;
    checkCheckpoint(checkpoint);
    const state = this.#serializer.encode(
      checkpoint.state,
      `Checkpoint state of application '${appId}' (partition '${partitionKey}', sequence ${sequenceId})`,
    );
    return [
      this.key(appId),
      this.key(partitionKey),
      sequenceId,
      position,
      state,
      status,
      createdAt,
    ];
  }

  /** A run error as stored. */
  error(error: WireError | undefined): string | null {
    return wire(error);
  }

  run(row: RunRow): RunRecord {
    return {
      id: row.id,
      status: row.status as RunStatus,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      attempts: row.attempts,
      meta: this.#serializer.decode(row.meta) as Record<string, unknown>,
      ...(row.error === null ? {} : { error: JSON.parse(row.error) as WireError }),
      ...(row.owner === null
        ? {}
        : { owner: row.owner, leaseExpiresAt: Number(row.lease_expires_at) }),
    };
  }

  /** A task record; without its output when `withOutput` is false. */
  task(row: TaskRow, withOutput = true): TaskRecord {
    return {
      key: this.taskKey(row),
      task: row.task,
      status: row.status as TaskRecord['status'],
      attempts: row.attempts,
      startedAt: row.started_at,
      durationMs: row.duration_ms,
      queuedMs: row.queued_ms,
      ...(withOutput && row.status === 'completed' ? { output: this.output(row.output) } : {}),
      ...(row.error === null ? {} : { error: JSON.parse(row.error) as WireError }),
    };
  }

  /** A stored output; `undefined` for none. */
  output(text: string | null): unknown {
    return text === null ? undefined : this.#serializer.decode(text);
  }

  /** A checkpoint read by its application and partition (stored, perhaps, as digests). */
  checkpointOf(row: CheckpointRow, appId: string, partitionKey: string): Checkpoint {
    return {
      appId,
      partitionKey,
      sequenceId: row.sequence_id,
      position: row.position,
      state: this.#serializer.decode(row.state) as Record<string, unknown>,
      status: row.status as Checkpoint['status'],
      createdAt: row.created_at,
    };
  }

  event(text: string): WeftEvent {
    return this.#serializer.decode(text) as WeftEvent;
  }
}

function wire(error: WireError | undefined): string | null {
  return error === undefined ? null : JSON.stringify(error);
}

/** Bytes as both drivers bind them, without copying. */
export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A plain copy of bytes read back: drivers return Buffers, which may share a pool. */
export function fromBuffer(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}
