/**
 * The PostgreSQL store's answers to a viewer of runs ({@link RunQueries}): each statement
 * one parameterised query through the store's pool. They are left unnamed, so that
 * PostgreSQL plans each with its values (a generic plan would not know how much of a run
 * a key range or a status holds).
 */
import type { Codec } from './sql/codec.ts';
import { postgresDialect } from './sql/dialect.ts';
import { storedPrefixRanges } from './sql/key-codec.ts';
import type { PostgresPool } from './sql/postgres-pool.ts';
import { SqlQueries } from './sql/run-answers.ts';
import { prefixCountSql, prefixCountsArraySql, type Sql } from './sql/run-queries.ts';

/** {@link RunQueries} of a PostgreSQL store. */
export class PostgresQueries extends SqlQueries {
  readonly #pool: PostgresPool;

  /** @param version the schema version of the database (older when opened for reading) */
  constructor(pool: PostgresPool, codec: Codec, version: number) {
    super(postgresDialect, codec, version, 1000);
    this.#pool = pool;
  }

  protected async rows<R>(doing: string, { text, values }: Sql): Promise<R[]> {
    return (await this.#pool.query(doing, text, values)).rows as R[];
  }

  /** Never: reading by key ranges first is SQLite's (by rowid). */
  protected async pageByKeys(): Promise<boolean> {
    return false;
  }

  /**
   * All bounded ranges in one statement; a range without end (of a prefix of the highest
   * characters only) in one of its own.
   */
  protected async countRanges(
    doing: string,
    runId: string,
    prefixes: readonly string[],
    failed: boolean,
  ): Promise<number[]> {
    const counts = prefixes.map(() => 0);
    const owners: number[] = [];
    const starts: string[] = [];
    const ends: string[] = [];
    const open: [at: number, from: string][] = [];
    prefixes.forEach((prefix, at) => {
      for (const [from, to] of storedPrefixRanges(prefix)) {
        if (to === undefined) {
          open.push([at, from]);
        } else {
          owners.push(at);
          starts.push(from);
          ends.push(to);
        }
      }
    });
    // COUNT is a bigint, which pg reads as a string.
    if (starts.length > 0) {
      const rows = await this.rows<{ at: number; n: string }>(doing, {
        text: prefixCountsArraySql(failed),
        values: [runId, starts, ends],
      });
      for (const row of rows) counts[owners[row.at]!]! += Number(row.n);
    }
    for (const [at, from] of open) {
      const [row] = await this.rows<{ n: string }>(doing, {
        text: prefixCountSql(postgresDialect, false, failed),
        values: [runId, from],
      });
      counts[at]! += Number(row?.n ?? 0);
    }
    return counts;
  }
}
