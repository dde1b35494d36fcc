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
  recordThen(record: TaskRecord, listener: RecordListener, token: unknown): void {
    this.#listeners.push(listener);
    this.#tokens.push(token);
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
    const listeners = this.#listeners;
    const tokens = this.#tokens;
    this.#pending = [];
    this.#listeners = [];
    this.#tokens = [];
    this.#next = undefined;
    const writing = this.#write(group);
    this.#writing.push(writing);
    let failures: RecordFailures;
    try {
      failures = await writing;
    } catch (error) {
      for (let i = 0; i < listeners.length; i++) {
        tell(() => listeners[i]!.failed(tokens[i], error));
      }
      throw error;
    } finally {
      this.#writing.splice(this.#writing.indexOf(writing), 1);
    }
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!.written(tokens[i], failures);
      } catch (error) {
        rethrowApart(error);
      }
    }
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

/** Calls a listener; what it throws is thrown apart, as a failed promise reaction would be. */
function tell(call: () => void): void {
  try {
    call();
  } catch (error) {
    rethrowApart(error);
  }
}

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
