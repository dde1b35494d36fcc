/**
 * The PostgreSQL store, for runs spread over many processes and machines, on a `pg`
 * pool. It keeps the same schema as the SQLite store. Every write is one transaction, and
 * task records go in as multi-row upserts, so several processes may write one run at once
 * without losing a record. An optional `?schema=name` in the URL keeps weft's tables in a
 * schema of their own (created when missing).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { RunBusyError, StoreError, type WireError } from '../core/errors.ts';
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
import { PostgresQueries } from './postgres-queries.ts';
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
  taskValueCount,
  toBuffer,
} from './sql/codec.ts';
import { postgresDialect } from './sql/dialect.ts';
import { keyMarker } from './sql/key-codec.ts';
import {
  inspectSchema,
  type MigrationSession,
  type MigrationTarget,
  migrate,
} from './sql/migrate.ts';
import { keyDigestVersion, latestVersion } from './sql/migrations.ts';
import { PostgresPool } from './sql/postgres-pool.ts';
import { type PostgresTarget, parsePostgresUrl } from './sql/postgres-url.ts';
import { serverTooOld } from './sql/postgres-version.ts';
import {
  findCompletedArraySql,
  getArtifactsArraySql,
  insertEventsSql,
  type Queries,
  queriesFor,
  upsertArtifactArraysSql,
  upsertTaskArraysSql,
  upsertTasksWithArtifactsSql,
} from './sql/queries.ts';
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
  notHeld,
} from './validate.ts';
import { type RecordWrite, StoreWriter, type ThreadWrites } from './writer-thread.ts';

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /**
   * Turns outputs, states, meta and events into text and back.
   * @default defaultSerializer
   */
  readonly serializer?: Serializer;
  /**
   * How long to wait for a connection, in milliseconds, before failing with a StoreError
   * that names the server.
   * @default 5000
   */
  readonly connectionTimeoutMs?: number;
  /**
   * Most connections the store holds open at once.
   * @default 10
   */
  readonly maxConnections?: number;
  /**
   * The name the store's connections give the server (`application_name`), by which
   * `pg_stat_activity` tells them apart.
   * @default 'weft'
   */
  readonly applicationName?: string;
  /**
   * Writes task records on a thread of their own, with its own connection, so that the
   * thread running the tasks only encodes them (a fraction of a microsecond a record)
   * while the driver sends the last group and reads the answer. `false` writes them on
   * the calling thread.
   * @default true
   */
  readonly writerThread?: boolean;
}

/** Rows per multi-row insert: well under PostgreSQL's 65,535 parameters per statement. */
const rowsPerStatement = 1000;
/**
 * Task records per upsert. A group up to this size (more than a fan-out usually runs at
 * once) is one statement, committed on its own: one round trip. A larger one is several
 * in a transaction, so that no statement carries an unbounded amount of output text.
 */
const tasksPerStatement = 4096;
// Run for every group of task records: named, so each connection prepares it once.
const upsertTasks = { name: 'weft:upsertTasks', text: upsertTaskArraysSql };
const upsertArtifacts = { name: 'weft:upsertArtifacts', text: upsertArtifactArraysSql };
const upsertWithArtifacts = {
  name: 'weft:upsertTasksWithArtifacts',
  text: upsertTasksWithArtifactsSql,
};
/**
 * Artifact bytes per statement, and artifacts per statement: a group's artifacts go in
 * statements of at most this much (or one artifact, whatever its size).
 */
const artifactBytesPerStatement = 16 * 1024 * 1024;
const artifactsPerStatement = 4096;
/** Runs a read on a connection or in a transaction: its rows. */
type ReadRows = (text: string, values: unknown[]) => Promise<unknown[]>;
/** Keys per findCompleted statement, and task records per page of streamTasks. */
const keysPerLookup = 1000;
const tasksPerPage = 1000;
/** Artifact keys per page of artifactKeys. */
const keysPerPage = 1000;
// Serialises migrations of every weft store in the database; held until the transaction ends.
const migrationLock = "SELECT pg_advisory_xact_lock(hashtext('weft:migrations'))";

/**
 * A {@link Store} in a PostgreSQL database.
 * @example
 * const store = await PostgresStore.open('postgres://weft@db.internal:5432/weft');
 * await withRun({ store, runId: 'nightly' }, () => map(items, square));
 * await store.close();
 */
export class PostgresStore implements Store {
  /** Always `postgres`. */
  readonly kind = 'postgres';

