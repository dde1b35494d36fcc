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
import { RunBusyError, StoreError, ValidationError, type WireError } from '../core/errors.ts';
import type { WeftEvent } from '../core/events.ts';
import type { Serializer } from '../core/serializer.ts';
import type {
  Checkpoint,
  ListRunsOptions,
  OpenRunOptions,
  RunQueries,
  RunRecord,
  RunStatus,
  Store,
  StreamTasksOptions,
  TaskRecord,
} from '../core/store.ts';
import { BlobFiles } from './blob-files.ts';
import { FsArtifacts } from './fs-artifacts.ts';
import { checkListRuns } from './query-options.ts';
import { defaultSerializer } from './serializer.ts';
import {
  type ArtifactKeyRow,
  type ArtifactRow,
  type ArtifactValues,
  type CheckpointRow,
  Codec,
  fromBuffer,
  type RunRow,
  type TaskRow,
  type TaskValues,
  toBuffer,
} from './sql/codec.ts';
import { sqliteDialect } from './sql/dialect.ts';
import { keyFromStored, keyMarker } from './sql/key-codec.ts';
import {
  findCompletedJsonSql,
  getArtifactsJsonSql,
  type Queries,
  queriesFor,
  upsertArtifactsSql,
  upsertTasksSql,
} from './sql/queries.ts';
import { sqliteError } from './sql/sqlite-errors.ts';
import { openDatabase, openDatabaseForReading, openSecondConnection } from './sql/sqlite-open.ts';
import { SqliteQueries } from './sqlite-queries.ts';
import {
  checkArray,
  checkBytes,
  checkFinishStatus,
  checkId,
  checkKeys,
  checkLeaseMs,
  checkMeta,
  checkOpenRunOptions,
  checkPrefix,
  checkRunId,
  describe,
  type LeaseRequest,
  notHeld,
} from './validate.ts';
import { type RecordWrite, StoreWriter, type ThreadWrites } from './writer-thread.ts';

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
   * Folder of the artifacts too large for the database (over `blobThresholdBytes`): one
   * file per distinct content, named by the SHA-256 of its bytes (`ab/abcdef…`), so that
   * identical values are stored once. Smaller artifacts (flow attributes, shard elements)
   * live in the database, written in the transaction of their task's record. `null` keeps
   * every artifact in the database, whatever its size (files written before are still read
   * from the default folder).
   *
   * Until schema version 6 this folder held every artifact, one file per key, and was
   * called `artifacts`: the runs written then are still read from the `artifacts` folder
   * beside the database, for the keys the database does not hold.
   * @default a `blobs` folder beside the database file (none for `:memory:`, which keeps
   *   everything in the database)
   * @example
   * await SqliteStore.open('.weft/weft.db', { artifactsDir: '/mnt/big/weft-blobs' });
   */
  readonly artifactsDir?: string | null;
  /**
   * Size in bytes over which an artifact is a file in `artifactsDir` rather than a row of
   * the database: a database holding only small values stays fast to write and to copy.
   * @default 65536 (64 KiB)
   * @example
   * await SqliteStore.open('.weft/weft.db', { blobThresholdBytes: 1024 * 1024 });
   */
  readonly blobThresholdBytes?: number;
  /**
   * Writes task records on a thread of their own, with its own connection to the file, so
   * that the thread running the tasks only encodes them (a fraction of a microsecond a
   * record) while SQLite writes the last group. `false` writes them on the calling thread.
   * A database in memory is always written on the calling thread.
   * @default true
   */
  readonly writerThread?: boolean;
}

type Statement = Database.Statement<unknown[], unknown>;

/** Where a store keeps artifacts outside its database. */
interface ArtifactFiles {
  /** The files of large artifacts, to read (and to write, unless the threshold is infinite). */
  readonly blobs: BlobFiles;
  /** Artifacts over this many bytes are files. */
  readonly threshold: number;
  /** Where an earlier weft kept artifacts one file per key, read for the keys without a row. */
  readonly legacy: FsArtifacts | undefined;
}

/** The largest artifact kept in the database unless told otherwise: 64 KiB. */
const defaultBlobThreshold = 64 * 1024;
/** The bytes of an artifact whose row names a file. */
const noBytes = Buffer.alloc(0);
type Statements = { readonly [K in keyof Queries]: Statement };

