/**
 * The few places where SQLite and PostgreSQL differ, so that the schema, the migrations
 * and the queries are written once (in SQLite-and-PostgreSQL-compatible SQL with `?`
 * placeholders) and only these words change between the two.
 */

/** What changes in SQL text between the databases weft supports. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Column type of raw bytes (artifacts). */
  readonly bytes: string;
  /** Column type of a float: times in milliseconds, which callers may give with a fraction. */
  readonly double: string;
  /** A primary key the database numbers in insertion order (runs, events). */
  readonly serialKey: string;
  /**
   * The `tasks.seq` column, which orders a run's tasks as first recorded. PostgreSQL
   * numbers it itself (several processes may write at once); SQLite has no sequence
   * outside the primary key, so its store numbers rows inside its write transaction,
   * which SQLite's single writer makes safe.
   */
  readonly taskSeq: string;
  /**
   * The database's clock, in milliseconds since the epoch, as an SQL expression: leases
   * are judged by one clock, the server's, whatever the clocks of the machines using it.
   */
  readonly clockMs: string;
  /**
   * The longest key, in bytes of UTF-8, kept as it is in a unique index; a longer one is
   * stored by its digest (see key-codec.ts). With a run id of up to 1,024 bytes, a
   * PostgreSQL index row stays under the 2,704 bytes a B-tree page allows.
   */
  readonly maxKeyBytes: number;
  /** Lists the tables of the store's schema, as rows with one column `name`. */
  readonly listTables: string;
  /** Rewrites the `?` placeholders of shared SQL into the driver's form. */
  readonly placeholders: (sql: string) => string;
  /**
   * `expr` with the letters A to Z made a to z and every other character kept, whatever
   * the database's collation: searches fold case alike in every store.
   */
  readonly lowerAscii: (expr: string) => string;
  /** True when the text `part` occurs in `text`, literally (no pattern), as SQL. */
  readonly contains: (text: string, part: string) => string;
  /**
   * `expr` compared in the order of its code points (UTF-8 bytes), whatever the
   * database's collation: what ranges of stored keys are computed in (key-codec.ts).
   */
  readonly byteOrder: (expr: string) => string;
  /** A list bound as one parameter, as a table `alias` of one column `value`. */
  readonly listRows: (alias: string) => string;
  /** A list of texts, as {@link listRows} binds it. */
  readonly bindList: (values: readonly string[]) => unknown;
}

/** SQLite through better-sqlite3, which takes `?` as it is. */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  bytes: 'BLOB',
  double: 'REAL',
  serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  taskSeq: 'INTEGER NOT NULL',
  // SQLite reads the machine's clock to the millisecond, as a Julian day.
  clockMs: "ROUND((julianday('now') - 2440587.5) * 86400000.0)",
  // SQLite's indexes take keys of any length.
  maxKeyBytes: Number.POSITIVE_INFINITY,
  listTables:
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
  placeholders: (sql) => sql,
  // Without ICU (better-sqlite3 has none), SQLite's lower() folds only A to Z.
  lowerAscii: (expr) => `lower(${expr})`,
  contains: (text, part) => `instr(${text}, ${part}) > 0`,
  // BINARY, SQLite's default collation, compares UTF-8 bytes.
  byteOrder: (expr) => expr,
  listRows: (alias) => `json_each(?) AS ${alias}`,
  bindList: (values) => JSON.stringify(values),
};

/** PostgreSQL through pg, which numbers its placeholders `$1`, `$2`, … */
export const postgresDialect: Dialect = {
  name: 'postgres',
  bytes: 'BYTEA',
  double: 'DOUBLE PRECISION',
  serialKey: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  taskSeq: 'BIGINT GENERATED ALWAYS AS IDENTITY',
  // The time of the statement's execution, not of its transaction's start (now()).
  clockMs: 'CAST(extract(epoch FROM clock_timestamp()) * 1000 AS DOUBLE PRECISION)',
  maxKeyBytes: 1024,
  listTables:
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()',
  // The shared SQL holds no string literal or identifier containing '?', so every '?' is
  // a placeholder.
  placeholders: (sql) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  },
  // Under the "C" collation lower() folds only A to Z, as SQLite's does.
  lowerAscii: (expr) => `lower(${expr} COLLATE "C")`,
  contains: (text, part) => `strpos(${text}, ${part}) > 0`,
  byteOrder: (expr) => `${expr} COLLATE "C"`,
  listRows: (alias) => `unnest(?::text[]) AS ${alias}(value)`,
  bindList: (values) => values,
};
