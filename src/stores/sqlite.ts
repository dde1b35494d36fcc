/**
 * The SQLite store: weft's embedded default, one file (`.weft/weft.db` unless told
 * otherwise) on better-sqlite3. The file is in WAL mode, so readers never wait for the
 * writer, and several processes may share it: writes take SQLite's write lock at once
 * (`BEGIN IMMEDIATE`) and wait up to the busy timeout for another process to finish.
 *
 * Opening it reads the file before writing anything: a file that is not a SQLite
 * database, or a database that is not weft's, is refused with a StoreError and left
 * byte for byte as it was.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { RunBusyError, StoreError, type WireError } from '../core/errors.ts';
import type { WeftEvent } from '../core/events.ts';
import type { Serializer } from '../core/serializer.ts';
import type {
  Checkpoint,
  ListRunsOptions,
  OpenRunOptions,
  RunRecord,
  RunStatus,
  Store,
  StreamTasksOptions,
  TaskRecord,
} from '../core/store.ts';
import { FsArtifacts } from './fs-artifacts.ts';
import { defaultSerializer } from './serializer.ts';
import {
  type ArtifactKeyRow,
  type CheckpointRow,
  Codec,
  fromBuffer,
  type RunRow,
  type TaskRow,
  type TaskValues,
  toBuffer,
} from './sql/codec.ts';
import { sqliteDialect } from './sql/dialect.ts';
import { keyMarker } from './sql/key-codec.ts';
import { findCompletedJsonSql, type Queries, queriesFor, upsertTasksSql } from './sql/queries.ts';
import { sqliteError } from './sql/sqlite-errors.ts';
import { openDatabase, openDatabaseForReading } from './sql/sqlite-open.ts';
import {
  checkArray,
  checkBytes,
  checkFinishStatus,
  checkId,
  checkKeys,
  checkLeaseMs,
  checkLimit,
  checkMeta,
  checkOpenRunOptions,
  checkPrefix,
  checkRunId,
  type LeaseRequest,
  notHeld,
} from './validate.ts';

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /**
   * Turns outputs, states, meta and events into text and back.
   * @default defaultSerializer
   */
  readonly serializer?: Serializer;
  /**
   * How long a write waits for another process holding the file's write lock, in
   * milliseconds, before it fails with a StoreError.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Folder of the run artifacts (laminar shards, large outputs), one file per key, or
   * `null` to keep them in the database.
   * @default an `artifacts` folder beside the database file (in the database for `:memory:`)
   */
  readonly artifactsDir?: string | null;
}

type Statement = Database.Statement<unknown[], unknown>;
type Statements = { readonly [K in keyof Queries]: Statement };

/** Most task rows per upsert statement (1,280 parameters, far below SQLite's limit). */
const maxRowsPerUpsert = 128;
/** Keys per findCompleted statement, and task records per page of streamTasks. */
const keysPerLookup = 500;
const tasksPerPage = 1000;
/** Artifact keys per page of artifactKeys. */
const keysPerPage = 1000;

/**
 * A {@link Store} in a SQLite file.
 * @example
 * const store = await SqliteStore.open('.weft/weft.db');
 * await withRun({ store, runId: 'nightly' }, () => map(items, square));
 * await store.close();
 */
export class SqliteStore implements Store {
  /** Always `sqlite`. */
  readonly kind = 'sqlite';
  /** The absolute path of the file (or `:memory:`). */
  readonly location: string;
  /** The absolute path of the artifacts folder, or undefined when artifacts are in the database. */
  readonly artifactsLocation: string | undefined;

  #db: Database.Database | undefined;
  readonly #codec: Codec;
  readonly #sql: Statements;
  readonly #openRun: Database.Transaction<
    (id: string, metaText: string, meta: Record<string, unknown>, lease: LeaseRequest) => RunRow
  >;
  readonly #findCompleted: Statement;
  /** The owner of runs opened without one. */
  readonly #defaultOwner = `sqlite:${randomUUID()}`;
  readonly #recordTasks: Database.Transaction<
    (runId: string, rows: TaskValues[], owner: string | undefined) => void
  >;
  readonly #appendEvents: Database.Transaction<(runId: string, texts: string[]) => void>;
  readonly #putArtifact: Database.Transaction<
    (runId: string, key: readonly [string, string | null], data: Buffer) => void
  >;