/** Most task rows per upsert statement (1,280 parameters, far below SQLite's limit). */
const maxRowsPerUpsert = 128;
/** Keys per findCompleted statement, and task records per page of streamTasks. */
const keysPerLookup = 500;
/** Artifact files read at once by getArtifacts. */
const filesInFlight = 16;
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
  /** Writes go one after another, on one connection: a run may send the next before the last commits. */
  readonly writesInOrder = true;
  /** The absolute path of the file (or `:memory:`). */
  readonly location: string;
  /**
   * The absolute path of the folder of the artifacts too large for the database, or
   * undefined when every artifact is in the database.
   */
  readonly artifactsLocation: string | undefined;

  #db: Database.Database | undefined;
  readonly #codec: Codec;
  readonly #sql: Statements;
  readonly #openRun: Database.Transaction<
    (id: string, metaText: string, meta: Record<string, unknown>, lease: LeaseRequest) => RunRow
  >;
  readonly #findCompleted: Statement;
  readonly #getArtifacts: Statement;
  /** The owner of runs opened without one. */
  readonly #defaultOwner = `sqlite:${randomUUID()}`;
  readonly #recordTasks: Database.Transaction<
    (
      runId: string,
      rows: readonly TaskValues[],
      owner: string | undefined,
      artifacts: readonly ArtifactValues[],
    ) => void
  >;
  readonly #appendEvents: Database.Transaction<(runId: string, texts: string[]) => void>;
  readonly #putArtifact: Database.Transaction<
    (runId: string, artifact: readonly ArtifactValues[]) => void
  >;
  /** The last write waiting for artifact files to be written, which later writes follow. */
  #queued: Promise<void> | undefined;
  /** Set by close: writes asked from then on are refused. */
  #closing = false;
  readonly #queries: SqliteQueries;
  /**
   * Counts, sums and pages for a viewer of runs, computed by SQLite on the store's
   * connection (see {@link RunQueries}).
   */
  readonly queries: RunQueries;

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

  /**
   * The store as the writer thread opens it (see writer-thread.ts): its own connection to
   * the file, running the writes the main thread's store sends.
   * @internal
   */
  static openWriter(options: Readonly<Record<string, unknown>>): ThreadWrites {
    const file = options.file as string;
    const db = openSecondConnection(file, options.busyTimeoutMs as number);
    const store = new SqliteStore(
      db,
      file,
      new Codec(defaultSerializer, sqliteDialect.maxKeyBytes),
      undefined,
      {
        writerThread: false,
      },
    );
    return (write) => store.#recordHere(write);
  }

  static #over(db: Database.Database, file: string, options: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(
      db,
      file,
      new Codec(options.serializer ?? defaultSerializer, sqliteDialect.maxKeyBytes),
      artifactFiles(file, options),
      options,
    );
  }

  readonly #files: ArtifactFiles | undefined;

  /** The writes on a writer thread, or undefined when writes stay on this thread. */
  readonly #writer: StoreWriter | undefined;

  private constructor(
    db: Database.Database,
    file: string,
    codec: Codec,
    files: ArtifactFiles | undefined,
    options: SqliteStoreOptions,
  ) {
    this.#db = db;
    // A custom serializer encodes here all the same: the thread only runs the writes.
    this.#writer =
      options.writerThread === false || file === ':memory:' || db.readonly
        ? undefined
        : new StoreWriter({
            kind: 'sqlite',
            options: { file, busyTimeoutMs: options.busyTimeoutMs ?? 5000 },
          });
    this.#files = files;
    this.location = file;
    this.artifactsLocation = files?.threshold === Infinity ? undefined : files?.blobs.dir;
    this.#codec = codec;
    this.#queries = new SqliteQueries((doing, read) => this.#use(doing, () => read(db)), codec);
    this.queries = this.#queries;
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
    const upsertTasks = new Chunked(db, (count) => upsertTasksSql(sqliteDialect, count));
    const upsertArtifacts = new Chunked(db, (count) => upsertArtifactsSql(sqliteDialect, count));
    const writeArtifacts = (runId: string, artifacts: readonly ArtifactValues[]) =>
      upsertArtifacts.run(artifacts, (params, [key, fullKey, data, blob]) => {
        params.push(runId, key, fullKey, toBuffer(data), blob);
      });
    this.#recordTasks = db.transaction(
      (
        runId: string,
        rows: readonly TaskValues[],
        owner: string | undefined,
        artifacts: readonly ArtifactValues[],
      ) => {
        if (owner === undefined) this.#requireRun(runId);
        else this.#requireOwner(runId, owner);
        let seq = (sql.lastTaskSeq.get(runId) as { seq: number }).seq;
        upsertTasks.run(rows, (params, row) => {
          params.push(runId, ...row, ++seq);
        });
        writeArtifacts(runId, artifacts);
      },
    );
    this.#appendEvents = db.transaction((runId: string, texts: string[]) => {
      this.#requireRun(runId);
      for (const text of texts) sql.insertEvent.run(runId, text);
    });
    this.#findCompleted = db.prepare(findCompletedJsonSql);
    // Rows as arrays: no object is built for each key.
    this.#getArtifacts = db.prepare(getArtifactsJsonSql).raw();
    this.#putArtifact = db.transaction((runId: string, artifact: readonly ArtifactValues[]) => {
      this.#requireRun(runId);
      writeArtifacts(runId, artifact);
    });
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

  /**
   * Runs, newest first (by creation time, then by order of creation), filtered and paged
   * as `options` say.
   */
  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    return this.#queries.listRuns(checkListRuns(options));
  }

  /**
   * Records finished tasks in one transaction, with their artifacts. Every output is
   * encoded and every artifact checked first, so a batch with an output or an artifact
   * that cannot be stored writes nothing. Artifacts over the threshold are written as
   * files before the transaction that names them (see {@link SqliteStoreOptions.artifactsDir}).
   * With `owner`, writes only while that owner holds the run, checked in the same
   * transaction (which holds the write lock, so the holder cannot change meanwhile).
   * @throws SerializationError naming the key when an output or an artifact cannot be stored
   * @throws RunBusyError when `owner` no longer holds the run
   * @throws StoreError when an artifact's file cannot be written (a full disk); nothing is
   *   recorded then
   */
  async recordTasks(runId: string, records: readonly TaskRecord[], owner?: string): Promise<void> {
    checkRunId(runId);
    checkArray(records, `Task records of run '${runId}'`);
    if (owner !== undefined) checkId(owner, `Owner of run '${runId}'`);
    if (this.#closing) throw this.#closedError();
    const rows = this.#codec.tasks(runId, records);
    const artifacts = this.#codec.artifacts(runId, records);
    await this.#afterFiles(runId, owner, artifacts, () =>
      this.#send({ runId, rows, owner, artifacts }),
    );
  }

  /**
   * Runs `write` once the artifacts over the threshold are files, their rows then naming
   * the files, and after the writes asked before it that waited for files too: the last
   * write of a key wins, as the order of the calls says.
   */
  #afterFiles(
    runId: string,
    owner: string | undefined,
    artifacts: ArtifactValues[],
    write: () => Promise<void>,
  ): Promise<void> {
    const files = this.#files;
    const large = files
      ? artifacts.filter((artifact) => artifact[2].byteLength > files.threshold)
      : [];
    const previous = this.#queued;
    if (large.length === 0 && previous === undefined) return write();
    // Files are written only for a run this owner may write to: a fenced-out write leaves none.
    if (large.length > 0) {
      this.#use(`recording artifacts of run '${runId}'`, () => {
        this.#assertWritable();
        if (owner === undefined) this.#requireRun(runId);
        else this.#requireOwner(runId, owner);
      });
    }
    const written = Promise.all(
      large.map(async (artifact) => {
        const name = BlobFiles.nameOf(artifact[2]);
        const key = keyFromStored(artifact[1] ?? artifact[0]);
        await files!.blobs.put(name, artifact[2], `artifact '${key}' of run '${runId}'`);
        artifact[2] = noBytes;
        artifact[3] = name;
      }),
    );
    // Settles once the write is sent (the writer thread commits it after), not committed.
    const sent = (async () => {
      // Both awaited together: a failed file must not go unhandled while earlier writes wait.
      await Promise.all([previous, written]);
      return { committed: write() };
    })();
    const turn = sent.then(
      () => undefined,
      () => undefined,
    );
    this.#queued = turn;
    void turn.then(() => {
      if (this.#queued === turn) this.#queued = undefined;
    });
    return sent.then(({ committed }) => committed);
  }

  /** Writes a group on the writer thread when the store has one, else here. */
  #send(write: RecordWrite): Promise<void> {
    if (!this.#writer) return Promise.resolve(this.#recordHere(write));
    // Checks that the store is open.
    this.#use('writing', () => undefined);
    return this.#writer.write(write);
  }

  /** Writes a group on this thread's connection: the writer thread's, or the only one. */
  #recordHere({ runId, rows, owner, artifacts }: RecordWrite): void {
    this.#use(`recording tasks of run '${runId}'`, () =>
      this.#recordTasks.immediate(runId, rows, owner, artifacts),
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

  /**
   * Stores the bytes under a key of a run, replacing what was there: in the database, or
   * over the threshold as a file named in the database.
   */
  async putArtifact(runId: string, key: string, data: Uint8Array): Promise<void> {
    checkRunId(runId);
    checkId(key, 'Artifact key');
    checkBytes(runId, key, data);
    const artifact: ArtifactValues = [...this.#codec.artifactKey(key), Buffer.from(data), null];
    await this.#afterFiles(runId, undefined, [artifact], async () =>
      this.#use(`storing artifact '${key}' of run '${runId}'`, () =>
        this.#putArtifact.immediate(runId, [artifact]),
      ),
    );
  }

  /**
   * A copy of the bytes stored under the key, or undefined: from its row (and the file it
   * names, undefined when that file is gone), else from the file an earlier weft wrote for
   * the key, if any.
   */
  async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
    checkRunId(runId);
    checkId(key, 'Artifact key');
    const what = `artifact '${key}' of run '${runId}'`;
    const row = this.#use(`reading ${what}`, () =>
      this.#sql.getArtifact.get(runId, this.#codec.key(key)),
    ) as ArtifactRow | undefined;
    if (row === undefined) return this.#files?.legacy?.get(runId, key);
    if (row.blob === null) return fromBuffer(row.data);
    return this.#files?.blobs.get(row.blob, what);
  }

  /**
   * Copies of the bytes stored under the keys, in order, each as {@link getArtifact} reads
   * it: 500 keys a statement, then the files that rows name and, for keys without a row,
   * those an earlier weft wrote, a few files at a time.
   */
  async getArtifacts(runId: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    checkRunId(runId);
    checkArray(keys, `The artifact keys read from run '${runId}'`);
    for (const key of keys) checkId(key, 'Artifact key');
    const found = new Array<Uint8Array | undefined>(keys.length).fill(undefined);
    /** Keys read from files after the rows: their place, and the blob their row names. */
    const fromFiles: [at: number, blob: string | null][] = [];
    const files = this.#files;
    for (let start = 0; start < keys.length; start += keysPerLookup) {
      const end = Math.min(keys.length, start + keysPerLookup);
      const stored = new Array<string>(end - start);
      for (let i = start; i < end; i++) stored[i - start] = this.#codec.key(keys[i]!);
      const rows = this.#use(`reading ${stored.length} artifacts of run '${runId}'`, () =>
        this.#getArtifacts.all(JSON.stringify(stored), runId),
      ) as [data: Uint8Array | null, blob: string | null][];
      for (let i = 0; i < rows.length; i++) {
        const [data, blob] = rows[i]!;
        if (data === null) {
          if (files?.legacy) fromFiles.push([start + i, null]);
        } else if (blob === null) {
          found[start + i] = fromBuffer(data);
        } else if (files) {
          fromFiles.push([start + i, blob]);
        }
      }
    }
    if (files !== undefined && fromFiles.length > 0) {
      let next = 0;
      const reader = async () => {
        while (next < fromFiles.length) {
          const [at, blob] = fromFiles[next++]!;
          const key = keys[at]!;
          found[at] =
            blob === null
              ? await files.legacy?.get(runId, key)
              : await files.blobs.get(blob, `artifact '${key}' of run '${runId}'`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(filesInFlight, fromFiles.length) }, reader));
    }
    return found;
  }

  /**
   * The keys of the run's artifacts that start with `prefix`: its rows in the database,
   * read 1,000 at a time, but those whose file is gone; then the keys an earlier weft kept
   * as files that have no row.
   */
  async *artifactKeys(runId: string, prefix?: string): AsyncIterable<string> {
    checkRunId(runId);
    const start = checkPrefix(runId, prefix);
    const doing = `listing artifacts of run '${runId}'`;
    yield* this.#artifactRows(runId, start, doing);
    const legacy = this.#files?.legacy;
    if (!legacy) return;
    for await (const key of legacy.keys(runId, start)) {
      const row = this.#use(doing, () => this.#sql.hasArtifact.get(runId, this.#codec.key(key)));
      if (row === undefined) yield key;
    }
  }

  async *#artifactRows(runId: string, start: string, doing: string): AsyncIterable<string> {
    const matched = this.#codec.artifactPrefix(start);
    let after = '';
    for (;;) {
      const rows = this.#use(doing, () =>
        this.#sql.artifactKeys.all(runId, after, matched, matched, keyMarker, keysPerPage),
      ) as ArtifactKeyRow[];
      for (const row of rows) {
        const key = this.#codec.artifactKeyOf(row);
        if (!key?.startsWith(start)) continue;
        // A row whose file is gone holds nothing: a flow's re-run writes it again.
        if (row.blob !== null && !(await this.#files?.blobs.has(row.blob))) continue;
        yield key;
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
    // Writes asked before close are sent (some wait for their files) and answered; later
    // ones are refused.
    this.#closing = true;
    await this.#queued;
    await this.#writer?.close();
    const db = this.#db;
    this.#db = undefined;
    db?.close();
  }

  /** Runs `fn` on the open database, turning what the driver throws into weft's errors. */
  #use<T>(doing: string, fn: () => T): T {
    if (!this.#db) {
      throw this.#closedError();
    }
    try {
      return fn();
    } catch (error) {
      throw sqliteError(error, this.location, doing);
    }
  }

  /** Throws when the store was opened for reading only: artifact files need telling. */
  #assertWritable(): void {
    if (this.#db?.readonly) {
      throw new StoreError(
        `The SQLite store ${this.location} was opened for reading only: open it with SqliteStore.open to write.`,
      );
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

  #closedError(): StoreError {
    return new StoreError(
      `The SQLite store ${this.location} is closed. Open it again with openStore, or close ` +
        'it only after the runs that use it.',
    );
  }

  #noRun(id: string): StoreError {
    return new StoreError(
      `Run '${id}' does not exist in the SQLite store ${this.location}: open it with openRun.`,
    );
  }
}

