/**
 * Writes task records in groups. Records arriving while a write is under way wait for
 * the next one, so a busy run writes many records per transaction (group commit) and an
 * idle one writes at once. A task counts as finished only when its record is written:
 * a crash then re-executes at most the tasks that were in flight.
 */
import { isWeftError, SerializationError } from './errors.ts';
import { isStringTooLong } from './serializer.ts';
import type { Store, TaskRecord } from './store.ts';

/** Records of a group that could not be written, by key, with the reason. */
export type RecordFailures = ReadonlyMap<string, unknown>;

/**
 * Hears when the group of a record given to {@link Recorder.recordThen} is written, with
 * the token given with it: one listener serves every record of a fan-out, so a record
 * costs no callback objects.
 */
export interface RecordListener {
  written(token: unknown, failures: RecordFailures): void;
  failed(token: unknown, error: unknown): void;
}

const none: RecordFailures = new Map();

export class Recorder {
  readonly #store: Store;
  readonly #runId: string;
  #owner: string | undefined;
  #pending: TaskRecord[] = [];
  /** Listeners of the pending records given to {@link recordThen}, told once their group is written. */
  #listeners: RecordListener[] = [];
  /** Their tokens, in the same order. */
  #tokens: unknown[] = [];
  /** The write of the records of this turn, scheduled for when this turn ends or there is room. */
  #scheduled: Promise<void> | undefined;
  /** Groups being written, oldest first. */
  readonly #writing: Promise<unknown>[] = [];
  /**
   * How many groups may be written at once: two when the store applies writes in the order
   * made, so that a group is on its way while the last one commits (a store with a writer
   * thread otherwise waits a round trip between groups); else one.
   */
  readonly #maxWriting: number;

  /**
   * @param owner the run's lease holder: the store writes only while it holds the run, so
   *   that a process whose run was taken over cannot overwrite the new owner's records
   */
  constructor(store: Store, runId: string, owner?: string) {
    this.#store = store;
    this.#runId = runId;
    this.#owner = owner;
    this.#maxWriting = store.writesInOrder === true ? 2 : 1;
  }

  /**
   * Queues a record. The promise settles when its group is written, with the records
   * of the group that could not be stored (an output the serializer refuses); it
   * rejects when the store itself failed, or refused the write because the run was taken
   * over (a RunBusyError: the run stops as when its lease is lost).
   */
  record(record: TaskRecord): Promise<RecordFailures> {
    return new Promise((resolve, reject) => {
      this.recordThen(record, settles, { resolve, reject });
    });
  }

  /**
   * As {@link record}, with a listener instead of a promise: a fan-out records every task,
   * and a promise reaction per task costs more than the record's whole encoding.
   * @param groupSize once this many records wait, they are written at once (when there
   *   is room among the writes under way) rather than when this turn ends: a fan-out gives
   *   its concurrency, so that its tasks run on while a group of at most that many commits
   */
  recordThen(
    record: TaskRecord,
    listener: RecordListener,
    token: unknown,
    groupSize = Number.POSITIVE_INFINITY,
  ): void {
    this.#pending.push(record);
    this.#listeners.push(listener);
    this.#tokens.push(token);
    if (this.#pending.length >= groupSize && this.#writing.length < this.#maxWriting) {
      this.#writeGroup();
      return;
    }
    this.#scheduled ??= this.#writeLater();
  }

  /**
   * Stops fencing by owner: the run ended and its owner released it, so nobody holds it.
   * Records made after (a damaged artifact found by reading a finished run's results) are
   * written as direct store writes are.
   */
  released(): void {
    this.#owner = undefined;
  }

  /** Settles when everything recorded so far is written. */
  async flush(): Promise<void> {
    while (this.#scheduled || this.#writing.length > 0) {
      await (this.#scheduled ?? this.#writing[0])?.catch(() => {});
    }
  }

  /** Writes what waits once this turn ends and there is room among the writes under way. */
  async #writeLater(): Promise<void> {
    // This turn's records join the group.
    await Promise.resolve();
    while (this.#writing.length >= this.#maxWriting) await this.#writing[0]!.catch(() => {});
    this.#scheduled = undefined;
    if (this.#pending.length > 0) this.#writeGroup();
  }

  /** Starts writing the records waiting, as one group; tells their listeners when done. */
  #writeGroup(): void {
    const group = this.#pending;
    const listeners = this.#listeners;
    const tokens = this.#tokens;
    this.#pending = [];
    this.#listeners = [];
    this.#tokens = [];
    const writing = this.#write(group);
    this.#writing.push(writing);
    const done = () => this.#writing.splice(this.#writing.indexOf(writing), 1);
    writing.then(
      (failures) => {
        done();
        for (let i = 0; i < listeners.length; i++) {
          try {
            listeners[i]!.written(tokens[i], failures);
          } catch (error) {
            rethrowApart(error);
          }
        }
      },
      (error: unknown) => {
        done();
        for (let i = 0; i < listeners.length; i++) {
          try {
            listeners[i]!.failed(tokens[i], error);
          } catch (thrown) {
            rethrowApart(thrown);
          }
        }
      },
    );
  }

  async #write(group: TaskRecord[]): Promise<RecordFailures> {
    try {
      await this.#store.recordTasks(this.#runId, group, this.#owner);
      return none;
    } catch (error) {
      if (!isRecordFailure(error)) throw error;
      if (group.length === 1)
        return new Map([[group[0]!.key, asSerializationError(error, group[0]!)]]);
    }
    // One output could not be stored: write the others one by one to find it.
    const failures = new Map<string, unknown>();
    for (const record of group) {
      try {
        await this.#store.recordTasks(this.#runId, [record], this.#owner);
      } catch (error) {
        if (!isRecordFailure(error)) throw error;
        failures.set(record.key, asSerializationError(error, record));
      }
    }
    return failures;
  }
}

/** Settles the promise of {@link Recorder.record}, its token. */
const settles: RecordListener = {
  written: (token, failures) => (token as Settle).resolve(failures),
  failed: (token, error) => (token as Settle).reject(error),
};

interface Settle {
  resolve(failures: RecordFailures): void;
  reject(error: unknown): void;
}

/** What a listener throws is thrown apart, as a failed promise reaction would be. */
function rethrowApart(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * A failure of one record, not of the store: an output the serializer refused, or one
 * so large that a string holding it could not be made (a RangeError that a driver, not
 * the serializer, may throw), which fails its task alone.
 */
function isRecordFailure(error: unknown): boolean {
  return isWeftError(error, 'WEFT_SERIALIZATION') || isStringTooLong(error);
}

function asSerializationError(error: unknown, record: TaskRecord): unknown {
  if (!isStringTooLong(error)) return error;
  return new SerializationError(
    `Task output for key '${record.key}' cannot be stored: it is too large for one string ` +
      `(${(error as Error).message}). Return less data, or write it to a file and return the path.`,
    { cause: error },
  );
}
