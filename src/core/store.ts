/**
 * The run store contract. A store records runs, the tasks of each run (by their
 * deterministic keys, with status, attempts, timings and output or error), state
 * checkpoints (Burr-style persisters), artifacts (laminar shards, large outputs) and
 * events. Running again with the same run id reads the completed tasks back, so they
 * are not executed again: that is resume. Implementations live in `src/stores`; every
 * one passes the shared store conformance suite.
 */
import type { WireError } from './errors.ts';
import type { WeftEvent } from './events.ts';

/** Where a run stands. */
export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';

/** One run, as recorded. */
export interface RunRecord {
  readonly id: string;
  readonly status: RunStatus;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** How many times the run was opened: 1, then one more per resume. */
  readonly attempts: number;
  /** Free-form facts about the run (the file it ran, the executor, …), kept as given. */
  readonly meta: Readonly<Record<string, unknown>>;
  /** Why the run failed, when it did. */
  readonly error?: WireError;
  /** Who holds the run's lease (see {@link OpenRunOptions.owner}); absent once released. */
  readonly owner?: string;
  /**
   * When the holder's lease ends unless renewed, in milliseconds since the epoch, by the
   * store's clock (PostgreSQL: the server's).
   */
  readonly leaseExpiresAt?: number;
}

/**
 * Options of {@link Store.openRun}. A run has one live owner at a time: opening takes a
 * lease on it, atomically, which the owner renews ({@link Store.renewLease}) and
 * releases when it finishes ({@link Store.finishRun}). Another owner is refused while the
 * lease lasts; once it expired (its process or machine died) anyone may open the run.
 */
export interface OpenRunOptions {
  /**
   * Who opens the run, an opaque token unique to one process (weft uses
   * `host:pid:random`). The owner holding the lease may open the run again.
   * @default a token unique to this store object
   */
  readonly owner?: string;
  /**
   * How long the lease lasts without renewal, in milliseconds.
   * @default 30000
   */
  readonly leaseMs?: number;
  /**
   * Takes the run over from this owner even though its lease has not expired: it is known
   * to be dead, or the user said so. Only that owner's lease is taken: when another owner
   * took the run meanwhile, the open is refused as usual.
   */
  readonly takeOverFrom?: string;
}

/** How long a run's lease lasts without renewal when openRun is not told. */
export const defaultLeaseMs = 30_000;

/** Options of {@link Store.streamTasks}. */
export interface StreamTasksOptions {
  /** Read each completed task's output too. @default true */
  readonly outputs?: boolean;
}

/** What a finished task instance leaves behind. */
export interface TaskRecord {
  /** Deterministic key, unique within the run. */
  readonly key: string;
  /** Task name. */
  readonly task: string;
  readonly status: 'completed' | 'failed';
  /** Attempts made, retries included. */
  readonly attempts: number;
  /** When a worker (or slot) started the last attempt, in milliseconds since the epoch. */
  readonly startedAt: number;
  /** How long the last attempt ran, its wait for a worker left out. */
  readonly durationMs: number;
  /**
   * How long the last attempt waited in its executor's queue, from the hand-over to its
   * start, in milliseconds. Stores read back 0 for records written without it.
   * @default 0
   */
  readonly queuedMs?: number;
  /** The output of a completed task (any value the store's serializer accepts). */
  readonly output?: unknown;
  /** The error of a failed task. */
  readonly error?: WireError;
  /**
   * Artifacts the task wrote, stored by {@link Store.recordTasks} in the same transaction
   * as the record: they are durable exactly when the task is. Read back with
   * {@link Store.getArtifact}, never returned with the record.
   */
  readonly artifacts?: readonly ArtifactWrite[];
}

/** An artifact to store: bytes under a key of the run (replacing what was there). */
export interface ArtifactWrite {
  readonly key: string;
  readonly data: Uint8Array;
}

