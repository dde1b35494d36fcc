#!/usr/bin/env node
/**
 * Preflight of the integration tests: are PostgreSQL and Redis up? Connects to
 * WEFT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) and
 * WEFT_TEST_REDIS_URL (default redis://127.0.0.1:6379) within 3 s each, prints one OK
 * line per server, or says what to start and exits 1.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Prints `OK <name> <version> at <url>` once `version` read it from the server, else why
 * not and `help`, and sets exit code 1. A password in `url` shows as `***`.
 */
async function check(name, url, version, help) {
  const shown = url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
  try {
    console.log(`OK ${name} ${await version(url)} at ${shown}`);
  } catch (error) {
    const reason = error instanceof Error ? error.message || String(error.code) : String(error);
    console.error([`${name} is not usable at ${shown}: ${reason}`, ...help].join('\n'));
    process.exitCode = 1;
  }
}

async function postgresVersion(url) {
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
    return rows[0].server_version;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisVersion(url) {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Why a connection failed comes through this event; the rejection only says it closed.
  let failure;
  redis.on('error', (error) => {
    failure = error;
  });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown version';
  } catch (error) {
    throw failure ?? error;
  } finally {
    redis.disconnect();
  }
}

await check(
  'PostgreSQL',
  process.env.WEFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  postgresVersion,
  [
    'The integration tests need it. Start it, for example:',
    '  on Debian/Ubuntu: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    '  with Docker:      docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres',
    'then create the database if it is missing (createdb -h 127.0.0.1 -U postgres test),',
    'or point WEFT_TEST_POSTGRES_URL at a server you have.',
  ],
);
await check('Redis', process.env.WEFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', redisVersion, [
  'The tests of the bullmq executor and weft worker need it. Start it, for example:',
  '  on Debian/Ubuntu: redis-server --daemonize yes --port 6379 --save "" --appendonly no',
  '  with Docker:      docker run -d -p 6379:6379 redis',
  'or point WEFT_TEST_REDIS_URL at a server you have.',
]);
