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
    const file = join(folder, 'v1.db');
    const db = new Database(file);
    for (const sql of versionStatements(sqliteDialect, 1)) db.prepare(sql).run();
    db.close();
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
    const statements = versionStatements(postgresDialect, 1);
    await queryPostgres(
      `CREATE SCHEMA ${schema.name}; SET search_path TO ${schema.name}; ${statements.join('; ')}`,
    );
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
