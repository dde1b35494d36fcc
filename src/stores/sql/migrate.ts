/**
 * Opening a SQL store: recognise the database (empty, weft's, someone else's, or written
 * by a newer weft) and bring weft's schema up to date, in one transaction. Written once
 * over a tiny session interface that each driver implements, so both SQL stores refuse a
 * foreign database with the same words and migrate the same way.
 */
import { StoreError } from '../../core/errors.ts';
import type { Dialect } from './dialect.ts';
import { createMetaTable, latestVersion, metaTable, migrations } from './migrations.ts';

/** The statements a driver runs during {@link migrate}, one at a time, in order. */
export interface MigrationSession {
  /** Rows of a query whose placeholders are already in the driver's form. */
  all(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs a statement that returns no rows. */
  run(sql: string, params?: readonly unknown[]): Promise<void>;
}

/** The database being opened, as error messages name it. */
export interface MigrationTarget {
  /** e.g. `The SQLite file /x/weft.db`. */
  readonly what: string;
  /** What to do instead, e.g. `Point the store at another file: --store sqlite:other.db`. */
  readonly fix: string;
  /**
   * Statements that open the transaction and make it exclusive, e.g. `BEGIN IMMEDIATE`,
   * or `BEGIN` and an advisory lock, so that two processes opening one database at once
   * migrate it once.
   */
  readonly begin: readonly string[];
}

const versionName = 'schema_version';

/**
 * The weft schema version of the database: 0 when it has no table at all.
 * @throws StoreError when the database holds tables but is not weft's, or was written by
 *   a newer weft than this one
 */
export async function inspectSchema(
  session: MigrationSession,
  dialect: Dialect,
  target: MigrationTarget,
): Promise<number> {
  const tables = (await session.all(dialect.listTables)).map((row) => String(row.name));
  if (tables.length === 0) return 0;
  if (!tables.includes(metaTable)) {
    const shown = tables.sort().slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
    throw new StoreError(
      `${target.what} is not a weft store: it holds tables (${shown}) but no ${metaTable} ` +
        `table, so it belongs to something else. weft wrote nothing to it. ${target.fix}`,
    );
  }
  const rows = await session.all(
    dialect.placeholders(`SELECT value FROM ${metaTable} WHERE name = ?`),
    [versionName],
  );
  const version = Number(rows[0]?.value);
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new StoreError(
      `${target.what} has a ${metaTable} table without a valid ${versionName} ` +
        `(found ${JSON.stringify(rows[0]?.value ?? null)}): it was damaged. weft wrote nothing ` +
        `to it. ${target.fix}`,
    );
  }
  if (version > latestVersion) {
    throw new StoreError(
      `${target.what} has weft schema version ${version}, but this weft knows versions up to ` +
        `${latestVersion}: a newer weft wrote it. Upgrade weft to open it; weft wrote nothing ` +
        `to it. ${target.fix}`,
    );
  }
  return version;
}

/**
 * Applies, in one transaction, the migrations the database lacks; does nothing to a
 * database that is up to date, so opening twice is harmless.
 * @returns the versions applied (empty when the database was up to date)
 * @throws StoreError as {@link inspectSchema} does, after rolling back
 */
export async function migrate(
  session: MigrationSession,
  dialect: Dialect,
  target: MigrationTarget,
): Promise<number[]> {
  try {
    // Inside the try: when the lock or the schema creation fails, the transaction is rolled back.
    for (const sql of target.begin) await session.run(sql);
    // Read under the lock: another process may have migrated while this one waited.
    const version = await inspectSchema(session, dialect, target);
    const pending = migrations.filter((migration) => migration.version > version);
    if (version === 0) await session.run(createMetaTable);
    for (const migration of pending) {
      for (const sql of migration.statements(dialect)) await session.run(sql);
    }
    if (pending.length > 0) {
      await session.run(
        dialect.placeholders(
          `INSERT INTO ${metaTable} (name, value) VALUES (?, ?) ` +
            'ON CONFLICT (name) DO UPDATE SET value = excluded.value',
        ),
        [versionName, String(latestVersion)],
      );
    }
    await session.run('COMMIT');
    return pending.map((migration) => migration.version);
  } catch (error) {
    // The rollback's own failure (a dropped connection) must not hide the first error.
    await session.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
