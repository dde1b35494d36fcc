/**
 * A PostgreSQL store URL taken apart: what pg connects with, what errors name, and the
 * location shown to people, with any password hidden.
 */
import { ValidationError } from '../../core/errors.ts';

/** Where a PostgreSQL store lives. */
export interface PostgresTarget {
  /** The URL pg connects with: the given one without weft's own `schema` parameter. */
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** The schema holding weft's tables, when not the server's default (`public`). */
  readonly schema: string | undefined;
  /** The URL with its password replaced by `***`. */
  readonly location: string;
}

// Lower-case only: PostgreSQL folds unquoted names to lower case, so this name means the
// same schema in every statement and in `search_path`.
const schemaName = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Takes a `postgres://` or `postgresql://` URL apart.
 * @throws ValidationError for a URL that does not parse or a schema name that is not valid
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // No cause: the URL parser's error carries the input, password included.
    throw new ValidationError(
      `'${hidePassword(url)}' is not a valid PostgreSQL URL: write ` +
        'postgres://user:password@host:5432/database[?schema=name].',
    );
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !schemaName.test(schema)) {
    throw new ValidationError(
      `Schema '${schema}' in the PostgreSQL URL is not a valid name: use lower-case letters, ` +
        'digits and _, starting with a letter or _, at most 63 characters.',
    );
  }
  parsed.searchParams.delete('schema');
  const connectionString = parsed.toString();
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || osUser();
  const database = decodeURIComponent(parsed.pathname.slice(1)) || user;
  if (parsed.password !== '') parsed.password = '***';
  if (schema !== undefined) parsed.searchParams.set('schema', schema);
  return {
    connectionString,
    host: parsed.searchParams.get('host') ?? (parsed.hostname || 'localhost'),
    port: Number(parsed.port || 5432),
    database,
    user,
    schema,
    location: parsed.toString(),
  };
}

/** `url` with the password, if any, replaced by `***`; unparseable text is kept short. */
export function hidePassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

function osUser(): string {
  return process.env.USER ?? process.env.USERNAME ?? 'postgres';
}
