/**
 * The one place where pg's errors become weft's: each names the server (never the
 * password), says what went wrong and what to start or fix.
 */
import { isWeftError, StoreError } from '../../core/errors.ts';
import type { PostgresTarget } from './postgres-url.ts';

/** How to start PostgreSQL, for messages about a server that cannot be reached. */
export const startHint =
  'Start PostgreSQL (on Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) ' +
  'main start; or docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres)';

const unreachable = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);
const lost = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03']);
/** What pg says when the socket closes under a query, or a client broke before. */
const lostSaid =
  /connection terminated|terminating connection|closed the connection|connection error and is not queryable|server closed|not queryable/i;

/**
 * Whether `error` (or the error it wraps) is a connection lost or refused, after which
 * the statement may be tried again on a new connection: the server ended the connection
 * (57P01 admin shutdown, 57P02 crash shutdown, 57P03 starting up), a connection exception
 * (SQLSTATE class 08), the socket reset or closed, or the server refusing connections for
 * a moment (a restart). The one place where such errors are told from others.
 */
export function isConnectionLost(error: unknown): boolean {
  for (let found = error, depth = 0; found && depth < 3; depth++) {
    const code = codeOf(found);
    if (lost.has(code) || code === 'ECONNREFUSED' || code.startsWith('08')) return true;
    if (lostSaid.test(messageOf(found))) return true;
    found = (found as { cause?: unknown }).cause;
  }
  return false;
}

/** Whether `error` is PostgreSQL aborting a transaction to break a deadlock (or a serialization failure). */
export function isTransactionConflict(error: unknown): boolean {
  const code = codeOf(error) || codeOf((error as { cause?: unknown } | null)?.cause);
  return code === '40P01' || code === '40001';
}

/**
 * The weft error for what pg threw while `doing` something with the store at `target`;
 * weft's own errors (validation, serialization) pass through unchanged.
 */
export function postgresError(error: unknown, target: PostgresTarget, doing: string): Error {
  if (isWeftError(error)) return error;
  const { host, port, user, database, location } = target;
  const server = `${host}:${port}`;
  const code = codeOf(error);
  const said = messageOf(error) || code;
  const cause = { cause: error };
  if (unreachable.has(code) || /connection timeout|trying to connect|timeout expired/i.test(said)) {
    return new StoreError(
      `Cannot reach PostgreSQL at ${server} (${said}) while ${doing}. ${startHint}, or fix ` +
        `the host and port of the store URL ${location}.`,
      cause,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new StoreError(
      `Cannot find the PostgreSQL host '${host}' (${said}). Fix the host of the store URL ` +
        `${location}.`,
      cause,
    );
  }
  if (code === '3D000') {
    return new StoreError(
      `PostgreSQL at ${server} has no database '${database}'. Create it ` +
        `(createdb -h ${host} -p ${port} -U ${user} ${database}), or fix the database of the ` +
        `store URL ${location}.`,
      cause,
    );
  }
  if (code === '28000' || code === '28P01') {
    return new StoreError(
      `PostgreSQL at ${server} refused user '${user}' (${said}). Check the user and password ` +
        `of the store URL ${location}, or create the role (createuser -h ${host} -p ${port} ` +
        `${user}).`,
      cause,
    );
  }
  if (code === '42501') {
    return new StoreError(
      `User '${user}' lacks a privilege at ${location} (${said}) while ${doing}. Grant it, ` +
        'or give the store its own schema with ?schema=name.',
      cause,
    );
  }
  if (lost.has(code) || /terminated|closed the connection/i.test(said)) {
    return new StoreError(
      `Lost the connection to PostgreSQL at ${server} (${said}) while ${doing}. Check that ` +
        'the server is still running, then retry; what was committed before is kept.',
      cause,
    );
  }
  const sqlState = /^[0-9A-Z]{5}$/.test(code) ? ` [SQLSTATE ${code}]` : '';
  return new StoreError(
    `PostgreSQL at ${location} failed while ${doing}: ${said}${sqlState}`,
    cause,
  );
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  // Node reports a refused connection to a name with several addresses as an AggregateError.
  if (error instanceof AggregateError) return codeOf(error.errors[0]);
  return '';
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return messageOf(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}
