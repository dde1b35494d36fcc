#!/usr/bin/env node
/**
 * Preflight of the integration tests: are PostgreSQL and Redis up? Connects to
 * WEFT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) and
 * WEFT_TEST_REDIS_URL (default redis://127.0.0.1:6379) within 3 s each, prints one OK
 * line per server, or says what to start and exits 1.
 */
import { Redis } from 'ioredis';
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

const redisUrl = process.env.WEFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisShown = redisUrl.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
const redis = new Redis(redisUrl, {
  lazyConnect: true,
  connectTimeout: 3000,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
});
let redisError;
redis.on('error', (error) => {
  redisError = error;
});
try {
  await redis.connect();
  const info = await redis.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown version';
  console.log(`OK Redis ${version} at ${redisShown}`);
} catch (error) {
  const cause = redisError ?? error;
  const reason = cause instanceof Error ? cause.message || String(cause.code) : String(cause);
  console.error(
    [
      `Redis is not usable at ${redisShown}: ${reason}`,
      'The tests of the bullmq executor and weft worker need it. Start it, for example:',
      '  on Debian/Ubuntu: redis-server --daemonize yes --port 6379 --save "" --appendonly no',
      '  with Docker:      docker run -d -p 6379:6379 redis',
      'or point WEFT_TEST_REDIS_URL at a server you have.',
    ].join('\n'),
  );
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
