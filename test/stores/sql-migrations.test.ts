/**
 * Databases written by an earlier weft: a store opened on one brings its schema up to
 * date in place, and the task records already there read back as the new fields say
 * (version 2 added `queued_ms`: records written before it waited 0 ms).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Store } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { type Dialect, postgresDialect, sqliteDialect } from '../../src/stores/sql/dialect.ts';
import { createMetaTable, latestVersion, migrations } from '../../src/stores/sql/migrations.ts';
import {
  failedKeysSql,
  prefixCountSql,
  runsSql,
  taskPageSql,
} from '../../src/stores/sql/run-queries.ts';
import { freshPostgresSchema, queryPostgres } from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-sql-migrations-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** The statements that leave a database as schema version `version` left it, with one run and one task. */
function versionStatements(dialect: Dialect, version: number): string[] {
  return [
    createMetaTable,
    ...migrations.filter((m) => m.version <= version).flatMap((m) => m.statements(dialect)),
    `INSERT INTO weft_meta (name, value) VALUES ('schema_version', '${version}')`,
    "INSERT INTO runs (id, status, created_at, updated_at, attempts, meta) VALUES ('old', 'completed', 1, 2, 1, '[{}]')",
    // PostgreSQL numbers tasks.seq itself; SQLite's store numbers it.
    `INSERT INTO tasks (run_id, key, task, status, attempts, started_at, duration_ms, output, error${dialect.name === 'sqlite' ? ', seq' : ''}) ` +
      `VALUES ('old', 'old/map:square/0', 'square', 'completed', 1, 1700000000000, 12.5, '[4]', NULL${dialect.name === 'sqlite' ? ', 1' : ''})`,
  ];
}

/** A SQLite file `name` in the test folder, as schema version `version` left it. */
function oldSqliteFile(name: string, version: number): string {
  const file = join(folder, name);
  const db = new Database(file);
  for (const sql of versionStatements(sqliteDialect, version)) db.prepare(sql).run();
  db.close();
  return file;
}

/** Creates `schema` and runs `statements` in it. */
async function createSchema(schema: { readonly name: string }, statements: readonly string[]) {
  await queryPostgres(
    `CREATE SCHEMA ${schema.name}; SET search_path TO ${schema.name}; ${statements.join('; ')}`,
  );
}

async function assertMigrated(store: Store): Promise<void> {
  const [old] = await store.listTasks('old');
  assert.equal(old?.key, 'old/map:square/0');
  assert.equal(old?.durationMs, 12.5);
  assert.equal(old?.queuedMs, 0, 'a record written before queued_ms waited 0 ms');
  assert.equal(old?.output, 4);
  await store.recordTasks('old', [
    {
      key: 'old/map:square/1',
      task: 'square',
      status: 'completed',
      attempts: 1,
      startedAt: 1_700_000_000_100,
      durationMs: 3,
      queuedMs: 41.5,
      output: 9,
    },
  ]);
  const listed = await store.listTasks('old');
  assert.deepEqual(
    listed.map((record) => record.queuedMs),
    [0, 41.5],
  );
  // Version 3 added the lease: a run written before it is held by nobody.
  const run = await store.getRun('old');
  assert.equal(run?.owner, undefined);
  assert.equal(run?.leaseExpiresAt, undefined);
  const reopened = await store.openRun('old', {}, { owner: 'after-upgrade', leaseMs: 60_000 });
  assert.equal(reopened.attempts, 2);
  assert.equal(reopened.owner, 'after-upgrade');
}

