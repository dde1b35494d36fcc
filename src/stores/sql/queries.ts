/**
 * Every statement of the SQL stores, written once with `?` placeholders and rewritten for
 * each dialect, but for the task upserts, which each database does its fastest way. Upserts
 * use `INSERT … ON CONFLICT`, which SQLite and PostgreSQL share.
 */
import type { Dialect } from './dialect.ts';

/** Columns of `tasks` as written, in the order of `TaskValues` after `run_id`. */
export const taskColumns =
  'run_id, key, task, status, attempts, started_at, duration_ms, queued_ms, output, error';

/** What a later record of the same key replaces: everything but the first-recorded `seq`. */
export const taskConflict =
  'ON CONFLICT (run_id, key) DO UPDATE SET task = excluded.task, status = excluded.status, ' +
  'attempts = excluded.attempts, started_at = excluded.started_at, ' +
  'duration_ms = excluded.duration_ms, queued_ms = excluded.queued_ms, ' +
  'output = excluded.output, error = excluded.error';

const runColumns = 'id, status, created_at, updated_at, attempts, meta, error';
const taskRead = 'key, task, status, attempts, started_at, duration_ms, queued_ms, output, error';
const checkpointColumns = 'app_id, partition_key, sequence_id, position, state, status, created_at';

const shared = {
  /** Creates a run, or reopens it: running again, one more attempt, its old error gone. */
  openRun:
    'INSERT INTO runs (id, status, created_at, updated_at, attempts, meta) ' +
    "VALUES (?, 'running', ?, ?, 1, ?) ON CONFLICT (id) DO UPDATE SET status = 'running', " +
    'updated_at = excluded.updated_at, attempts = runs.attempts + 1, error = NULL ' +
    `RETURNING ${runColumns}`,
  setMeta: 'UPDATE runs SET meta = ? WHERE id = ?',
  finishRun: 'UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?',
  getRun: `SELECT ${runColumns} FROM runs WHERE id = ?`,
  hasRun: 'SELECT 1 AS found FROM runs WHERE id = ?',
  listRuns: `SELECT ${runColumns} FROM runs ORDER BY created_at DESC, seq DESC LIMIT ?`,
  /** SQLite only: the last sequence number of a run's tasks (see `Dialect.taskSeq`). */
  lastTaskSeq: 'SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks WHERE run_id = ?',
  completedOutputs:
    "SELECT key, output FROM tasks WHERE run_id = ? AND status = 'completed' ORDER BY seq",
  listTasks: `SELECT ${taskRead} FROM tasks WHERE run_id = ? ORDER BY seq`,
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
  putArtifact:
    'INSERT INTO artifacts (run_id, key, data) VALUES (?, ?, ?) ' +
    'ON CONFLICT (run_id, key) DO UPDATE SET data = excluded.data',
  getArtifact: 'SELECT data FROM artifacts WHERE run_id = ? AND key = ?',
  insertEvent: 'INSERT INTO events (run_id, data) VALUES (?, ?)',
  listEvents: 'SELECT data FROM events WHERE run_id = ? ORDER BY seq',
} as const;

/** The statements, by name. */
export type Queries = { readonly [K in keyof typeof shared]: string };

const cache = new Map<string, Queries>();

/** The statements in the dialect's placeholder form. */
export function queriesFor(dialect: Dialect): Queries {
  let queries = cache.get(dialect.name);
  if (!queries) {
    queries = Object.fromEntries(
      Object.entries(shared).map(([name, sql]) => [name, dialect.placeholders(sql)]),
    ) as Queries;
    cache.set(dialect.name, queries);
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
    11,
    taskConflict,
  );
}

/**
 * PostgreSQL only: the upsert of any number of task records in one statement, from one
 * array per column of `TaskValues` ($2 to $10) for the run $1. Ten parameters whatever the
 * count, so the statement text never changes and binding costs little. Rows go in array
 * order, which numbers `seq`, and none go in when the run does not exist: the row count
 * then says so.
 */
export const upsertTaskArraysSql =
  `INSERT INTO tasks (${taskColumns}) ` +
  'SELECT $1, key, task, status, attempts, started_at, duration_ms, queued_ms, output, error ' +
  'FROM unnest($2::text[], $3::text[], $4::text[], $5::integer[], $6::float8[], $7::float8[], ' +
  '$8::float8[], $9::text[], $10::text[]) WITH ORDINALITY ' +
  'AS r (key, task, status, attempts, started_at, duration_ms, queued_ms, output, error, n) ' +
  `WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1) ORDER BY n ${taskConflict}`;

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
