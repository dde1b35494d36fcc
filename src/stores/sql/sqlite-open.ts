/**
 * Opening a SQLite store's file: create it and its folder when missing, refuse a file that
 * is not weft's before writing a byte to it, then switch to WAL and migrate.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteDialect } from './dialect.ts';
import { inspectSchema, type MigrationSession, migrate } from './migrate.ts';
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
