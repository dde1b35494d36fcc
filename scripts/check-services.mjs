#!/usr/bin/env node
/**
 * Preflight of the integration tests: is PostgreSQL up? Connects to
 * WEFT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) within 3 s,
 * prints one OK line, or says what to start and exits 1.
 */
import pg from 'pg';

const url = process.env.WEFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const shown = url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
const client = new pg.Client({
  connectionString: url,
  connectionTimeoutMillis: 3000,
  query_timeout: 3000,
});
// A connection that breaks after connecting reports through this event, not a rejection.
client.on('error', () => undefined);

try {
  await client.connect();
  const { rows } = await client.query('SHOW server_version');
  console.log(`OK PostgreSQL ${rows[0].server_version} at ${shown}`);
} catch (error) {
  const reason = error instanceof Error ? error.message || String(error.code) : String(error);
  console.error(
    [
      `PostgreSQL is not usable at ${shown}: ${reason}`,
      'The integration tests need it. Start it, for example:',
      '  on Debian/Ubuntu: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
      '  with Docker:      docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres',
      'then create the database if it is missing (createdb -h 127.0.0.1 -U postgres test),',
      'or point WEFT_TEST_POSTGRES_URL at a server you have.',
    ].join('\n'),
  );
  process.exitCode = 1;
} finally {
  await client.end().catch(() => undefined);
}
