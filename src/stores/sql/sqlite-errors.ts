/**
 * The one place where better-sqlite3's errors become weft's: each says which file, what
 * went wrong and what to do about it.
 */
import { isWeftError, StoreError } from '../../core/errors.ts';

/** The usual fix when a file cannot serve as weft's store. */
export function otherFileFix(): string {
  return 'Move the file aside, or point the store at another file, e.g. --store sqlite:.weft/weft.db.';
}

/**
 * The weft error for what the SQLite driver threw while `doing` something with `file`;
 * weft's own errors (validation, serialization) pass through unchanged.
 */
export function sqliteError(error: unknown, file: string, doing: string): Error {
  if (isWeftError(error)) return error;
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const said = error instanceof Error ? error.message : String(error);
  const cause = { cause: error };
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      `The file ${file} is not a SQLite database, or it is damaged (SQLite: "${said}"), so ` +
        `weft cannot use it as its store. ${otherFileFix()}`,
      cause,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      `The SQLite file ${file} stayed locked by another connection past the busy timeout ` +
        `while ${doing}. Retry, give the store a longer busyTimeoutMs, or use a postgres:// ` +
        'store for many concurrent writers.',
      cause,
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new StoreError(
      `Cannot open the SQLite file ${file} (SQLite: "${said}"). Check that it is a file, not ` +
        'a folder, and that its folder exists and is writable.',
      cause,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')) {
    return new StoreError(
      `The SQLite file ${file} is read-only (SQLite: "${said}") while ${doing}. Make the file ` +
        'and its folder writable, or point the store at another file.',
      cause,
    );
  }
  if (code.startsWith('SQLITE_FULL') || code.startsWith('SQLITE_IOERR')) {
    return new StoreError(
      `Writing the SQLite file ${file} failed (SQLite: "${said}") while ${doing}. Check the ` +
        'disk: free space, permissions, and that the file system is local.',
      cause,
    );
  }
  return new StoreError(`The SQLite store ${file} failed while ${doing}: ${said}`, cause);
}
