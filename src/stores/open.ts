/**
 * `openStore(url)`: one string picks the store, so that the CLI's `--store`, an
 * environment variable and code all say it the same way. The SQLite and PostgreSQL
 * drivers are imported only when their store is asked for, so importing weft loads
 * neither better-sqlite3 nor pg.
 */
import { resolve } from 'node:path';
import { ValidationError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { MemoryStore } from './memory.ts';
import { hidePassword, parsePostgresUrl } from './sql/postgres-url.ts';

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
  const named = parseStoreUrl(url);
  if (named.kind === 'memory') return new MemoryStore();
  if (named.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.open(named.url);
  }
  const { SqliteStore } = await import('./sqlite.ts');
  return SqliteStore.open(named.path);
}

/** What {@link openExistingStore} found where a URL points. */
export interface ExistingStore {
  /** The store, opened to be read; undefined when there is no store there yet. */
  readonly store: Store | undefined;
  /** Where the store is or would be, with any password hidden. */
  readonly location: string;
}

/**
 * Opens the store a URL names (as {@link openStore} reads it) to read it, creating
 * nothing: no folder, no file, no schema, no table, no migration. A SQLite file is opened
 * read-only, so one that may not be written is read all the same. `weft runs` and
 * `weft show` open their store this way.
 * @returns the store, or `store: undefined` when nothing was created there yet
 * @throws ValidationError for a URL weft does not know
 * @throws StoreError when the store cannot be read, is not weft's, or needs upgrading
 * @example
 * const { store, location } = await openExistingStore(process.env.WEFT_STORE);
 * if (!store) console.log(`no runs yet: there is no store at ${location}`);
 */
export async function openExistingStore(url?: string): Promise<ExistingStore> {
  const named = parseStoreUrl(url);
  if (named.kind === 'memory') {
    const store = new MemoryStore();
    return { store, location: store.location };
  }
  if (named.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres.ts');
    const store = await PostgresStore.openExisting(named.url);
    return { store, location: parsePostgresUrl(named.url).location };
  }
  const { SqliteStore } = await import('./sqlite.ts');
  return { store: await SqliteStore.openExisting(named.path), location: resolve(named.path) };
}

type StoreUrl =
  | { readonly kind: 'memory' }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'sqlite'; readonly path: string };

function parseStoreUrl(url: string | undefined): StoreUrl {
  const given = url?.trim() ?? '';
  if (given === '' || given === 'sqlite:') return { kind: 'sqlite', path: defaultStorePath };
  if (given === 'memory:' || given === 'memory://') return { kind: 'memory' };
  if (/^postgres(ql)?:\/\//i.test(given)) return { kind: 'postgres', url: given };
  if (/^sqlite:/i.test(given)) {
    // sqlite:///abs/x.db and sqlite://rel/x.db are read as sqlite:/abs/x.db and sqlite:rel/x.db.
    const path = given.slice('sqlite:'.length).replace(/^\/\//, '');
    return { kind: 'sqlite', path: path === '' ? defaultStorePath : path };
  }
  if (/\.db$/i.test(given) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(given)) {
    return { kind: 'sqlite', path: given };
  }
  throw new ValidationError(
    `Store URL '${hidePassword(given)}' is not one weft knows. Use ${acceptedForms}.`,
  );
}
