/**
 * Stores that cannot be opened say why and what to do, with a StoreError (or a
 * ValidationError for a URL weft does not know), and never change a file or schema that
 * is not theirs: a corrupt file, someone else's SQLite database or PostgreSQL schema, one
 * written by a newer weft, a folder, a wrong URL, a server that is down or silent, a
 * database or user that does not exist.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isWeftError, openStore } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { latestVersion } from '../../src/stores/sql/migrations.ts';
import {
  freshPostgresSchema,
  postgresUrl,
  queryPostgres,
  withSchema,
} from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-store-errors-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('errors');

/** The rejection of `promise`, which must be a weft error with `code`. */
async function weftRejection(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    (store) => {
      void (store as { close?: () => Promise<void> })?.close?.();
      assert.fail('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  assert.ok(isWeftError(error, code), `${code}, not ${String(error)}`);
  return error as Error;
}

/** The file's bytes and the names in its folder, to prove nothing was written. */
function snapshot(file: string): { bytes: Buffer; siblings: string[] } {
  return { bytes: readFileSync(file), siblings: readdirSync(join(file, '..')).sort() };
}

describe('SQLite files weft must not touch', () => {
  it('a file of random bytes: StoreError naming the file, file unchanged', async () => {
    const dir = mkdtempSync(join(folder, 'corrupt-'));
    const file = join(dir, 'weft.db');
    writeFileSync(file, randomBytes(8192));
    const before = snapshot(file);
    const error = await weftRejection(openStore(`sqlite:${file}`), 'WEFT_STORE');
    assert.equal(error.name, 'StoreError');
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /not a SQLite database, or it is damaged/);
    assert.match(error.message, /point the store at another file/);
    assert.deepEqual(snapshot(file), before);
  });

  it("another program's SQLite database: StoreError, database unchanged", async () => {
    const dir = mkdtempSync(join(folder, 'foreign-'));
    const file = join(dir, 'app.db');
    const db = new Database(file);
    db.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada')",
    );
    db.close();
    const before = snapshot(file);
    const error = await weftRejection(openStore(file), 'WEFT_STORE');
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /is not a weft store: it holds tables \(users\) but no weft_meta/);
    assert.deepEqual(snapshot(file), before);
  });

  it('a database written by a newer weft: StoreError, database unchanged', async () => {
    const file = join(mkdtempSync(join(folder, 'newer-')), 'weft.db');
    await (await SqliteStore.open(file)).close();
    const db = new Database(file);
    db.prepare("UPDATE weft_meta SET value = ? WHERE name = 'schema_version'").run(
      String(latestVersion + 1),
    );
    db.close();
    const before = snapshot(file);
    const error = await weftRejection(SqliteStore.open(file), 'WEFT_STORE');
    assert.match(error.message, new RegExp(`schema version ${latestVersion + 1}.*newer weft`));
    assert.match(error.message, /Upgrade weft/);
    assert.deepEqual(snapshot(file), before);
  });

  it('a folder where the file should be: StoreError', async () => {
    const dir = join(folder, 'a-folder.db');
    mkdirSync(dir);
    const error = await weftRejection(openStore(`sqlite:${dir}`), 'WEFT_STORE');
    assert.match(error.message, /Cannot open the SQLite file .*a-folder\.db/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a run that was never opened: StoreError naming the run', async () => {
    const store = await SqliteStore.open(join(folder, 'runs.db'));
    try {
      const error = await weftRejection(
        store.recordTasks('never-opened', [
          { key: 'k', task: 't', status: 'completed', attempts: 1, startedAt: 0, durationMs: 0 },
        ]),
        'WEFT_STORE',
      );
      assert.match(error.message, /Run 'never-opened' does not exist .*openRun/);
      await weftRejection(store.finishRun('never-opened', 'completed'), 'WEFT_STORE');
    } finally {
      await store.close();
    }
  });
});

