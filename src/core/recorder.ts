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

interface GroupCallback {
  readonly written: (failures: RecordFailures) => void;
  readonly failed: (error: unknown) => void;
}

const none: RecordFailures = new Map();

export class Recorder {
  readonly #store: Store;
  readonly #runId: string;
  #owner: string | undefined;
  #pending: TaskRecord[] = [];
  /** Callbacks of the pending records given to {@link recordThen}, run once their group is written. */
  #callbacks: GroupCallback[] = [];
  #next: Promise<RecordFailures> | undefined;
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
    this.#pending.push(record);
    if (!this.#next) {
      this.#next = this.#writeNextGroup();
      // Callers of recordThen hear of a failure through their callbacks.
      this.#next.catch(() => {});
    }
    return this.#next;
  }

  /**
   * As {@link record}, with callbacks instead of a promise: a fan-out records every task,
   * and a promise reaction per task costs more than the record's whole encoding.
   */
  recordThen(
    record: TaskRecord,
    written: (failures: RecordFailures) => void,
    failed: (error: unknown) => void,
  ): void {
    this.#callbacks.push({ written, failed });
    this.record(record);
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
    while (this.#next || this.#writing.length > 0) {
      await (this.#next ?? this.#writing[0])?.catch(() => {});
    }
  }

  async #writeNextGroup(): Promise<RecordFailures> {
    // Wait for room among the writes under way; either way, this turn's records join the group.
    if (this.#writing.length >= this.#maxWriting) {
      while (this.#writing.length >= this.#maxWriting) await this.#writing[0]!.catch(() => {});
    } else await Promise.resolve();
    const group = this.#pending;
    const callbacks = this.#callbacks;
    this.#pending = [];
    this.#callbacks = [];
    this.#next = undefined;
    const writing = this.#write(group);
    this.#writing.push(writing);
    let failures: RecordFailures;
    try {
      failures = await writing;
    } catch (error) {
      for (const callback of callbacks) settle(callback.failed, error);
      throw error;
    } finally {
      this.#writing.splice(this.#writing.indexOf(writing), 1);
    }
    for (const callback of callbacks) settle(callback.written, failures);
    return failures;
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

/** Calls back; what a callback throws is thrown apart, as a failed promise reaction would be. */
function settle<T>(callback: (value: T) => void, value: T): void {
  try {
    callback(value);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
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
