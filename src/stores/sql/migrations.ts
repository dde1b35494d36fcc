/**
 * weft's SQL schema, as an ordered list of versioned migrations written once for both SQL
 * stores: the dialect supplies the few words that differ. A database's `weft_meta` table
 * marks it as weft's and holds the version reached; opening a store applies, in one
 * transaction, the migrations above that version. Never edit a released migration: add
 * the next one.
 */
import type { Dialect } from './dialect.ts';

/** One step of the schema. */
export interface Migration {
  /** 1, 2, 3, … with no gap: the schema version this migration brings the database to. */
  readonly version: number;
  /** What it changes, for people reading the list. */
  readonly description: string;
  /** The statements, in order, for one database. */
  readonly statements: (dialect: Dialect) => readonly string[];
}

/** Every migration, oldest first. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, tasks, checkpoints, artifacts and events',
    statements: (d) => [
      `CREATE TABLE runs (
        seq ${d.serialKey},
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
        created_at ${d.double} NOT NULL,
        updated_at ${d.double} NOT NULL,
        attempts INTEGER NOT NULL,
        meta TEXT NOT NULL,
        error TEXT
      )`,
      'CREATE INDEX runs_newest ON runs (created_at, seq)',
      `CREATE TABLE tasks (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        task TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
        attempts INTEGER NOT NULL,
        started_at ${d.double} NOT NULL,
        duration_ms ${d.double} NOT NULL,
        output TEXT,
        error TEXT,
        seq ${d.taskSeq},
        PRIMARY KEY (run_id, key)
      )`,
      'CREATE INDEX tasks_in_order ON tasks (run_id, seq)',
      `CREATE TABLE checkpoints (
        app_id TEXT NOT NULL,
        partition_key TEXT NOT NULL,
        sequence_id INTEGER NOT NULL,
        position TEXT NOT NULL,
        state TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
        created_at ${d.double} NOT NULL,
        PRIMARY KEY (app_id, partition_key, sequence_id)
      )`,
      `CREATE TABLE artifacts (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        data ${d.bytes} NOT NULL,
        PRIMARY KEY (run_id, key)
      )`,
      `CREATE TABLE events (
        seq ${d.serialKey},
        run_id TEXT NOT NULL,
        data TEXT NOT NULL
      )`,
      'CREATE INDEX events_in_order ON events (run_id, seq)',
    ],
  },
  {
    version: 2,
    description: "tasks.queued_ms: a task's wait for a worker, apart from its duration",
    statements: (d) => [`ALTER TABLE tasks ADD COLUMN queued_ms ${d.double} NOT NULL DEFAULT 0`],
  },
  {
    version: 3,
    description:
      "runs.owner and runs.lease_expires_at: the run's lease, held by one process at a time",
    statements: (d) => [
      'ALTER TABLE runs ADD COLUMN owner TEXT',
      `ALTER TABLE runs ADD COLUMN lease_expires_at ${d.double}`,
    ],
  },
  {
    version: 4,
    description:
      'tasks.full_key: keys too long for an index are stored by digest, in full beside it ' +
      '(PostgreSQL: the long keys already stored move there)',
    statements: (d) => [
      'ALTER TABLE tasks ADD COLUMN full_key TEXT',
      ...(d.name === 'postgres' ? digestLongKeys(d.maxKeyBytes) : []),
    ],
  },
  {
    version: 5,
    description:
      'artifacts.full_key: an artifact key stored by digest in full beside it, so that ' +
      "listing a run's artifacts names each (the long keys digested by version 4 stay unnamed)",
    statements: () => ['ALTER TABLE artifacts ADD COLUMN full_key TEXT'],
  },
  {
    version: 6,
    description:
      'artifacts.blob: the SHA-256 of an artifact kept as a file outside the database ' +
      '(SQLite: values over its threshold), its `data` then empty; NULL when `data` holds it. ' +
      'SQLite: the table is rebuilt WITHOUT ROWID, so that a row and its key are stored ' +
      'once (not again in an index): artifacts now live in the database',
    statements: (d) =>
      d.name === 'sqlite'
        ? [
            `CREATE TABLE artifacts_v6 (
              run_id TEXT NOT NULL,
              key TEXT NOT NULL,
              data ${d.bytes} NOT NULL,
              full_key TEXT,
              blob TEXT,
              PRIMARY KEY (run_id, key)
            ) WITHOUT ROWID`,
            'INSERT INTO artifacts_v6 (run_id, key, data, full_key) ' +
              'SELECT run_id, key, data, full_key FROM artifacts',
            'DROP TABLE artifacts',
            'ALTER TABLE artifacts_v6 RENAME TO artifacts',
          ]
        : ['ALTER TABLE artifacts ADD COLUMN blob TEXT'],
  },
  {
    version: 7,
    description:
      "indexes for a viewer of runs: a run's failed tasks in the order recorded (a partial " +
      'index, which only failed records pay for: counts, pages and keys of failed tasks; the ' +
      'completed ones are all the others), runs by status newest first. SQLite: the index of ' +
      "a run's tasks in the order recorded also holds their name, status, start and " +
      'duration, so that sums, histograms, the slowest tasks and pages by name read it ' +
      'rather than rows that hold outputs (PostgreSQL keeps it: an index row there has a ' +
      'size limit a task name could pass). PostgreSQL: tasks.key compares in code point ' +
      'order (collation "C"), so that the keys under a prefix are one range of the primary ' +
      'key whatever the database collation (the index is rebuilt)',
    statements: (d) => [
      "CREATE INDEX tasks_failed ON tasks (run_id, seq) WHERE status = 'failed'",
      'CREATE INDEX runs_by_status ON runs (status, created_at, seq)',
      ...(d.name === 'sqlite'
        ? [
            'DROP INDEX tasks_in_order',
            'CREATE INDEX tasks_in_order ON tasks ' +
              '(run_id, seq, task, status, started_at, duration_ms)',
          ]
        : ['ALTER TABLE tasks ALTER COLUMN key TYPE TEXT COLLATE "C"']),
    ],
  },
];

/**
 * Stores the keys longer than `maxBytes` that a PostgreSQL database already holds (short
 * enough, or compressible enough, for its index) as key-codec.ts stores them now: the
 * marker U+FFFF, `#` and the SHA-256 of the key's UTF-8 bytes, the task key in full
 * beside it. Those keys are well-formed and hold no NUL, so they are their own full form.
 */
