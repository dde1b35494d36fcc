/**
 * The PostgreSQL store's connections: a `pg` pool whose every query and transaction
 * turns driver errors into weft's (through `postgresError`, the one mapping), refuses work
 * after close, and tries again, on a new connection, what did not take effect: a
 * transaction PostgreSQL aborted to break a deadlock between concurrent writers, and a
 * statement or transaction whose connection was lost (a server restart, a failover, an
 * administrator ending it). So no write is lost, and none is applied twice.
 */
import pg from 'pg';
import { isWeftError, StoreError } from '../../core/errors.ts';
import { isConnectionLost, isTransactionConflict, postgresError } from './postgres-errors.ts';
import type { PostgresTarget } from './postgres-url.ts';

/** Options of {@link PostgresPool}. */
export interface PostgresPoolOptions {
  /** Milliseconds to wait for a connection. */
  readonly connectionTimeoutMs: number;
  /** Most connections held open at once. */
  readonly maxConnections: number;
  /** The connections' `application_name`. */
  readonly applicationName: string;
}

/** Options of {@link PostgresPool.transaction}. */
export interface TransactionOptions {
  /**
   * Whether running the transaction twice leaves what running it once does (upserts).
   * One that is not (it counts, or appends) is tried again after a lost connection only
   * when it is known not to have committed: PostgreSQL is asked, on a new connection,
   * what became of it (`txid_status`).
   */
  readonly idempotent: boolean;
}

/** Tries of a statement or transaction, the first included. */
const attempts = 5;
/** The wait before the second try, doubled before each next one (100, 200, 400, 800 ms). */
const firstBackoffMs = 100;

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
      application_name: options.applicationName,
      // The schema name was checked to be a plain lower-case identifier (postgres-url.ts).
      ...(target.schema === undefined ? {} : { options: `-c search_path="${target.schema}"` }),
    });
    // An idle connection that breaks (a server restart) must not crash the process: the
    // next query reports the problem instead.
    this.#pool.on('error', () => undefined);
  }

  /**
   * One idempotent statement on any connection. A statement is a transaction of its own:
   * one that PostgreSQL aborted to break a deadlock changed nothing, and one whose
   * connection was lost changed nothing or can be applied again, so both are run again.
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
        if (attempt >= attempts || !(isTransactionConflict(error) || isConnectionLost(error))) {
          throw postgresError(error, this.#target, doing);
        }
        await this.#backoff(attempt, error, doing);
      }
    }
  }

  /**
   * Runs `fn` in a transaction on one connection; again when it was a deadlock's victim,
   * or its connection was lost before it took effect (see {@link TransactionOptions}).
   */
  async transaction<T>(
    doing: string,
    fn: (client: pg.PoolClient) => Promise<T>,
    { idempotent }: TransactionOptions,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      // Set once COMMIT is sent: a connection lost after it leaves the outcome unknown.
      let committing: { readonly txid: string; readonly result: T } | undefined;
      try {
        return await this.withClient(doing, async (client) => {
          await client.query('BEGIN');
          try {
            const txid = idempotent
              ? ''
              : String((await client.query('SELECT txid_current() AS txid')).rows[0].txid);
            const result = await fn(client);
            committing = { txid, result };
            await client.query('COMMIT');
            return result;
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        });
      } catch (error) {
        const lost = isConnectionLost(error);
        if (attempt >= attempts || !(lost || isTransactionConflict(error))) throw error;
        if (lost && committing && !idempotent) {
          const status = await this.#statusOf(committing.txid, doing, error);
          if (status === 'committed') return committing.result;
        }
        await this.#backoff(attempt, error, doing);
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
      // An error without an SQLSTATE, or a lost connection, is the connection itself
      // failing: do not reuse it.
      const code = (error as { code?: unknown }).code;
      const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
      if (!isWeftError(error) && (!sqlState || isConnectionLost(error))) {
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

  /**
   * What became of the transaction `txid`, whose COMMIT was sent on a connection lost
   * before it answered: asked on a new connection, as long as the transaction is still in
   * progress on the server. Throws `lostWith` when the server cannot say.
   */
  async #statusOf(txid: string, doing: string, lostWith: unknown): Promise<string> {
    for (let attempt = 1; attempt < attempts; attempt++) {
      await this.#backoff(attempt, lostWith, doing);
      try {
        const { rows } = await this.#pool.query('SELECT txid_status($1) AS status', [txid]);
        const status = rows[0]?.status as string | null;
        if (status === 'committed' || status === 'aborted') return status;
        // null: too old to know; a lost commit is never that old, but then say so.
        if (status === null) break;
      } catch (error) {
        if (!isConnectionLost(error)) throw postgresError(error, this.#target, doing);
      }
    }
    throw isWeftError(lostWith) ? lostWith : postgresError(lostWith, this.#target, doing);
  }

  /** Waits before try `attempt + 1`; a closed pool rejects with what failed. */
  async #backoff(attempt: number, error: unknown, doing: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, firstBackoffMs * 2 ** (attempt - 1)));
    if (this.#closed) throw isWeftError(error) ? error : postgresError(error, this.#target, doing);
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
