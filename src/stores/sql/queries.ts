/**
 * Every statement of the SQL stores, written once with `?` placeholders and rewritten for
 * each dialect, but for the task upserts, which each database does its fastest way. Upserts
 * use `INSERT … ON CONFLICT`, which SQLite and PostgreSQL share. `NOW_MS` stands for the
 * database's clock in milliseconds since the epoch (see `Dialect.clockMs`): leases are
 * judged by it, so that processes on machines whose clocks disagree still agree on them.
 */
import type { Dialect } from './dialect.ts';
import { artifactBlobVersion, artifactFullKeyVersion, latestVersion } from './migrations.ts';

/** Columns of `tasks` as written, in the order of `TaskValues` after `run_id`. */
export const taskColumns =
  'run_id, key, full_key, task, status, attempts, started_at, duration_ms, queued_ms, output, error';

/** What a later record of the same key replaces: everything but the first-recorded `seq`. */
export const taskConflict =
  'ON CONFLICT (run_id, key) DO UPDATE SET full_key = excluded.full_key, task = excluded.task, ' +
  'status = excluded.status, ' +
  'attempts = excluded.attempts, started_at = excluded.started_at, ' +
  'duration_ms = excluded.duration_ms, queued_ms = excluded.queued_ms, ' +
  'output = excluded.output, error = excluded.error';

/** Columns of `runs` read into a `RunRow`. */
export const runRead =
  'id, status, created_at, updated_at, attempts, meta, error, owner, lease_expires_at';
const taskRead =
  'key, full_key, task, status, attempts, started_at, duration_ms, queued_ms, output, error';
const checkpointColumns = 'app_id, partition_key, sequence_id, position, state, status, created_at';
/** Columns of `artifacts` as written, in the order of `ArtifactValues` after `run_id`. */
const artifactColumns = 'run_id, key, full_key, data, blob';
/** What a later write of the same artifact key replaces: everything. */
const artifactConflict =
  'ON CONFLICT (run_id, key) DO UPDATE SET full_key = excluded.full_key, data = excluded.data, ' +
  'blob = excluded.blob';

/**
 * Columns added after the first schema version, and what reading a database of an older
 * version (opened for reading only, so not migrated) gives in their place.
 */
const addedColumns: ReadonlyArray<readonly [version: number, column: string, absent: string]> = [
  [2, 'queued_ms', '0'],
  [3, 'owner', 'NULL'],
  [3, 'lease_expires_at', 'NULL'],
  [4, 'full_key', 'NULL'],
  [6, 'blob', 'NULL'],
];

/** A list of columns to read from a database of schema `version`. */
export function readable(columns: string, version: number): string {
  return columns
    .split(', ')
    .map((column) => {
      const added = addedColumns.find(([since, name]) => name === column && since > version);
      return added ? `${added[2]} AS ${column}` : column;
    })
    .join(', ');
}

