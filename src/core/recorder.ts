/**
 * Writes task records in groups. Records arriving while a write is under way wait for
 * the next one, so a busy run writes many records per transaction (group commit) and an
 * idle one writes at once. A task counts as finished only when its record is written:
 * a crash then re-executes at most the tasks that were in flight.
 */
import { isWeftError } from './errors.ts';
import type { Store, TaskRecord } from './store.ts';

/** Records of a group that could not be written, by key, with the reason. */
export type RecordFailures = ReadonlyMap<string, unknown>;

const none: RecordFailures = new Map();

export class Recorder {
  readonly #store: Store;
  readonly #runId: string;
  #pending: TaskRecord[] = [];
  #next: Promise<RecordFailures> | undefined;
  #writing: Promise<unknown> | undefined;

  constructor(store: Store, runId: string) {
    this.#store = store;
    this.#runId = runId;
  }

  /**
   * Queues a record. The promise settles when its group is written, with the records
   * of the group that could not be stored (an output the serializer refuses); it
   * rejects when the store itself failed.
   */
  record(record: TaskRecord): Promise<RecordFailures> {
    this.#pending.push(record);
    this.#next ??= this.#writeNextGroup();
    return this.#next;
  }

  /** Settles when everything recorded so far is written. */
  async flush(): Promise<void> {
    while (this.#next || this.#writing) {
      await (this.#next ?? this.#writing)?.catch(() => {});
    }
  }

  async #writeNextGroup(): Promise<RecordFailures> {
    // Let the write under way finish, and this turn's records join the group.
    if (this.#writing) await this.#writing.catch(() => {});
    else await Promise.resolve();
    const group = this.#pending;
    this.#pending = [];
    this.#next = undefined;
    const writing = this.#write(group);
    this.#writing = writing;
    try {
      return await writing;
    } finally {
      if (this.#writing === writing) this.#writing = undefined;
    }
  }

  async #write(group: TaskRecord[]): Promise<RecordFailures> {
    try {
      await this.#store.recordTasks(this.#runId, group);
      return none;
    } catch (error) {
      if (!isWeftError(error, 'WEFT_SERIALIZATION') || group.length === 1) {
        if (group.length === 1 && isWeftError(error, 'WEFT_SERIALIZATION')) {
          return new Map([[group[0]!.key, error]]);
        }
        throw error;
      }
    }
    // One output could not be stored: write the others one by one to find it.
    const failures = new Map<string, unknown>();
    for (const record of group) {
      try {
        await this.#store.recordTasks(this.#runId, [record]);
      } catch (error) {
        if (!isWeftError(error, 'WEFT_SERIALIZATION')) throw error;
        failures.set(record.key, error);
      }
    }
    return failures;
  }
}
