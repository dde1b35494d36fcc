/**
 * Opening a SQLite store's file: create it and its folder when missing, refuse a file that
 * is not weft's before writing a byte to it, then switch to WAL and migrate; or, for
 * reading only, open an existing file and change nothing.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteDialect } from './dialect.ts';
import { inspectSchema, type MigrationSession, migrate } from './migrate.ts';
import { latestVersion } from './migrations.ts';
import { otherFileFix, sqliteError } from './sqlite-errors.ts';

/**
 * Opens the file and migrates it, reading before writing: the checks that refuse a
 * foreign file run before the first statement that could change it (WAL mode included).
 */
export async function openDatabase(
  file: string,
  busyTimeoutMs: number,
): Promise<Database.Database> {
  let db: Database.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (error) {
    throw sqliteError(error, file, 'opening it');
  }
  const session: MigrationSession = {
    all: async (sql, params = []) => db.prepare(sql).all(...params) as Record<string, unknown>[],
    run: async (sql, params = []) => {
      db.prepare(sql).run(...params);
    },
  };
  const target = {
    what: `The SQLite file ${file}`,
    fix: otherFileFix(),
    begin: ['BEGIN IMMEDIATE'],
  };
  try {
    await inspectSchema(session, sqliteDialect, target);
    db.pragma('journal_mode = WAL');
    // With WAL, NORMAL loses no committed data on a process crash, only on power loss.
    db.pragma('synchronous = NORMAL');
    await migrate(session, sqliteDialect, target);
    return db;
  } catch (error) {
    db.close();
    throw sqliteError(error, file, 'opening it');
  }
}

/**
 * A second connection to a file a store has just opened (and so checked, switched to WAL
 * and migrated): the writer thread's, which needs only its own settings.
 */
export function openSecondConnection(file: string, busyTimeoutMs: number): Database.Database {
  try {
    const db = new Database(file, { timeout: busyTimeoutMs, fileMustExist: true });
    // Per connection, as in openDatabase.
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (error) {
    throw sqliteError(error, file, 'opening it');
  }
}

/**
 * Opens an existing file for reading only: creates, migrates and changes nothing. Resolves
 * to undefined when the file holds no table yet (no weft store there). A file an older
 * weft wrote is read through a copy in memory, brought up to date there.
 * @throws StoreError as {@link inspectSchema} does, or when the file cannot be read
 */
export async function openDatabaseForReading(file: string): Promise<Database.Database | undefined> {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    // Reading a WAL file needs its -shm index, which SQLite cannot create in a read-only
    // folder: fall back to a copy in memory (below).
    db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').all();
  } catch (error) {
    if (!String((error as { code?: unknown }).code).startsWith('SQLITE_READONLY')) {
      throw sqliteError(error, file, 'opening it for reading');
    }
    db = inMemoryCopy(file, () => readFileSync(file), true);
  }
  const session: MigrationSession = {
    all: async (sql, params = []) => db.prepare(sql).all(...params) as Record<string, unknown>[],
    run: async () => {
      throw new Error('a store opened for reading runs no statement that writes');
    },
  };
  try {
    const target = { what: `The SQLite file ${file}`, fix: otherFileFix(), begin: ['BEGIN'] };
    const version = await inspectSchema(session, sqliteDialect, target);
    if (version === latestVersion) return db;
    if (version === 0) {
      db.close();
      return undefined;
    }
    // As this connection sees it: with what the WAL holds that the file does not yet.
    const copy = inMemoryCopy(file, () => db.serialize(), false);
    db.close();
    db = copy;
    await migrate(
      {
        all: async (sql, params = []) =>
          copy.prepare(sql).all(...params) as Record<string, unknown>[],
        run: async (sql, params = []) => {
          copy.prepare(sql).run(...params);
        },
      },
      sqliteDialect,
      target,
    );
    return copy;
  } catch (error) {
    db.close();
    throw sqliteError(error, file, 'opening it for reading');
  }
}

/**
 * The file read into memory. Its header is switched from WAL to the rollback journal in
 * the copy only (bytes 18 and 19: the read and write format versions), because an
 * in-memory database has no WAL. Changes to a writable copy never reach the file.
 */
function inMemoryCopy(file: string, read: () => Buffer, readonly: boolean): Database.Database {
  try {
    const bytes = read();
    if (bytes.length >= 20) bytes.fill(1, 18, 20);
    return new Database(bytes, { readonly });
  } catch (error) {
    throw sqliteError(error, file, 'opening it for reading');
  }
}
