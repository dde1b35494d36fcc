/**
 * The PostgreSQL store's connections: a `pg` pool whose every query and transaction
 * turns driver errors into weft's (through `postgresError`, the one mapping), refuses work
 * after close, and retries a transaction that PostgreSQL aborted to break a deadlock
 * between concurrent writers, so that no write is lost.
 */
import pg from 'pg';
import { isWeftError, StoreError } from '../../core/errors.ts';
import { postgresError } from './postgres-errors.ts';
import type { PostgresTarget } from './postgres-url.ts';

/** Options of {@link PostgresPool}. */
export interface PostgresPoolOptions {
  /** Milliseconds to wait for a connection. */
  readonly connectionTimeoutMs: number;
  /** Most connections held open at once. */
  readonly maxConnections: number;
}

/** Attempts of a transaction (or statement) that PostgreSQL aborted as a deadlock victim. */
const transactionAttempts = 5;
/** Deadlock detected; serialization failure. */
const retryable = new Set(['40P01', '40001']);

/** A pool of connections to one PostgreSQL store. */
export class PostgresPool {
  readonly #pool: pg.Pool;
  readonly #target: PostgresTarget;
  #closed = false;

  constructor(target: PostgresTarget, options: PostgresPoolOptions) {
    this.#target = target;
    this.#pool = new pg.Pool({
      connectionString: target.connectionString,
      connectionTimeoutMillis: options.connectionTimeoutMs,
      max: options.maxConnections,
      application_name: 'weft',
      // The schema name was checked to be a plain lower-case identifier (postgres-url.ts).
      ...(target.schema === undefined ? {} : { options: `-c search_path="${target.schema}"` }),
    });
    // An idle connection that breaks (a server restart) must not crash the process: the
    // next query reports the problem instead.
    this.#pool.on('error', () => undefined);
  }

  /**
   * One statement on any connection. A statement is a transaction of its own, so one that
   * PostgreSQL aborted to break a deadlock changed nothing and is run again.
   * @param name for a statement run often: each connection then parses and plans it once
   */
  async query(
    doing: string,
    text: string,
    params: readonly unknown[],
    name?: string,
  ): Promise<pg.QueryResult> {
    for (let attempt = 1; ; attempt++) {
      this.#assertOpen();
      try {
        return await this.#pool.query({ name, text, values: [...params] });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt < transactionAttempts && retryable.has(String(code))) continue;
        throw postgresError(error, this.#target, doing);
      }
    }
  }

  /** Runs `fn` in a transaction on one connection, again if it was a deadlock's victim. */
  async transaction<T>(doing: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.withClient(doing, async (client) => {
          await client.query('BEGIN');
          try {
            const result = await fn(client);
            await client.query('COMMIT');
            return result;
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        });
      } catch (error) {
        const code = (error as { cause?: { code?: unknown } }).cause?.code;
        if (attempt >= transactionAttempts || !retryable.has(String(code))) throw error;
      }
    }
  }

  /** Lends `fn` a connection, and takes it back after (discarding it when it broke). */
  async withClient<T>(doing: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.#assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw postgresError(error, this.#target, doing);
    }
    let broken: Error | undefined;
    // pg-pool stops listening while a client is lent: without a listener of ours, a
    // connection dropped mid-transaction would be an unhandled 'error' and end the process.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (error) {
      // An error without an SQLSTATE is the connection itself failing: do not reuse it.
      const code = (error as { code?: unknown }).code;
      if (!isWeftError(error) && !(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))) {
        broken = error instanceof Error ? error : new Error(String(error));
      }
      throw postgresError(error, this.#target, doing);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /** Closes every connection; later calls reject with a StoreError. Closing again does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new StoreError(
        `The PostgreSQL store ${this.#target.location} is closed. Open it again with ` +
          'openStore, or close it only after the runs that use it.',
      );
    }
  }
}