  /**
   * True with a writer thread, which sends writes one after another on its connection;
   * without one, writes under way at once may take different connections.
   */
  get writesInOrder(): boolean {
    return this.#writer !== undefined;
  }
  /** The URL, with its password hidden. */
  readonly location: string;

  readonly #pool: PostgresPool;
  readonly #target: PostgresTarget;
  readonly #codec: Codec;
  /** The owner of runs opened without one. */
  readonly #defaultOwner = `postgres:${randomUUID()}`;
  readonly #sql: Queries;
  readonly #readOnly: boolean;
  readonly #queries: PostgresQueries;
  /**
   * Counts, sums and pages for a viewer of runs, computed by PostgreSQL (see
   * {@link RunQueries}).
   */
  readonly queries: RunQueries;

  /**
   * Connects, creates the schema when `?schema=` names one that is missing, and brings
   * weft's tables up to date (once, even when several processes open at the same time).
   * @param url `postgres://user:password@host:port/database[?schema=name]`
   * @throws ValidationError for a malformed URL
   * @throws StoreError when the server cannot be reached (within `connectionTimeoutMs`),
   *   refuses the user or database, or holds tables that are not weft's
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const target = parsePostgresUrl(url);
    const pool = poolFor(target, options);
    const store = new PostgresStore(pool, target, options.serializer ?? defaultSerializer);
    if (options.writerThread !== false) {
      store.#writer = new StoreWriter({
        kind: 'postgres',
        options: {
          url,
          connectionTimeoutMs: options.connectionTimeoutMs ?? 5000,
          applicationName: options.applicationName ?? 'weft',
        },
      });
    }
    try {
      await store.#migrate();
    } catch (error) {
      await pool.close().catch(() => undefined);
      throw error;
    }
    return store;
  }

  /**
   * Opens an existing store to read it: creates no schema and no table, migrates nothing,
   * and refuses writes (the CLI's `weft runs` and `weft show`). Tables an older weft wrote
   * are read as they are, with the defaults of the columns added since.
   * @param url `postgres://user:password@host:port/database[?schema=name]`
   * @returns undefined when there is no weft store there yet (no such schema, or no tables)
   * @throws ValidationError for a malformed URL
   * @throws StoreError as {@link PostgresStore.open} does, and when a newer weft wrote the
   *   tables
   */
  static async openExisting(
    url: string,
    options: PostgresStoreOptions = {},
  ): Promise<PostgresStore | undefined> {
    const target = parsePostgresUrl(url);
    const pool = poolFor(target, options);
    try {
      const version = await pool.withClient('opening it for reading', (client) =>
        // Read only: an older schema is read as it is, not migrated.
        inspectSchema(
          { all: async (text, params = []) => (await client.query(text, [...params])).rows, run },
          postgresDialect,
          migrationTarget(target),
        ),
      );
      if (version > 0) {
        return new PostgresStore(pool, target, options.serializer ?? defaultSerializer, version);
      }
    } catch (error) {
      await pool.close().catch(() => undefined);
      throw error;
    }
    await pool.close();
    return undefined;
  }

  /**
   * The store as the writer thread opens it (see writer-thread.ts): its own connections to
   * the database, running the writes the main thread's store sends.
   * @internal
   */
  static openWriter(options: Readonly<Record<string, unknown>>): ThreadWrites {
    // The main thread's store opened (and migrated) the schema: this one only connects.
    const target = parsePostgresUrl(options.url as string);
    const pool = poolFor(target, {
      connectionTimeoutMs: options.connectionTimeoutMs as number,
      applicationName: options.applicationName as string,
      maxConnections: 2,
    });
    const store = new PostgresStore(pool, target, defaultSerializer);
    return (write) => store.#writeTasks(write);
  }

  /** The writes on a writer thread, or undefined when writes stay on this thread. */
  #writer: StoreWriter | undefined;

  /** @param readOnlyVersion the schema version of a store opened for reading only */
  private constructor(
    pool: PostgresPool,
    target: PostgresTarget,
    serializer: Serializer,
    readOnlyVersion?: number,
  ) {
    this.#pool = pool;
    this.#target = target;
    this.#readOnly = readOnlyVersion !== undefined;
    const version = readOnlyVersion ?? latestVersion;
    this.#sql = queriesFor(postgresDialect, version);
    // Before keys were digested, long keys were stored as they are.
    const maxKeyBytes = version < keyDigestVersion ? Infinity : postgresDialect.maxKeyBytes;
    this.#codec = new Codec(serializer, maxKeyBytes);
    this.location = target.location;
    this.#queries = new PostgresQueries(pool, this.#codec, version);
    this.queries = this.#queries;
  }