/** A saved application state (Burr persisters). */
export interface Checkpoint {
  readonly appId: string;
  /** Groups applications, e.g. by user. Empty string for none. */
  readonly partitionKey: string;
  /** Step counter of the application when saved. */
  readonly sequenceId: number;
  /** The action the application is at. */
  readonly position: string;
  readonly state: Readonly<Record<string, unknown>>;
  readonly status: 'completed' | 'failed';
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** Options of {@link Store.listRuns}. */
export interface ListRunsOptions {
  /** Most runs returned, newest first. @default 50 */
  readonly limit?: number;
  /** Only runs with this recorded status. */
  readonly status?: RunStatus;
  /**
   * Only runs whose id or meta holds this text. Taken literally (`%`, `_` and `\` are not
   * patterns); the letters A to Z match either case, other letters only as written, so
   * that every store and database collation answers alike. The meta is searched as the
   * serializer stores it, where a string is written in JSON's escapes: a quote, a
   * backslash or a NUL in a meta string is found as typed, and so are the meta's keys and
   * numbers. The empty text matches every run.
   * @example { search: 'nightly' }
   */
  readonly search?: string;
  /**
   * Only runs older than this one, given as the `cursor` of the last run of the page
   * before (newest first, ties broken by the order of creation): read on from there.
   * A cursor naming a run the store does not hold reads on from the runs created before
   * its `createdAt`.
   * @example { before: { createdAt: last.createdAt, id: last.id } }
   */
  readonly before?: RunCursor;
}

/** Where a page of runs ended: see {@link ListRunsOptions.before}. */
export interface RunCursor {
  /** The `createdAt` of the last run of the page. */
  readonly createdAt: number;
  /** The `id` of the last run of the page. */
  readonly id: string;
}

/** Options of {@link RunQueries.taskPage}. */
export interface TaskPageOptions {
  /**
   * Most records returned; a larger limit reads 1,000 (10,000 in order 'slowest', which
   * comes in one page). @default 100
   */
  readonly limit?: number;
  /** Only tasks with this status. */
  readonly status?: 'completed' | 'failed';
  /** Only tasks of this name. */
  readonly task?: string;
  /**
   * Only tasks whose key starts with this text (a fan-out's scope and `/`); see
   * {@link RunQueries.countTasksByPrefix} for the keys a prefix does not find.
   */
  readonly keyPrefix?: string;
  /**
   * Records after this position, from the `next` of the page before (order `recorded`
   * only).
   * @default 0, from the first
   */
  readonly after?: number;
  /**
   * Order: as first recorded, or the longest first (ties in the order recorded).
   * @default 'recorded'
   */
  readonly order?: 'recorded' | 'slowest';
}

/** A page of task records, without outputs: see {@link RunQueries.taskPage}. */
export interface TaskPage {
  readonly tasks: readonly TaskRecord[];
  /** Give as `after` to read on; absent on the last page (and for `order: 'slowest'`). */
  readonly next?: number;
}

/** Counts and times of a run's tasks of one name. */
export interface TaskNameSummary {
  readonly task: string;
  readonly completed: number;
  readonly failed: number;
  /** Sum and largest of their durations. */
  readonly totalMs: number;
  readonly maxMs: number;
  /** Earliest start and latest end (`startedAt + durationMs`). */
  readonly firstStartedAt: number;
  readonly lastEndedAt: number;
}

/** How many of a run's tasks (or of a part of it) completed and how many failed. */
export interface TaskCounts {
  readonly completed: number;
  readonly failed: number;
}

/**
 * What a store answers fast for a viewer of runs (`weft ui`): pages and sums computed by
 * the store, so that a run of 100,000 tasks is shown without reading them all. Optional:
 * a viewer falls back on {@link Store.streamTasks} for a store without them.
 *
 * A run the store does not hold is a run without tasks or events: the answers are empty
 * (or zeros), never an error. Arguments that are not what the types say reject with a
 * ValidationError (`WEFT_VALIDATION`).
 */
export interface RunQueries {
  /**
   * Completed and failed tasks of each run asked, by run id; a run without tasks is
   * absent. Any number of ids (stores split long lists).
   */
  countTasks(runIds: readonly string[]): Promise<Map<string, TaskCounts>>;
  /** Runs matching the filters of `options` (its `limit` and `before` ignored). */
  countRuns(options?: ListRunsOptions): Promise<number>;
  /** Per task name, in order of name (by UTF-16 code unit, as `Array.prototype.sort`). */
  summarizeTasks(runId: string): Promise<TaskNameSummary[]>;
  /**
   * Completed and failed tasks whose key starts with each prefix, in the order asked. The
   * empty prefix counts every task. A key too long for the database's index, which a SQL
   * store keeps by its digest (PostgreSQL: over 1,024 bytes of UTF-8; the memory and
   * SQLite stores keep every key whole), is counted under no other prefix: the digest
   * keeps no prefix of the key.
   */
  countTasksByPrefix(runId: string, prefixes: readonly string[]): Promise<TaskCounts[]>;
  /** A page of the run's task records, without outputs (errors included). */
  taskPage(runId: string, options?: TaskPageOptions): Promise<TaskPage>;
  /**
   * How many tasks of the run ended in each of `buckets` equal spans of [from, to) (by
   * `startedAt + durationMs`; those outside go to the first or last). Bucket `i` holds
   * the ends `e` with `floor((e - from) * buckets / (to - from))` equal to `i`, computed
   * in doubles, so that every store puts an end on a span's edge in the same bucket.
   * @param from where the first span starts, at most `to` (when equal, the ends before
   *   `from` go to the first bucket and the others to the last)
   * @param buckets a whole number from 1 to 10,000
   */
  taskEndHistogram(runId: string, from: number, to: number, buckets: number): Promise<number[]>;
  /**
   * The run's events stored after position `after` (0: from the first), in order, at most
   * `limit` (default 1,000), each with its position: a number that only grows, for the
   * `after` of the next call (not a count: positions of a run may have gaps).
   */
  eventsAfter(
    runId: string,
    after: number,
    limit?: number,
  ): Promise<{ position: number; event: WeftEvent }[]>;
}

/** A run store. Stores are safe to share between fan-outs of one process. */
export interface Store {
  /** `memory`, `sqlite` or `postgres`. */
  readonly kind: string;
  /** Where the store lives, with any password hidden. */
  readonly location: string;
  /**
   * The folder where the store keeps large artifacts as files beside itself (SQLite: values
   * over its threshold, content-addressed), so that messages about a lost artifact name it;
   * absent when every artifact lives in the store.
   */
  readonly artifactsLocation?: string | undefined;
  /**
   * True when writes are applied in the order they were made even while several are under
   * way (one connection, or one writer thread, takes them one after another), so that a run
   * may send the next group of records before the last one is committed.
   */
  readonly writesInOrder?: boolean;

