/** Stores for the benchmarks: a PostgreSQL one in a schema of its own, dropped afterwards. */
import pg from 'pg';
import type { Store } from 'weftjs';
import { PostgresStore, type PostgresStoreOptions } from 'weftjs/postgres';

/** A PostgreSQL store in a schema of its own, and how to drop it; undefined when skipped. */
export async function openBenchPostgres(
  options: PostgresStoreOptions = {},
): Promise<{ store: Store; drop(): Promise<void> } | undefined> {
  const url = process.env.WEFT_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (url === 'off') return undefined;
  const schema = `bench_${Math.random().toString(36).slice(2, 10)}`;
  let store: Store;
  try {
    store = await PostgresStore.open(`${url}?schema=${schema}`, options);
  } catch (error) {
    console.log(`PostgreSQL skipped: ${(error as Error).message}`);
    return undefined;
  }
  return { store, drop: () => dropBenchSchema(url, schema) };
}

/** Drops a benchmark's schema and everything in it; a server that cannot be reached is left be. */
export async function dropBenchSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client(url);
  await client.connect().then(
    () => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`),
    () => {},
  );
  await client.end().catch(() => {});
}