  /**
   * Opens the file, creating it and its folder when missing, and brings weft's schema up
   * to date.
   * @param path A file path, relative to the working directory, or `:memory:`.
   * @throws StoreError when the file is not a SQLite database, belongs to something other
   *   than weft, was written by a newer weft, or cannot be opened; the file is left as it was
   */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const file = path === ':memory:' ? path : resolve(path);
    const db = await openDatabase(file, options.busyTimeoutMs ?? 5000);
    return SqliteStore.#over(db, file, options);
  }

  /**
   * Opens an existing store for reading only: creates no folder, no file and no table, and
   * changes nothing, so it also reads a file it may not write. Writes reject with a
   * StoreError.
   * @param path A file path, relative to the working directory.
   * @returns undefined when there is no weft store there yet (no file, or one without tables)
   * @throws StoreError when the file is not weft's, was written by another version of weft,
   *   or cannot be read
   */
  static async openExisting(
    path: string,
    options: SqliteStoreOptions = {},
  ): Promise<SqliteStore | undefined> {
    const file = resolve(path);
    if (path === ':memory:' || !existsSync(file)) return undefined;
    const db = await openDatabaseForReading(file);
    return db && SqliteStore.#over(db, file, options);
  }

  static #over(db: Database.Database, file: string, options: SqliteStoreOptions): SqliteStore {
  /** Writes go one after another, on one connection: a run may send the next before the last commits. */
  readonly writesInOrder = true;
    const artifactsDir =
      options.artifactsDir === undefined
        ? file === ':memory:'
          ? null
          : join(dirname(file), 'artifacts')
        : options.artifactsDir;
    return new SqliteStore(
      db,
      file,
      new Codec(options.serializer ?? defaultSerializer, sqliteDialect.maxKeyBytes),
      artifactsDir === null ? undefined : new FsArtifacts(resolve(artifactsDir)),
    );
  }

  readonly #files: FsArtifacts | undefined;

  private constructor(
    db: Database.Database,
    file: string,
    codec: Codec,
    files: FsArtifacts | undefined,
  ) {
    this.#db = db;
    this.#files = files;
    this.location = file;
    this.artifactsLocation = files?.dir;
    this.#codec = codec;
    const queries = queriesFor(sqliteDialect);
    this.#sql = Object.fromEntries(
      Object.entries(queries).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as unknown as Statements;
    const sql = this.#sql;

    this.#openRun = db.transaction(
      (id: string, metaText: string, meta: Record<string, unknown>, lease: LeaseRequest) => {
        const now = Date.now();
        const { owner, leaseMs, takeOverFrom } = lease;
        const row = sql.openRun.get(id, now, now, metaText, owner, leaseMs, takeOverFrom ?? null) as
          | RunRow
          | undefined;
        if (!row) {
          // The write lock is held: the holder cannot change before this transaction ends.
          const holder = sql.runHolder.get(id) as Pick<RunRow, 'owner' | 'lease_expires_at'>;
          throw new RunBusyError(id, holder.owner ?? '', holder.lease_expires_at ?? 0);
        }
        if (row.attempts === 1 || Object.keys(meta).length === 0) return row;
        const merged = codec.mergeMeta(id, row.meta, meta);
        sql.setMeta.run(merged, id);
        return { ...row, meta: merged };
      },
    );
    // Multi-row upserts by row count. A group is written in statements of 128, 64, 32, …
    // rows: one statement binds many rows (far cheaper than a run per row), and no more
    // than eight statements are ever prepared.
    const upserts = new Map<number, Statement>();
    this.#recordTasks = db.transaction((runId: string, rows: TaskValues[], owner?: string) => {
      if (owner === undefined) this.#requireRun(runId);
      else this.#requireOwner(runId, owner);
      let seq = (sql.lastTaskSeq.get(runId) as { seq: number }).seq;
      for (let start = 0; start < rows.length; ) {
        const count = Math.min(maxRowsPerUpsert, 2 ** Math.floor(Math.log2(rows.length - start)));
        let upsert = upserts.get(count);
        if (!upsert) {
          upsert = db.prepare(upsertTasksSql(sqliteDialect, count));
          upserts.set(count, upsert);
        }
        const params: unknown[] = [];
        for (const row of rows.slice(start, start + count)) params.push(runId, ...row, ++seq);
        upsert.run(params);
        start += count;
      }
    });
    this.#appendEvents = db.transaction((runId: string, texts: string[]) => {
      this.#requireRun(runId);
      for (const text of texts) sql.insertEvent.run(runId, text);
    });
    this.#findCompleted = db.prepare(findCompletedJsonSql);
    this.#putArtifact = db.transaction(
      (runId: string, [key, fullKey]: readonly [string, string | null], data: Buffer) => {
        this.#requireRun(runId);
        sql.putArtifact.run(runId, key, fullKey, data);
      },
    );
  }

  /**
   * Creates the run (attempts 1), or reopens it: status running, attempts + 1, meta
   * merged; either way takes its lease for `options.owner`, in one transaction.
   * @throws RunBusyError while another owner's lease on the run lasts
   */
  async openRun(
    id: string,
    meta: Readonly<Record<string, unknown>> = {},
    options: OpenRunOptions = {},
  ): Promise<RunRecord> {
    checkRunId(id);
    checkMeta(id, meta);
    const lease = checkOpenRunOptions(id, options, this.#defaultOwner);
    const metaText = this.#codec.meta(id, meta);
    const row = this.#use(`opening run '${id}'`, () =>
      this.#openRun.immediate(id, metaText, meta, lease),
    );
    return this.#codec.run(row);
  }

  /** Extends `owner`'s lease to `leaseMs` from now; false when `owner` no longer holds the run. */
  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    checkRunId(id);
    checkId(owner, `Owner of run '${id}'`);
    checkLeaseMs(id, leaseMs);
    const changes = this.#use(
      `renewing the lease of run '${id}'`,
      () => this.#sql.renewLease.run(leaseMs, id, owner).changes,
    );
    return changes > 0;
  }

  /**
   * Marks a run finished, with the error that ended it if any, and releases its lease.
   * With `owner`, does nothing when another owner holds the run (it was taken over).
   */
  async finishRun(
    id: string,
    status: Exclude<RunStatus, 'running'>,
    error?: WireError,
    owner?: string,
  ): Promise<void> {
    checkRunId(id);
    checkFinishStatus(id, status);
    if (owner !== undefined) checkId(owner, `Owner of run '${id}'`);
    const wire = this.#codec.error(error);
    const changes = this.#use(`finishing run '${id}'`, () =>
      owner === undefined
        ? this.#sql.finishRun.run(status, wire, Date.now(), id).changes
        : this.#sql.finishOwnedRun.run(status, wire, Date.now(), id, owner).changes,
    );
    if (changes === 0) this.#use(`finishing run '${id}'`, () => this.#requireRun(id));
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    checkRunId(id);
    const row = this.#use(`reading run '${id}'`, () => this.#sql.getRun.get(id)) as
      | RunRow
      | undefined;
    return row && this.#codec.run(row);
  }

  /** Runs, newest first (by creation time, then by order of creation). */
  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const limit = checkLimit(options.limit ?? 50);
    const rows = this.#use('listing runs', () => this.#sql.listRuns.all(limit)) as RunRow[];
    return rows.map((row) => this.#codec.run(row));
  }

  /**
   * Records finished tasks in one transaction. Every output is encoded first, so a batch
   * with an output that cannot be stored writes nothing.
   * With `owner`, writes only while that owner holds the run, checked in the same
   * transaction (which holds the write lock, so the holder cannot change meanwhile).
   * @throws SerializationError naming the key when an output cannot be stored
   * @throws RunBusyError when `owner` no longer holds the run
   */
  async recordTasks(runId: string, records: readonly TaskRecord[], owner?: string): Promise<void> {
    checkRunId(runId);
    checkArray(records, `Task records of run '${runId}'`);
    if (owner !== undefined) checkId(owner, `Owner of run '${runId}'`);
    const rows = this.#codec.tasks(runId, records);
    this.#use(`recording tasks of run '${runId}'`, () =>
      this.#recordTasks.immediate(runId, rows, owner),
    );
  }

  /** Outputs of the run's completed tasks, by key, in the order first recorded. */
  async completedOutputs(runId: string): Promise<Map<string, unknown>> {
    checkRunId(runId);
    const rows = this.#use(`reading outputs of run '${runId}'`, () =>
      this.#sql.completedOutputs.all(runId),
    ) as Pick<TaskRow, 'key' | 'full_key' | 'output'>[];
    return new Map(rows.map((row) => [this.#codec.taskKey(row), this.#codec.output(row.output)]));
  }

  /** The outputs of those of `keys` that completed in the run, by key. */
  async findCompleted(runId: string, keys: readonly string[]): Promise<Map<string, unknown>> {
    checkRunId(runId);
    checkKeys(runId, keys);
    return this.#codec.findCompleted(
      keys,
      keysPerLookup,
      (chunk) =>
        this.#use(`looking up completed tasks of run '${runId}'`, () =>
          // One value a row: no row object is built for each key.
          this.#findCompleted.pluck().all(JSON.stringify(chunk), runId),
        ) as (string | null | number)[],
    );
  }

  /** How many tasks of the run completed. */
  async countCompleted(runId: string): Promise<number> {
    checkRunId(runId);
    const row = this.#use(`counting completed tasks of run '${runId}'`, () =>
      this.#sql.countCompleted.get(runId),
    ) as { n: number };
    return Number(row.n);
  }

  /** Every task record of the run, in the order first recorded. */
  async listTasks(runId: string): Promise<TaskRecord[]> {
    checkRunId(runId);
    const rows = this.#use(`listing tasks of run '${runId}'`, () =>
      this.#sql.listTasks.all(runId),
    ) as TaskRow[];
    return rows.map((row) => this.#codec.task(row));
  }

  /**
   * Every task record of the run, in the order first recorded, read 1,000 at a time (by
   * sequence number, so that records written meanwhile are neither skipped nor repeated).
   */
  async *streamTasks(runId: string, options: StreamTasksOptions = {}): AsyncIterable<TaskRecord> {
    checkRunId(runId);
    const page = options.outputs === false ? this.#sql.streamTaskHeads : this.#sql.streamTasks;
    let after = 0;
    for (;;) {
      const rows = this.#use(`reading tasks of run '${runId}'`, () =>
        page.all(runId, after, tasksPerPage),
      ) as (TaskRow & { seq: number })[];
      for (const row of rows) yield this.#codec.task(row, options.outputs !== false);
      if (rows.length < tasksPerPage) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** Saves an application state; a checkpoint with the same sequence id is replaced. */
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const values = this.#codec.checkpoint(checkpoint);
    this.#use(`saving a checkpoint of application '${checkpoint.appId}'`, () =>
      this.#sql.saveCheckpoint.run(...values),
    );
  }

  /** The checkpoint with the highest sequence id, or the one with `sequenceId`. */
  async loadCheckpoint(
    appId: string,
    partitionKey = '',
    sequenceId?: number,
  ): Promise<Checkpoint | undefined> {
    checkId(appId, 'Application id');
    const app = this.#codec.key(appId);
    const partition = this.#codec.key(partitionKey);
    const row = this.#use(`loading a checkpoint of application '${appId}'`, () =>
      sequenceId === undefined
        ? this.#sql.loadLatestCheckpoint.get(app, partition)
        : this.#sql.loadCheckpoint.get(app, partition, sequenceId),
    ) as CheckpointRow | undefined;
    return row && this.#codec.checkpointOf(row, appId, partitionKey);
  }

  /** Stores the bytes under a key of a run, replacing what was there. */
  async putArtifact(runId: string, key: string, data: Uint8Array): Promise<void> {
    checkRunId(runId);
    checkId(key, 'Artifact key');
    checkBytes(runId, key, data);
    if (this.#files) {
      this.#use(`storing artifact '${key}' of run '${runId}'`, () => {
        // The database refuses writes by itself; the artifact files need telling.
        if (this.#db?.readonly)
          throw new StoreError(
            `The SQLite store ${this.location} was opened for reading only: open it with SqliteStore.open to write.`,
          );
        this.#requireRun(runId);
      });
      await this.#files.put(runId, key, data);
      return;
    }
    this.#use(`storing artifact '${key}' of run '${runId}'`, () =>
      this.#putArtifact.immediate(runId, this.#codec.artifactKey(key), toBuffer(data)),
    );
  }

  /** A copy of the bytes stored under the key, or undefined. */
  async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
    checkRunId(runId);
    checkId(key, 'Artifact key');
    if (this.#files) {
      // Checks that the store is open.
      this.#use(`reading artifact '${key}' of run '${runId}'`, () => undefined);
      return this.#files.get(runId, key);
    }
    const row = this.#use(`reading artifact '${key}' of run '${runId}'`, () =>
      this.#sql.getArtifact.get(runId, this.#codec.key(key)),
    ) as { data: Buffer } | undefined;
    return row && fromBuffer(row.data);
  }

  /**
   * The keys of the run's artifacts that start with `prefix`: the names of its artifact
   * files, or its rows in the database, read 1,000 at a time.
   */
  async *artifactKeys(runId: string, prefix?: string): AsyncIterable<string> {
    checkRunId(runId);
    const start = checkPrefix(runId, prefix);
    const doing = `listing artifacts of run '${runId}'`;
    if (this.#files) {
      // Checks that the store is open.
      this.#use(doing, () => undefined);
      yield* this.#files.keys(runId, start);
      return;
    }
    const matched = this.#codec.artifactPrefix(start);
    let after = '';
    for (;;) {
      const rows = this.#use(doing, () =>
        this.#sql.artifactKeys.all(runId, after, matched, matched, keyMarker, keysPerPage),
      ) as ArtifactKeyRow[];
      for (const row of rows) {
        const key = this.#codec.artifactKeyOf(row);
        if (key?.startsWith(start)) yield key;
      }
      if (rows.length < keysPerPage) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /**
   * Appends events of a run: all of them, or none when one cannot be stored.
   * @throws SerializationError naming the event when it cannot be stored
   */
  async appendEvents(runId: string, events: readonly WeftEvent[]): Promise<void> {
    checkRunId(runId);
    checkArray(events, `Events of run '${runId}'`);
    const texts = this.#codec.events(runId, events);
    this.#use(`appending events of run '${runId}'`, () =>
      this.#appendEvents.immediate(runId, texts),
    );
  }

  /** The run's events, in the order appended. */
  async listEvents(runId: string): Promise<WeftEvent[]> {
    checkRunId(runId);
    const rows = this.#use(`listing events of run '${runId}'`, () =>
      this.#sql.listEvents.all(runId),
    ) as { data: string }[];
    return rows.map((row) => this.#codec.event(row.data));
  }

  /** Closes the file. Later calls reject with a StoreError; closing again does nothing. */
  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    db?.close();
  }

  /** Runs `fn` on the open database, turning what the driver throws into weft's errors. */
  #use<T>(doing: string, fn: () => T): T {
    if (!this.#db) {
      throw new StoreError(
        `The SQLite store ${this.location} is closed. Open it again with openStore, or close ` +
          'it only after the runs that use it.',
      );
    }
    try {
      return fn();
    } catch (error) {
      throw sqliteError(error, this.location, doing);
    }
  }

  #requireRun(id: string): void {
    if (this.#sql.hasRun.get(id) === undefined) throw this.#noRun(id);
  }

  /** Throws unless `owner` holds the run `id` (see `recordTasks`). */
  #requireOwner(id: string, owner: string): void {
    const holder = this.#sql.runHolder.get(id) as
      | Pick<RunRow, 'owner' | 'lease_expires_at'>
      | undefined;
    if (!holder) throw this.#noRun(id);
    if (holder.owner !== owner) throw notHeld(id, owner, holder.owner, holder.lease_expires_at);
  }

  #noRun(id: string): StoreError {
    return new StoreError(
      `Run '${id}' does not exist in the SQLite store ${this.location}: open it with openRun.`,
    );
  }
}