  /**
   * Opens a run and takes its lease: creates it, or reopens it for resume (status back to
   * running, attempts + 1).
   * @throws RunBusyError (`WEFT_RUN_BUSY`) while another owner's lease on the run lasts
   * @throws ValidationError for a run id holding a NUL or a lone surrogate, or over 1,024
   *   bytes of UTF-8
   */
  openRun(
    id: string,
    meta?: Readonly<Record<string, unknown>>,
    options?: OpenRunOptions,
  ): Promise<RunRecord>;
  /**
   * Extends `owner`'s lease on the run to `leaseMs` from now.
   * @returns false when `owner` no longer holds the run (it was taken over or finished)
   */
  renewLease(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Marks a run finished and releases its lease. With `owner`, nothing changes when
   * another owner holds the run now (it was taken over).
   */
  finishRun(
    id: string,
    status: Exclude<RunStatus, 'running'>,
    error?: WireError,
    owner?: string,
  ): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Runs, newest first (filtered and paged by `options`). */
  listRuns(options?: ListRunsOptions): Promise<RunRecord[]>;

  /**
   * Records finished tasks of a run, in one write. A later record of the same key
   * replaces the earlier one (a failed task that completes on resume).
   * @param owner writes only while this owner holds the run's lease, checked atomically
   *   with the write, so that a process whose run was taken over cannot overwrite the new
   *   owner's records; without it, writes whoever holds the run
   * @throws SerializationError naming the key when an output cannot be stored
   * @throws RunBusyError (`WEFT_RUN_BUSY`), naming the holder, when `owner` no longer
   *   holds the run; nothing is written then
   */
  recordTasks(runId: string, records: readonly TaskRecord[], owner?: string): Promise<void>;
  /**
   * Outputs of all the run's completed tasks, by key. Holds every output in memory at once:
   * resume uses {@link Store.findCompleted} instead.
   */
  completedOutputs(runId: string): Promise<Map<string, unknown>>;
  /**
   * The outputs of those of `keys` that completed in the run, by key: what resume skips.
   * Keys that did not complete are absent. Any number of keys (stores split long lists).
   */
  findCompleted(runId: string, keys: readonly string[]): Promise<Map<string, unknown>>;
  /** How many tasks of the run completed. */
  countCompleted(runId: string): Promise<number>;
  /** Every task record of the run, in the order first recorded. */
  listTasks(runId: string): Promise<TaskRecord[]>;
  /**
   * Every task record of the run, in the order first recorded, read a page at a time, so
   * that a run of any size is read in bounded memory.
   */
  streamTasks(runId: string, options?: StreamTasksOptions): AsyncIterable<TaskRecord>;

  /** Saves an application state. */
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** The latest checkpoint of an application, or the one with `sequenceId`. */
  loadCheckpoint(
    appId: string,
    partitionKey?: string,
    sequenceId?: number,
  ): Promise<Checkpoint | undefined>;

  /** Stores bytes under a key of a run (replacing what was there). */
  putArtifact(runId: string, key: string, data: Uint8Array): Promise<void>;
  getArtifact(runId: string, key: string): Promise<Uint8Array | undefined>;
  /**
   * The bytes of many artifacts of a run at once, as {@link Store.getArtifact} reads each:
   * one answer per key, in the order asked, undefined for a key the run holds nothing
   * under (a key asked twice is answered twice). Any number of keys: stores split long
   * lists into statements of their own size. Optional: a caller reads key by key with
   * `getArtifact` from a store without it.
   * @example
   * const [first, second] = await store.getArtifacts?.(runId, ['shard/0', 'shard/1']) ?? [];
   * @throws ValidationError for a key that is not a non-empty string
   */
  getArtifacts?(runId: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * The keys of the run's artifacts (those starting with `prefix`), each once, in no
   * particular order, exactly as stored: what is there, without reading it. Read a page
   * at a time, so that a run of any size is listed in bounded memory.
   */
  artifactKeys(runId: string, prefix?: string): AsyncIterable<string>;

  /** Appends events of a run. */
  appendEvents(runId: string, events: readonly WeftEvent[]): Promise<void>;
  /** The run's events, in the order appended. */
  listEvents(runId: string): Promise<WeftEvent[]>;

  /** Fast answers for viewers of runs; see {@link RunQueries}. Optional. */
  readonly queries?: RunQueries;

  /** Releases connections and files. */
  close(): Promise<void>;
}
