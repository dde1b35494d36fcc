/**
 * `openStore(url)`: one string picks the store, so that the CLI's `--store`, an
 * environment variable and code all say it the same way. The SQLite and PostgreSQL
 * drivers are imported only when their store is asked for, so importing weft loads
 * neither better-sqlite3 nor pg.
 */
import { ValidationError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { MemoryStore } from './memory.ts';
import { hidePassword } from './sql/postgres-url.ts';

/** Where the SQLite store lives when no URL is given, relative to the working directory. */
export const defaultStorePath = '.weft/weft.db';

const acceptedForms =
  `'sqlite:<path>' (relative to the working directory; 'sqlite:' alone means ` +
  `${defaultStorePath}), a path ending in .db, 'postgres://user:password@host:5432/database' ` +
  `(or postgresql://, optionally with ?schema=name), or 'memory:'`;

/**
 * Opens the store a URL names:
 * - `sqlite:<path>` or a bare path ending in `.db`: a SQLite file, its folder created when
 *   missing; `sqlite:` alone, an empty string or no URL at all: `.weft/weft.db`;
 * - `postgres://…` or `postgresql://…`: a PostgreSQL database (`?schema=name` to keep
 *   weft's tables in a schema of their own);
 * - `memory:`: a store in this process's memory, gone when it exits.
 * @throws ValidationError for any other URL, listing the accepted forms
 * @throws StoreError when the store cannot be opened (see SqliteStore and PostgresStore)
 * @example
 * const store = await openStore(process.env.WEFT_STORE); // .weft/weft.db when unset
 * const shared = await openStore('postgres://weft@db.internal:5432/weft?schema=nightly');
 */
export async function openStore(url?: string): Promise<Store> {
  const given = url?.trim() ?? '';
  if (given === '' || given === 'sqlite:') return openSqlite(defaultStorePath);
  if (given === 'memory:' || given === 'memory://') return new MemoryStore();
  if (/^postgres(ql)?:\/\//i.test(given)) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.open(given);
  }
  if (/^sqlite:/i.test(given)) {
    // sqlite:///abs/x.db and sqlite://rel/x.db are read as sqlite:/abs/x.db and sqlite:rel/x.db.
    const path = given.slice('sqlite:'.length).replace(/^\/\//, '');
    return openSqlite(path === '' ? defaultStorePath : path);
  }
  if (/\.db$/i.test(given) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(given)) return openSqlite(given);
  throw new ValidationError(
    `Store URL '${hidePassword(given)}' is not one weft knows. Use ${acceptedForms}.`,
  );
}

async function openSqlite(path: string): Promise<Store> {
  const { SqliteStore } = await import('./sqlite.ts');
  return SqliteStore.open(path);
}
