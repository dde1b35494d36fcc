/**
 * The SQLite store's answers to a viewer of runs ({@link RunQueries}), run on the store's
 * own connection (the one its other reads use; in WAL mode they never wait for the writer
 * thread's writes). A statement is prepared once, the first time its shape is asked.
 */
import type Database from 'better-sqlite3';
import type { Codec } from './sql/codec.ts';
import { sqliteDialect } from './sql/dialect.ts';
import { storedPrefixRanges } from './sql/key-codec.ts';
import { latestVersion } from './sql/migrations.ts';
import { SqlQueries } from './sql/run-answers.ts';
import { prefixCountSql, type Sql } from './sql/run-queries.ts';

/** Runs a read on the store's open connection, turning driver errors into weft's. */
export type SqliteRead = <T>(doing: string, read: (db: Database.Database) => T) => T;

/**
 * The most records under a key prefix that a page reads by the prefix's key ranges; over
 * it, by walking the run in order (see `SqliteQueries.pageByKeys`).
 */
export const fewUnderPrefix = 20_000;

/** {@link RunQueries} of a SQLite store. */
export class SqliteQueries extends SqlQueries {
  readonly #read: SqliteRead;
  readonly #prepared = new Map<string, Database.Statement<unknown[], unknown>>();

  /** @param read runs a read on the store's connection (its `#use`) */
  constructor(read: SqliteRead, codec: Codec) {
    super(sqliteDialect, codec, latestVersion, 500);
    this.#read = read;
  }

  protected async rows<R>(doing: string, { text, values }: Sql): Promise<R[]> {
    return this.#read(doing, (db) => {
      let statement = this.#prepared.get(text);
      if (!statement) {
        statement = db.prepare(text);
        this.#prepared.set(text, statement);
      }
      return statement.all(...values) as R[];
    });
  }

  /** A statement per range. */
  protected async countRanges(
    doing: string,
    runId: string,
    prefixes: readonly string[],
    failed: boolean,
  ): Promise<number[]> {
    const counts: number[] = [];
    for (const prefix of prefixes) {
      let n = 0;
      for (const [from, to] of storedPrefixRanges(prefix)) {
        const [row] = await this.rows<{ n: number }>(doing, {
          text: prefixCountSql(sqliteDialect, to !== undefined, failed),
          values: to === undefined ? [runId, from] : [runId, from, to],
        });
        n += row?.n ?? 0;
      }
      counts.push(n);
    }
    return counts;
  }

  /**
   * When the rows under the prefix are few (counted by the primary key, which holds all a
   * count reads): they are read by the key's ranges and sorted; else the run is walked in
   * order until the page is full, which finds a large fan-out's first records at once.
   */
  protected async pageByKeys(doing: string, runId: string, keyPrefix: string): Promise<boolean> {
    const [under = 0] = await this.countRanges(doing, runId, [keyPrefix], false);
    return under <= fewUnderPrefix;
  }
}