describe('store URLs weft does not know', () => {
  for (const url of ['mysql://root:hunter2@localhost/app', 'weft.txt', 'sqlite', 'redis://x']) {
    it(`'${url}': ValidationError listing the accepted forms`, async () => {
      const error = await weftRejection(openStore(url), 'WEFT_VALIDATION');
      assert.equal(error.name, 'ValidationError');
      for (const form of ['sqlite:<path>', '.db', 'postgres://', 'postgresql://', 'memory:']) {
        assert.ok(error.message.includes(form), `names ${form}: ${error.message}`);
      }
      assert.doesNotMatch(error.message, /hunter2/);
    });
  }

  it('a schema name PostgreSQL would fold or reject: ValidationError', async () => {
    const error = await weftRejection(
      openStore(withSchema(postgresUrl, 'Mixed-Case')),
      'WEFT_VALIDATION',
    );
    assert.match(error.message, /Schema 'Mixed-Case'/);
  });
});

describe('PostgreSQL servers and databases weft cannot use', () => {
  it('nothing listening: StoreError naming host:port and how to start it', async () => {
    const started = Date.now();
    const error = await weftRejection(
      openStore('postgres://postgres:hunter2@127.0.0.1:1/test'),
      'WEFT_STORE',
    );
    assert.ok(Date.now() - started < 5_000, 'fails within a few seconds');
    assert.match(error.message, /Cannot reach PostgreSQL at 127\.0\.0\.1:1 /);
    assert.match(error.message, /pg_ctlcluster --skip-systemctl-redirect/);
    assert.doesNotMatch(error.message, /hunter2/);
    assert.match(error.message, /postgres:\*\*\*@127\.0\.0\.1:1\/test/);
  });

  it('a server that never answers: StoreError once connectionTimeoutMs passes', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    try {
      const error = await weftRejection(
        PostgresStore.open(`postgres://postgres@127.0.0.1:${port}/test`, {
          connectionTimeoutMs: 300,
        }),
        'WEFT_STORE',
      );
      assert.match(error.message, new RegExp(`Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}`));
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('a database that does not exist: StoreError naming it', async () => {
    const url = new URL(postgresUrl);
    url.pathname = '/weft_no_such_database';
    const error = await weftRejection(openStore(url.toString()), 'WEFT_STORE');
    assert.match(error.message, /has no database 'weft_no_such_database'.*createdb/);
  });

  it('a user that does not exist: StoreError naming it', async () => {
    const url = new URL(postgresUrl);
    url.username = 'weft_no_such_user';
    const error = await weftRejection(openStore(url.toString()), 'WEFT_STORE');
    assert.match(error.message, /refused user 'weft_no_such_user'/);
  });

  it("another program's tables in the schema: StoreError, schema unchanged", async () => {
    const name = `${schema.name}_foreign`;
    try {
      await queryPostgres(`CREATE SCHEMA ${name}`);
      await queryPostgres(`CREATE TABLE ${name}.users (id INT PRIMARY KEY)`);
      const error = await weftRejection(openStore(withSchema(postgresUrl, name)), 'WEFT_STORE');
      assert.match(error.message, /is not a weft store: it holds tables \(users\)/);
      assert.match(error.message, new RegExp(`schema ${name}`));
      assert.deepEqual(await tablesOf(name), ['users']);
    } finally {
      await queryPostgres(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    }
  });

  it('a schema written by a newer weft: StoreError, schema unchanged', async () => {
    await (await PostgresStore.open(schema.url)).close();
    const newer = String(latestVersion + 1);
    await queryPostgres(
      `UPDATE ${schema.name}.weft_meta SET value = $1 WHERE name = 'schema_version'`,
      [newer],
    );
    const error = await weftRejection(PostgresStore.open(schema.url), 'WEFT_STORE');
    assert.match(error.message, /newer weft/);
    const { rows } = await queryPostgres(`SELECT value FROM ${schema.name}.weft_meta`);
    assert.deepEqual(rows, [{ value: newer }]);
  });
});

async function tablesOf(name: string): Promise<string[]> {
  const { rows } = await queryPostgres(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
    [name],
  );
  return rows.map((row) => String(row.table_name));
}