/** The statements, as they read a database of schema `version`. */
const statements = (version: number) => {
  const runColumns = readable(runRead, version);
  const taskColumnsRead = readable(taskRead, version);
  return {
    /**
     * Creates a run, or reopens it (running again, one more attempt, its old error gone),
     * taking its lease in the same statement: parameters id, created and updated time, meta,
     * owner, lease length, and the owner to take over (or null). Reopening happens only when
     * nobody holds the run, its holder is the same owner or the one taken over, or the
     * holder's lease has expired; otherwise no row is returned (see `runHolder`).
     */
    openRun:
      'INSERT INTO runs (id, status, created_at, updated_at, attempts, meta, owner, lease_expires_at) ' +
      "VALUES (?, 'running', ?, ?, 1, ?, ?, NOW_MS + ?) ON CONFLICT (id) DO UPDATE SET " +
      "status = 'running', updated_at = excluded.updated_at, attempts = runs.attempts + 1, " +
      'error = NULL, owner = excluded.owner, lease_expires_at = excluded.lease_expires_at ' +
      'WHERE runs.owner IS NULL OR runs.owner = excluded.owner OR runs.owner = ? ' +
      `OR runs.lease_expires_at <= NOW_MS RETURNING ${runColumns}`,
    /** Who holds a run that `openRun` did not reopen, and until when. */
    runHolder: 'SELECT owner, lease_expires_at FROM runs WHERE id = ?',
    setMeta: 'UPDATE runs SET meta = ? WHERE id = ?',
    /** Extends the lease of its holder only: lease length, id, owner. */
    renewLease: 'UPDATE runs SET lease_expires_at = NOW_MS + ? WHERE id = ? AND owner = ?',
    /** Finishes a run and releases its lease, whoever holds it. */
    finishRun:
      'UPDATE runs SET status = ?, error = ?, updated_at = ?, owner = NULL, ' +
      'lease_expires_at = NULL WHERE id = ?',
    /** Finishes a run and releases its lease, only when the owner given holds it. */
    finishOwnedRun:
      'UPDATE runs SET status = ?, error = ?, updated_at = ?, owner = NULL, ' +
      'lease_expires_at = NULL WHERE id = ? AND owner = ?',
    getRun: `SELECT ${runColumns} FROM runs WHERE id = ?`,
    hasRun: 'SELECT 1 AS found FROM runs WHERE id = ?',
    /** SQLite only: the last sequence number of a run's tasks (see `Dialect.taskSeq`). */
    lastTaskSeq: 'SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks WHERE run_id = ?',
    completedOutputs:
      `SELECT ${readable('key, full_key, output', version)} FROM tasks ` +
      "WHERE run_id = ? AND status = 'completed' ORDER BY seq",
    listTasks: `SELECT ${taskColumnsRead} FROM tasks WHERE run_id = ? ORDER BY seq`,
    countCompleted: "SELECT COUNT(*) AS n FROM tasks WHERE run_id = ? AND status = 'completed'",
    /** One page of a run's tasks after the sequence number given: run id, seq, page size. */
    streamTasks: `SELECT ${taskColumnsRead}, seq FROM tasks WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    /** As `streamTasks`, without reading the outputs. */
    streamTaskHeads:
      `SELECT ${taskColumnsRead.replace('output', 'NULL AS output')}, seq FROM tasks ` +
      'WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    saveCheckpoint:
      `INSERT INTO checkpoints (${checkpointColumns}) VALUES (?, ?, ?, ?, ?, ?, ?) ` +
      'ON CONFLICT (app_id, partition_key, sequence_id) DO UPDATE SET ' +
      'position = excluded.position, state = excluded.state, status = excluded.status, ' +
      'created_at = excluded.created_at',
    loadCheckpoint:
      `SELECT ${checkpointColumns} FROM checkpoints ` +
      'WHERE app_id = ? AND partition_key = ? AND sequence_id = ?',
    loadLatestCheckpoint:
      `SELECT ${checkpointColumns} FROM checkpoints WHERE app_id = ? AND partition_key = ? ` +
      'ORDER BY sequence_id DESC LIMIT 1',
    /**
     * Stores an artifact: run id, stored key, the full key beside a digest (or null), data,
     * and the blob holding it instead (or null).
     */
    putArtifact: `INSERT INTO artifacts (${artifactColumns}) VALUES (?, ?, ?, ?, ?) ${artifactConflict}`,
    /** An artifact's bytes, or the blob that holds them: run id, stored key. */
    getArtifact: `SELECT ${readable('data, blob', version)} FROM artifacts WHERE run_id = ? AND key = ?`,
    /** Whether the run holds an artifact under the stored key: run id, stored key. */
    hasArtifact: 'SELECT 1 AS found FROM artifacts WHERE run_id = ? AND key = ?',
    /**
     * One page of a run's artifact keys after the stored key given, in the index's order:
     * run id, stored key, a prefix twice, the key marker, page size. Keys stored as they are
     * are those starting with the prefix; every key stored in another form (starting with
     * the marker) is read too, to be decoded and matched after.
     */
    artifactKeys:
      `SELECT key, ${version >= artifactFullKeyVersion ? 'full_key' : 'NULL AS full_key'}, ` +
      `${version >= artifactBlobVersion ? 'blob' : 'NULL AS blob'} ` +
      'FROM artifacts WHERE run_id = ? AND key > ? ' +
      'AND (substr(key, 1, length(CAST(? AS TEXT))) = ? OR substr(key, 1, 1) = ?) ' +
      'ORDER BY key LIMIT ?',
    insertEvent: 'INSERT INTO events (run_id, data) VALUES (?, ?)',
    listEvents: 'SELECT data FROM events WHERE run_id = ? ORDER BY seq',
  } as const;
};

/** The statements, by name. */
export type Queries = { readonly [K in keyof ReturnType<typeof statements>]: string };

const cache = new Map<string, Queries>();

/**
 * The statements in the dialect's placeholder form, with its clock.
 * @param version the schema version of the database: an older one than this weft's is only
 *   read (see `PostgresStore.openExisting`), and its reads give defaults for newer columns
 */
export function queriesFor(dialect: Dialect, version = latestVersion): Queries {
  const name = `${dialect.name}:${version}`;
  let queries = cache.get(name);
  if (!queries) {
    queries = Object.fromEntries(
      Object.entries(statements(version)).map(([name, sql]) => [
        name,
        dialect.placeholders(sql.replaceAll('NOW_MS', dialect.clockMs)),
      ]),
    ) as Queries;
    cache.set(name, queries);
  }
  return queries;
}

/**
 * SQLite only: the upsert of `rows` task records in one statement, each the run id, its
 * `TaskValues` and its sequence number.
 */
export function upsertTasksSql(dialect: Dialect, rows: number): string {
  return multiRow(
    dialect,
    `INSERT INTO tasks (${taskColumns}, seq) VALUES`,
    rows,
    12,
    taskConflict,
  );
}

/**
 * PostgreSQL only: the upsert of any number of task records in one statement, from one
 * array per column of `TaskValues` ($2 to $11) for the run $1, written only while the owner
 * $12 holds the run (when $12 is not null). Twelve parameters whatever the count, so the
 * statement text never changes and binding costs little. Rows go in array order, which
 * numbers `seq`, and none go in when the run does not exist or $12 does not hold it: the
 * row count then says so. The run's row is share-locked until commit: a takeover (which
 * updates it) waits for the write, and a write arriving during a takeover waits for it and
 * then sees the new owner.
 */
export const upsertTaskArraysSql =
  `INSERT INTO tasks (${taskColumns}) ` +
  'SELECT $1, key, full_key, task, status, attempts, started_at, duration_ms, queued_ms, ' +
  'output, error FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], ' +
  '$7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[]) WITH ORDINALITY AS r ' +
  '(key, full_key, task, status, attempts, started_at, duration_ms, queued_ms, output, error, n) ' +
  'WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1 AND ($12::text IS NULL OR owner = $12) ' +
  `FOR SHARE) ORDER BY n ${taskConflict}`;

/**
 * PostgreSQL only: the outputs of those of the keys ($2, an array) that completed in the
 * run $1, each with its place in the array from 0 (`at`). One primary-key search per key,
 * whatever the statistics say: the LIMIT keeps the subquery a subquery. On a table not yet
 * analysed (right after a large first run) a join, or `key = ANY($2)`, read every task of
 * the run for a lookup (the latter until the server switched to a generic plan).
 */
export const findCompletedArraySql =
  'SELECT (k.at - 1)::int AS at, t.output FROM unnest($2::text[]) WITH ORDINALITY AS k(key, at) ' +
  'CROSS JOIN LATERAL (SELECT output FROM tasks WHERE run_id = $1 AND key = k.key ' +
  "AND status = 'completed' LIMIT 1) AS t";

/**
 * SQLite only: for each of the keys (a JSON array, the first parameter), in their order,
 * its output if it completed in the run (the second), else 0 (outputs are text or null).
 * One row per key, one index search each: no temporary index of the keys is built.
 */
export const findCompletedJsonSql =
  'SELECT CASE WHEN t.rowid IS NULL THEN 0 ELSE t.output END AS output FROM json_each(?) AS j ' +
  "LEFT JOIN tasks AS t ON t.run_id = ? AND t.key = j.value AND t.status = 'completed' " +
  'ORDER BY j.key';

/**
 * SQLite only: for each of the stored artifact keys (a JSON array, the first parameter), in
 * their order, the artifact's bytes and the blob naming its file in the run (the second),
 * both null for a key the run holds nothing under (`data` is never null in a row). One
 * row per key, one primary-key search each, as {@link findCompletedJsonSql}.
 */
export const getArtifactsJsonSql =
  'SELECT a.data, a.blob FROM json_each(?) AS j ' +
  'LEFT JOIN artifacts AS a ON a.run_id = ? AND a.key = j.value ORDER BY j.key';

/**
 * PostgreSQL only: the bytes of those of the stored artifact keys ($2, an array) the run
 * $1 holds, each with its place in the array from 0 (`at`): one primary-key search per
 * key, as {@link findCompletedArraySql}.
 */
export const getArtifactsArraySql =
  'SELECT (k.at - 1)::int AS at, a.data FROM unnest($2::text[]) WITH ORDINALITY AS k(key, at) ' +
  'CROSS JOIN LATERAL (SELECT data FROM artifacts WHERE run_id = $1 AND key = k.key LIMIT 1) AS a';

/** The insert of `rows` events in one statement (run id, data). */
export function insertEventsSql(dialect: Dialect, rows: number): string {
  return multiRow(dialect, 'INSERT INTO events (run_id, data) VALUES', rows, 2, '');
}

const multiRowCache = new Map<string, string>();

function multiRow(dialect: Dialect, head: string, rows: number, width: number, tail: string) {
  const name = `${dialect.name}:${head}:${rows}`;
  let text = multiRowCache.get(name);
  if (text === undefined) {
    const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    text = dialect.placeholders(
      `${head} ${Array.from({ length: rows }, () => row).join(', ')} ${tail}`,
    );
    // Full chunks, the common size, stay cached; the odd last chunk of each batch need not.
    if (multiRowCache.size < 32) multiRowCache.set(name, text);
  }
  return text;
}

/**
 * SQLite only: the upsert of `rows` artifacts in one statement, each the run id and its
 * `ArtifactValues`.
 */
export function upsertArtifactsSql(dialect: Dialect, rows: number): string {
  return multiRow(
    dialect,
    `INSERT INTO artifacts (${artifactColumns}) VALUES`,
    rows,
    5,
    artifactConflict,
  );
}

/**
 * PostgreSQL only: the upsert of any number of artifacts of the run $1, from one array per
 * column of `ArtifactValues` but the blob ($2 key, $3 full key, $4 data): they are all in
 * the database. A key appears once (a statement may not update a row twice).
 */
export const upsertArtifactArraysSql =
  `INSERT INTO artifacts (${artifactColumns}) ` +
  'SELECT $1, key, full_key, data, NULL FROM unnest($2::text[], $3::text[], $4::bytea[]) ' +
  `AS a (key, full_key, data) ${artifactConflict}`;

/**
 * PostgreSQL only: task records and their artifacts in one statement, so in one
 * transaction and one round trip: {@link upsertTaskArraysSql} ($1 to $12) and the
 * artifacts' arrays ($13 key, $14 full key, $15 data), which go in only when the records
 * did (the run exists and, given $12, that owner holds it). Counts the artifacts written:
 * none when the records were not.
 */
export const upsertTasksWithArtifactsSql =
  `WITH recorded AS (${upsertTaskArraysSql} RETURNING 1) ` +
  `INSERT INTO artifacts (${artifactColumns}) ` +
  'SELECT $1, key, full_key, data, NULL FROM unnest($13::text[], $14::text[], $15::bytea[]) ' +
  `AS a (key, full_key, data) WHERE EXISTS (SELECT 1 FROM recorded) ${artifactConflict}`;