  /**
   * Creates the run (attempts 1), or reopens it: status running, attempts + 1, meta
   * merged; either way takes its lease for `options.owner`, in one transaction. The lease
   * is timed by the database server's clock.
   * @throws RunBusyError while another owner's lease on the run lasts
   */
  async openRun(
    id: string,
    meta: Readonly<Record<string, unknown>> = {},
    options: OpenRunOptions = {},
  ): Promise<RunRecord> {
    this.#assertWritable();
    checkRunId(id);
    checkMeta(id, meta);
    const { owner, leaseMs, takeOverFrom } = checkOpenRunOptions(id, options, this.#defaultOwner);
    const metaText = this.#codec.meta(id, meta);
    // Not idempotent (attempts + 1): after a lost connection it is tried again only when
    // it did not commit.
    const row = await this.#pool.transaction(
      `opening run '${id}'`,
      async (client): Promise<RunRow> => {
        const now = Date.now();
        // The upsert locks the row until commit, also when it does not reopen it: a concurrent
        // open waits, and the holder read below is the one that refused this open.
        const opened = (
          await client.query(this.#sql.openRun, [
            id,
            now,
            now,
            metaText,
            owner,
            leaseMs,
            takeOverFrom,
          ])
        ).rows[0] as RunRow | undefined;
        if (!opened) {
          const holder = (await client.query(this.#sql.runHolder, [id])).rows[0] as RunRow;
          throw new RunBusyError(id, holder.owner ?? '', Number(holder.lease_expires_at ?? 0));
        }
        if (opened.attempts === 1 || Object.keys(meta).length === 0) return opened;
        const merged = this.#codec.mergeMeta(id, opened.meta, meta);
        await client.query(this.#sql.setMeta, [merged, id]);
        return { ...opened, meta: merged };
      },
      { idempotent: false },
    );
    return this.#codec.run(row);
  }

  /** Extends `owner`'s lease to `leaseMs` from now; false when `owner` no longer holds the run. */
  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    this.#assertWritable();
    checkRunId(id);
    checkId(owner, `Owner of run '${id}'`);
    checkLeaseMs(id, leaseMs);
    const { rowCount } = await this.#pool.query(
      `renewing the lease of run '${id}'`,
      this.#sql.renewLease,
      [leaseMs, id, owner],
    );
    return (rowCount ?? 0) > 0;
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
    this.#assertWritable();
    checkRunId(id);
    checkFinishStatus(id, status);
    if (owner !== undefined) checkId(owner, `Owner of run '${id}'`);
    const doing = `finishing run '${id}'`;
    const wire = this.#codec.error(error);
    const result =
      owner === undefined
        ? await this.#pool.query(doing, this.#sql.finishRun, [status, wire, Date.now(), id])
        : await this.#pool.query(doing, this.#sql.finishOwnedRun, [
            status,
            wire,
            Date.now(),
            id,
            owner,
          ]);
    if (result.rowCount === 0) {
      const { rowCount } = await this.#pool.query(doing, this.#sql.hasRun, [id]);
      if (rowCount === 0) throw this.#noRun(id);
    }
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    checkRunId(id);
    const { rows } = await this.#pool.query(`reading run '${id}'`, this.#sql.getRun, [id]);
    const row = rows[0] as RunRow | undefined;
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
   * Records finished tasks in one write: a single upsert statement (one round trip), or
   * for a very large batch several in one transaction. Every output is encoded first, so a
   * batch with an output that cannot be stored writes nothing. The records' artifacts go
   * in with them, in the same statement or transaction, all in the database.
   * With `owner`, writes only while that owner holds the run: each upsert checks so, and
   * share-locks the run's row until it commits, so that a takeover waits for it, and it for
   * a takeover under way.
   * @throws SerializationError naming the key when an output or an artifact cannot be stored
   * @throws RunBusyError when `owner` no longer holds the run
   */
  async recordTasks(runId: string, records: readonly TaskRecord[], owner?: string): Promise<void> {
    this.#assertWritable();
    checkRunId(runId);
    checkArray(records, `Task records of run '${runId}'`);
    if (owner !== undefined) checkId(owner, `Owner of run '${runId}'`);
    const rows = this.#codec.tasks(runId, records);
    const artifacts = this.#codec.artifacts(runId, records);
    const write: RecordWrite = { runId, rows, owner, artifacts };
    return this.#writer ? this.#writer.write(write) : this.#writeTasks(write);
  }

  /**
   * The rows with each key once: one statement may not upsert a key twice, so each key
   * keeps its last record, at the place of its first (a Map keeps the first insertion's
   * place), as one-by-one upserts would. Done where the rows are written, off the thread
   * that runs the tasks when there is a writer thread.
   */
  #uniqueRows(rows: readonly TaskValues[]): readonly TaskValues[] {
    const unique = new Map<string, TaskValues>();
    for (const row of rows) unique.set(row[0], row);
    return unique.size === rows.length ? rows : [...unique.values()];
  }

  /** Upserts encoded task records and their artifacts (see recordTasks). */
  async #writeTasks(write: RecordWrite): Promise<void> {
    const { runId, owner, artifacts } = write;
    const rows = this.#uniqueRows(write.rows);
    if (artifacts.length > 0) return this.#writeWithArtifacts(runId, rows, owner, artifacts);
    const doing = `recording tasks of run '${runId}'`;
    const read: ReadRows = async (text, values) =>
      (await this.#pool.query(doing, text, values)).rows;
    // The upsert writes every row it is given, or none when the run does not exist or
    // `owner` does not hold it.
    if (rows.length === 0) {
      await this.#checkHolder(read, runId, owner, true);
    } else if (rows.length <= tasksPerStatement) {
      const { rowCount } = await this.#pool.query(
        doing,
        upsertTasks.text,
        [...taskArrays(runId, rows), owner ?? null],
        upsertTasks.name,
      );
      if (rowCount === 0) await this.#checkHolder(read, runId, owner);
    } else {
      await this.#pool.transaction(
        doing,
        (client) => this.#upsertTaskChunks(client, runId, rows, owner),
        { idempotent: true },
      );
    }
  }

  /**
   * Upserts task records in statements of at most `tasksPerStatement`, inside the caller's
   * transaction; a statement that writes nothing means the run is gone or `owner` lost it.
   */
  async #upsertTaskChunks(
    client: pg.PoolClient,
    runId: string,
    rows: readonly TaskValues[],
    owner: string | undefined,
  ): Promise<void> {
    for (let start = 0; start < rows.length; start += tasksPerStatement) {
      const chunk = rows.slice(start, start + tasksPerStatement);
      const { rowCount } = await client.query({
        ...upsertTasks,
        values: [...taskArrays(runId, chunk), owner ?? null],
      });
      if (rowCount === 0) {
        await this.#checkHolder(
          async (text, values) => (await client.query(text, values)).rows,
          runId,
          owner,
        );
      }
    }
  }

  /**
   * Upserts task records and their artifacts in one transaction: one statement (one round
   * trip) when the group is small, else the records and then the artifacts, a bounded
   * number of bytes per statement, in a transaction. The records' upsert checks the owner
   * and share-locks the run's row until commit, so the artifacts are fenced with them.
   */
  async #writeWithArtifacts(
    runId: string,
    rows: readonly TaskValues[],
    owner: string | undefined,
    artifacts: readonly ArtifactValues[],
  ): Promise<void> {
    const doing = `recording tasks of run '${runId}'`;
    const chunks = artifactChunks(artifacts);
    if (rows.length <= tasksPerStatement && chunks.length === 1) {
      const { rowCount } = await this.#pool.query(
        doing,
        upsertWithArtifacts.text,
        [...taskArrays(runId, rows), owner ?? null, ...artifactArrays(artifacts)],
        upsertWithArtifacts.name,
      );
      if (rowCount === 0) {
        await this.#checkHolder(
          async (text, values) => (await this.#pool.query(doing, text, values)).rows,
          runId,
          owner,
        );
      }
      return;
    }
    await this.#pool.transaction(
      doing,
      async (client) => {
        await this.#upsertTaskChunks(client, runId, rows, owner);
        for (const chunk of chunks) {
          await client.query({ ...upsertArtifacts, values: [runId, ...artifactArrays(chunk)] });
        }
      },
      { idempotent: true },
    );
  }

  /** Outputs of the run's completed tasks, by key, in the order first recorded. */
  async completedOutputs(runId: string): Promise<Map<string, unknown>> {
    checkRunId(runId);
    const { rows } = await this.#pool.query(
      `reading outputs of run '${runId}'`,
      this.#sql.completedOutputs,
      [runId],
    );
    const outputs = rows as Pick<TaskRow, 'key' | 'full_key' | 'output'>[];
    return new Map(
      outputs.map((row) => [this.#codec.taskKey(row), this.#codec.output(row.output)]),
    );
  }

  /** The outputs of those of `keys` that completed in the run, by key. */
  async findCompleted(runId: string, keys: readonly string[]): Promise<Map<string, unknown>> {
    checkRunId(runId);
    checkKeys(runId, keys);
    return this.#codec.findCompleted(keys, keysPerLookup, async (chunk) => {
      const { rows } = await this.#pool.query(
        `looking up completed tasks of run '${runId}'`,
        findCompletedArraySql,
        [runId, chunk],
        'weft:findCompleted',
      );
      // In the order asked, 0 for the keys not found (see LookedUp).
      const answers: (string | null | number)[] = new Array(chunk.length).fill(0);
      for (const row of rows as { at: number; output: string | null }[]) {
        answers[row.at] = row.output;
      }
      return answers;
    });
  }

  /** How many tasks of the run completed. */
  async countCompleted(runId: string): Promise<number> {
    checkRunId(runId);
    const { rows } = await this.#pool.query(
      `counting completed tasks of run '${runId}'`,
      this.#sql.countCompleted,
      [runId],
    );
    // COUNT is a bigint, which pg reads as a string.
    return Number((rows[0] as { n: string }).n);
  }

  /** Every task record of the run, in the order first recorded. */
  async listTasks(runId: string): Promise<TaskRecord[]> {
    checkRunId(runId);
    const { rows } = await this.#pool.query(
      `listing tasks of run '${runId}'`,
      this.#sql.listTasks,
      [runId],
    );
    return (rows as TaskRow[]).map((row) => this.#codec.task(row));
  }

  /**
   * Every task record of the run, in the order first recorded, read 1,000 at a time (by
   * sequence number, so that records written meanwhile are neither skipped nor repeated).
   */
  async *streamTasks(runId: string, options: StreamTasksOptions = {}): AsyncIterable<TaskRecord> {
    checkRunId(runId);
    const withOutput = options.outputs !== false;
    const page = withOutput ? this.#sql.streamTasks : this.#sql.streamTaskHeads;
    // seq is a bigint, which pg reads as a string and takes back as one.
    let after = '0';
    for (;;) {
      const { rows } = await this.#pool.query(`reading tasks of run '${runId}'`, page, [
        runId,
        after,
        tasksPerPage,
      ]);
      for (const row of rows as TaskRow[]) yield this.#codec.task(row, withOutput);
      if (rows.length < tasksPerPage) return;
      after = String((rows[rows.length - 1] as { seq: string }).seq);
    }
  }

  /** Saves an application state; a checkpoint with the same sequence id is replaced. */
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.#assertWritable();
    const values = this.#codec.checkpoint(checkpoint);
    await this.#pool.query(
      `saving a checkpoint of application '${checkpoint.appId}'`,
      this.#sql.saveCheckpoint,
      values,
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
    const { rows } = await this.#pool.query(
      `loading a checkpoint of application '${appId}'`,
      sequenceId === undefined ? this.#sql.loadLatestCheckpoint : this.#sql.loadCheckpoint,
      sequenceId === undefined ? [app, partition] : [app, partition, sequenceId],
    );
    const row = rows[0] as CheckpointRow | undefined;
    return row && this.#codec.checkpointOf(row, appId, partitionKey);
  }

  /** Stores the bytes under a key of a run, replacing what was there. */
  async putArtifact(runId: string, key: string, data: Uint8Array): Promise<void> {
    this.#assertWritable();
    checkRunId(runId);
    checkId(key, 'Artifact key');
    checkBytes(runId, key, data);
    await this.#pool.transaction(
      `storing artifact '${key}' of run '${runId}'`,
      async (client) => {
        await this.#requireRun(client, runId);
        await client.query(this.#sql.putArtifact, [
          runId,
          ...this.#codec.artifactKey(key),
          toBuffer(data),
          null,
        ]);
      },
      { idempotent: true },
    );
  }

  /** A copy of the bytes stored under the key, or undefined. */
  async getArtifact(runId: string, key: string): Promise<Uint8Array | undefined> {
    checkRunId(runId);
    checkId(key, 'Artifact key');
    const { rows } = await this.#pool.query(
      `reading artifact '${key}' of run '${runId}'`,
      this.#sql.getArtifact,
      [runId, this.#codec.key(key)],
    );
    // Everything is in the database here: other machines could not read a local file.
    const row = rows[0] as ArtifactRow | undefined;
    return row && fromBuffer(row.data);
  }

  /**
   * Copies of the bytes stored under the keys, in order, undefined where there are none:
   * 1,000 keys a statement, which binds them as one array.
   */
  async getArtifacts(runId: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    checkRunId(runId);
    checkArray(keys, `The artifact keys read from run '${runId}'`);
    for (const key of keys) checkId(key, 'Artifact key');
    const found = new Array<Uint8Array | undefined>(keys.length).fill(undefined);
    for (let start = 0; start < keys.length; start += keysPerLookup) {
      const end = Math.min(keys.length, start + keysPerLookup);
      const stored = new Array<string>(end - start);
      for (let i = start; i < end; i++) stored[i - start] = this.#codec.key(keys[i]!);
      const { rows } = await this.#pool.query(
        `reading ${stored.length} artifacts of run '${runId}'`,
        getArtifactsArraySql,
        [runId, stored],
        'weft:getArtifacts',
      );
      for (const row of rows as { at: number; data: Uint8Array }[]) {
        found[start + row.at] = fromBuffer(row.data);
      }
    }
    return found;
  }

  /**
   * The keys of the run's artifacts that start with `prefix`, read 1,000 at a time in the
   * order of the table's index (after the last key read, so that no page reads what an
   * earlier one did).
   */
  async *artifactKeys(runId: string, prefix?: string): AsyncIterable<string> {
    checkRunId(runId);
    const start = checkPrefix(runId, prefix);
    const matched = this.#codec.artifactPrefix(start);
    let after = '';
    for (;;) {
      const { rows } = await this.#pool.query(
        `listing artifacts of run '${runId}'`,
        this.#sql.artifactKeys,
        [runId, after, matched, matched, keyMarker, keysPerPage],
      );
      for (const row of rows as ArtifactKeyRow[]) {
        const key = this.#codec.artifactKeyOf(row);
        if (key?.startsWith(start)) yield key;
      }
      if (rows.length < keysPerPage) return;
      after = (rows[rows.length - 1] as ArtifactKeyRow).key;
    }
  }

  /**
   * Appends events of a run: all of them, or none when one cannot be stored.
   * @throws SerializationError naming the event when it cannot be stored
   */
  async appendEvents(runId: string, events: readonly WeftEvent[]): Promise<void> {
    this.#assertWritable();
    checkRunId(runId);
    checkArray(events, `Events of run '${runId}'`);
    const texts = this.#codec.events(runId, events);
    await this.#pool.transaction(
      `appending events of run '${runId}'`,
      async (client) => {
        await this.#requireRun(client, runId);
        for (let start = 0; start < texts.length; start += rowsPerStatement) {
          const chunk = texts.slice(start, start + rowsPerStatement);
          await client.query(
            insertEventsSql(postgresDialect, chunk.length),
            chunk.flatMap((text) => [runId, text]),
          );
        }
      },
      { idempotent: false },
    );
  }

  /** The run's events, in the order appended. */
  async listEvents(runId: string): Promise<WeftEvent[]> {
    checkRunId(runId);
    const { rows } = await this.#pool.query(
      `listing events of run '${runId}'`,
      this.#sql.listEvents,
      [runId],
    );
    return (rows as { data: string }[]).map((row) => this.#codec.event(row.data));
  }

  /** Closes the pool's connections. Later calls reject with a StoreError; closing again does nothing. */
  async close(): Promise<void> {
    await this.#writer?.close();
    await this.#pool.close();
  }

  async #migrate(): Promise<void> {
    const { schema } = this.#target;
    await this.#pool.withClient('opening it', async (client) => {
      const { rows } = await client.query<{ server_version_num: string }>(
        'SHOW server_version_num',
      );
      const tooOld = serverTooOld(Number(rows[0]?.server_version_num), this.location);
      if (tooOld) throw tooOld;
      const session: MigrationSession = {
        all: async (text, params = []) => (await client.query(text, [...params])).rows,
        run: async (text, params = []) => {
          await client.query(text, [...params]);
        },
      };
      await migrate(session, postgresDialect, {
        ...migrationTarget(this.#target),
        begin: ['BEGIN', migrationLock, ...(schema === undefined ? [] : [createSchema(schema)])],
      });
    });
  }

  async #requireRun(client: pg.PoolClient, id: string): Promise<void> {
    const { rowCount } = await client.query(this.#sql.hasRun, [id]);
    if (rowCount === 0) throw this.#noRun(id);
  }

  /** Throws when the store was opened for reading only. */
  #assertWritable(): void {
    if (this.#readOnly) {
      throw new StoreError(
        `The PostgreSQL store ${this.location} was opened for reading only: open it with ` +
          'PostgresStore.open (or openStore) to write.',
      );
    }
  }

  /**
   * Throws a StoreError when the run `id` does not exist, a RunBusyError when `owner` is
   * given and does not hold it; else, unless `held`, a StoreError too (an upsert of a run
   * that exists and is held wrote nothing: it did not exist when the upsert ran).
   */
  async #checkHolder(read: ReadRows, id: string, owner: string | undefined, held = false) {
    const holder = (await read(this.#sql.runHolder, [id]))[0] as RunRow | undefined;
    if (!holder) throw this.#noRun(id);
    if (owner !== undefined && holder.owner !== owner) {
      throw notHeld(id, owner, holder.owner, holder.lease_expires_at);
    }
    if (!held) throw this.#noRun(id);
  }

  #noRun(id: string): StoreError {
    return new StoreError(
      `Run '${id}' does not exist in the PostgreSQL store ${this.location}: open it with openRun.`,
    );
  }
}