describe('migrating a version-1 database (weft 0.1)', () => {
  const schema = freshPostgresSchema('migrate');

  it('is version 2 or later in this weft', () => {
    assert.ok(latestVersion >= 2);
  });

  it('SQLite: the file is brought up to date and its task records read back', async () => {
    const file = oldSqliteFile('v1.db', 1);
    const store = await SqliteStore.open(file);
    try {
      await assertMigrated(store);
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    const meta = after.prepare("SELECT value FROM weft_meta WHERE name = 'schema_version'").get();
    after.close();
    assert.deepEqual(meta, { value: String(latestVersion) });
  });

  it('PostgreSQL: the schema is brought up to date and its task records read back', async () => {
    await createSchema(schema, versionStatements(postgresDialect, 1));
    const store = await PostgresStore.open(schema.url);
    try {
      await assertMigrated(store);
    } finally {
      await store.close();
    }
    const { rows } = await queryPostgres(
      `SELECT value FROM ${schema.name}.weft_meta WHERE name = 'schema_version'`,
    );
    assert.deepEqual(rows, [{ value: String(latestVersion) }]);
  });
});

describe('reading a version-1 SQLite file (weft runs, weft show)', () => {
  it('reads it through a copy brought up to date in memory, and leaves the file as it was', async () => {
    const file = join(folder, 'v1-read.db');
    // An older weft still has the file open, with its last records only in the WAL.
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    for (const sql of versionStatements(sqliteDialect, 1)) writer.prepare(sql).run();
    const digest = () => createHash('sha256').update(readFileSync(file)).digest('hex');
    const before = digest();
    try {
      const store = await SqliteStore.openExisting(file);
      assert.ok(store, 'the store is found');
      try {
        const [old] = await store.listTasks('old');
        assert.equal(old?.key, 'old/map:square/0');
        assert.equal(old?.queuedMs, 0);
        assert.equal(old?.output, 4);
      } finally {
        await store.close();
      }
      assert.equal(digest(), before, 'the file is unchanged');
      const meta = writer
        .prepare("SELECT value FROM weft_meta WHERE name = 'schema_version'")
        .get();
      assert.deepEqual(meta, { value: '1' });
    } finally {
      writer.close();
    }
  });
});

describe('schema version 7: indexes for a viewer of runs', () => {
  const schema = freshPostgresSchema('migrate_v7');
  const failedPage = { limit: 50, status: 'failed', after: 0, order: 'recorded' } as const;
  const query = { ...failedPage, task: undefined, keyPrefix: undefined };

  it('is this weft’s version', () => {
    assert.equal(latestVersion, 7);
  });

  it('SQLite: a version-6 file gets the indexes, and the queries use them', async () => {
    const file = oldSqliteFile('v6.db', 6);
    const store = await SqliteStore.open(file);
    try {
      await store.recordTasks('old', [
        {
          key: 'old/f',
          task: 'square',
          status: 'failed',
          attempts: 1,
          startedAt: 1,
          durationMs: 1,
        },
      ]);
      assert.deepEqual(
        (await store.queries?.taskPage('old', failedPage))?.tasks.map((task) => task.key),
        ['old/f'],
      );
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      const plan = (text: string, values: unknown[]) =>
        (after.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...values) as { detail: string }[])
          .map((row) => row.detail)
          .join('; ');
      const page = taskPageSql(sqliteDialect, latestVersion, 'old', query, undefined);
      assert.match(plan(page.text, page.values), /tasks_failed/);
      assert.match(plan(failedKeysSql(sqliteDialect), ['old', 10]), /tasks_failed/);
      const runs = runsSql(
        sqliteDialect,
        latestVersion,
        { status: 'failed', search: undefined },
        {
          limit: 10,
          before: undefined,
        },
      );
      assert.match(plan(runs.text, runs.values), /runs_by_status/);
    } finally {
      after.close();
    }
  });

  it('PostgreSQL: task keys compare in code point order, so a prefix is a range of the primary key', async () => {
    // As a database whose default collation is a language's leaves the column: there,
    // 'map:a-1' sorts between 'map:a/0' and 'map:a/2', and 'mapa' before 'map:b'.
    await createSchema(schema, [
      ...versionStatements(postgresDialect, 6),
      'ALTER TABLE tasks ALTER COLUMN key TYPE TEXT COLLATE "en-US-x-icu"',
    ]);
    const keys = ['map:a/0', 'map:a-1', 'map:a/2', 'mapa/3', 'map:A/4', 'map:a/Z', 'map:b/5'];
    const store = await PostgresStore.open(schema.url);
    try {
      await store.recordTasks(
        'old',
        keys.map((key, i) => ({
          key,
          task: 'square',
          status: i % 2 ? 'failed' : 'completed',
          attempts: 1,
          startedAt: 1,
          durationMs: 1,
          output: i,
        })),
      );
      const prefixes = ['map:a/', 'map:a', 'map:', 'old/', 'map:A'];
      const counts = await store.queries?.countTasksByPrefix('old', prefixes);
      assert.deepEqual(
        counts,
        prefixes.map((prefix) => {
          const under = ['old/map:square/0', ...keys].filter((key) => key.startsWith(prefix));
          const failed = under.filter((key) => keys.indexOf(key) % 2 === 1).length;
          return { completed: under.length - failed, failed };
        }),
      );
    } finally {
      await store.close();
    }
    const { rows } = await queryPostgres(
      'SELECT collation_name FROM information_schema.columns ' +
        "WHERE table_schema = $1 AND table_name = 'tasks' AND column_name = 'key'",
      [schema.name],
    );
    assert.deepEqual(rows, [{ collation_name: 'C' }]);
    const plan = await queryPostgres(
      `SET search_path TO ${schema.name}; SET enable_seqscan = off; SET enable_bitmapscan = off; ` +
        `EXPLAIN ${prefixCountSql(postgresDialect, true)
          .replace('$1', "'old'")
          .replace('$2', "'map:a/'")
          .replace('$3', "'map:a0'")}`,
    );
    const text = (plan as unknown as { rows: { 'QUERY PLAN': string }[] }[])
      .at(-1)!
      .rows.map((row) => row['QUERY PLAN'])
      .join('\n');
    assert.match(text, /Index Cond: .*key.*>=/, text);
  });
});