function digestLongKeys(maxBytes: number): string[] {
  const digest = (column: string) =>
    `chr(65535) || '#' || encode(sha256(convert_to(${column}, 'UTF8')), 'hex')`;
  const long = (column: string) => `octet_length(${column}) > ${maxBytes}`;
  return [
    `UPDATE tasks SET full_key = key, key = ${digest('key')} WHERE ${long('key')}`,
    `UPDATE artifacts SET key = ${digest('key')} WHERE ${long('key')}`,
    `UPDATE checkpoints SET app_id = ${digest('app_id')} WHERE ${long('app_id')}`,
    `UPDATE checkpoints SET partition_key = ${digest('partition_key')} WHERE ${long('partition_key')}`,
  ];
}

/** The schema version from which keys too long for an index are stored by digest. */
export const keyDigestVersion = 4;

/** The schema version from which an artifact key stored by digest is kept in full beside it. */
export const artifactFullKeyVersion = 5;

/** The schema version from which an artifact may be a file, named in `artifacts.blob`. */
export const artifactBlobVersion = 6;

/** The schema version this code writes and reads. */
export const latestVersion = migrations.length;

/** The table that marks a database as weft's; created before the first migration. */
export const metaTable = 'weft_meta';

/** Creates {@link metaTable}: one row per fact, `schema_version` among them. */
export const createMetaTable = `CREATE TABLE ${metaTable} (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
)`;