function poolFor(target: PostgresTarget, options: PostgresStoreOptions): PostgresPool {
  return new PostgresPool(target, {
    connectionTimeoutMs: options.connectionTimeoutMs ?? 5000,
    maxConnections: options.maxConnections ?? 10,
    applicationName: options.applicationName ?? 'weft',
  });
}

/** The database as the errors of opening it name it, and what to do instead. */
function migrationTarget({ schema, location }: PostgresTarget): MigrationTarget {
  return {
    what: `The PostgreSQL database ${location}${schema === undefined ? '' : ` (schema ${schema})`}`,
    fix: 'Give weft a schema of its own with ?schema=weft in the URL, or another database.',
    begin: [],
  };
}

/** The `run` of a session that only reads. */
async function run(): Promise<void> {
  throw new Error('a store opened for reading runs no statement that writes');
}

/** The parameters of `upsertTaskArraysSql`: the run id, then one array per column. */
function taskArrays(runId: string, rows: readonly TaskValues[]): unknown[] {
  const columns = Array.from({ length: taskValueCount }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let c = 0; c < taskValueCount; c++) columns[c]![i] = row[c];
  }
  return [runId, ...columns];
}

/** The artifact parameters of the upserts: one array per column (key, full key, data). */
function artifactArrays(artifacts: readonly ArtifactValues[]): unknown[] {
  return [
    artifacts.map((artifact) => artifact[0]),
    artifacts.map((artifact) => artifact[1]),
    artifacts.map((artifact) => artifact[2]),
  ];
}

/** Artifacts in groups of at most {@link artifactBytesPerStatement} bytes (or one artifact). */
function artifactChunks(artifacts: readonly ArtifactValues[]): (readonly ArtifactValues[])[] {
  const chunks: ArtifactValues[][] = [];
  let chunk: ArtifactValues[] = [];
  let bytes = 0;
  for (const artifact of artifacts) {
    const size = artifact[2].byteLength;
    if (
      chunk.length > 0 &&
      (bytes + size > artifactBytesPerStatement || chunk.length === artifactsPerStatement)
    ) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(artifact);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Creates the schema when missing. Not `CREATE SCHEMA IF NOT EXISTS`, which PostgreSQL
 * refuses to a user without the CREATE privilege even when the schema exists. The name
 * was checked to be a plain lower-case identifier (postgres-url.ts).
 */
function createSchema(schema: string): string {
  return (
    'DO $$ BEGIN IF NOT EXISTS ' +
    `(SELECT 1 FROM pg_namespace WHERE nspname = '${schema}') ` +
    // Quoted: a valid name may still be a reserved word (user, order).
    `THEN CREATE SCHEMA "${schema}"; END IF; END $$`
  );
}