/**
 * Multi-row upserts by row count. A batch is written in statements of 128, 64, 32, …
 * rows: one statement binds many rows (far cheaper than a run per row), and no more than
 * eight statements are ever prepared.
 */
class Chunked {
  readonly #db: Database.Database;
  readonly #sql: (rows: number) => string;
  readonly #prepared = new Map<number, Statement>();

  constructor(db: Database.Database, sql: (rows: number) => string) {
    this.#db = db;
    this.#sql = sql;
  }

  /** Writes `rows`, each bound by `bind` (which pushes its parameters). */
  run<R>(rows: readonly R[], bind: (params: unknown[], row: R) => void): void {
    for (let start = 0; start < rows.length; ) {
      const count = Math.min(maxRowsPerUpsert, 2 ** Math.floor(Math.log2(rows.length - start)));
      let statement = this.#prepared.get(count);
      if (!statement) {
        statement = this.#db.prepare(this.#sql(count));
        this.#prepared.set(count, statement);
      }
      const params: unknown[] = [];
      for (let i = start; i < start + count; i++) bind(params, rows[i]!);
      statement.run(params);
      start += count;
    }
  }
}

/**
 * Where a store at `file` keeps artifacts outside the database: large ones in
 * `artifactsDir` (a `blobs` folder beside the file by default), and those an earlier weft
 * kept one file per key in the `artifacts` folder beside it, read where that folder is
 * there and is not the folder of large ones.
 */
function artifactFiles(file: string, options: SqliteStoreOptions): ArtifactFiles | undefined {
  const { artifactsDir, blobThresholdBytes = defaultBlobThreshold } = options;
  if (
    typeof blobThresholdBytes !== 'number' ||
    Number.isNaN(blobThresholdBytes) ||
    blobThresholdBytes < 0
  ) {
    throw new ValidationError(
      `blobThresholdBytes of the SQLite store ${file} must be a number of bytes ≥ 0, got ${describe(blobThresholdBytes)}.`,
    );
  }
  if (file === ':memory:' && artifactsDir == null) return undefined;
  const beside = dirname(file);
  const blobs = resolve(artifactsDir ?? join(beside, 'blobs'));
  const legacy = join(beside, 'artifacts');
  return {
    blobs: new BlobFiles(blobs),
    // Files written before with the default folder are still read: only writes stop.
    threshold: artifactsDir === null ? Infinity : blobThresholdBytes,
    legacy:
      file !== ':memory:' && legacy !== blobs && existsSync(legacy)
        ? new FsArtifacts(legacy)
        : undefined,
  };
}
