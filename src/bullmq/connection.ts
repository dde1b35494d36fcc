/**
 * Redis connections of the executor and the workers. ioredis retries a refused connection
 * for ever and queues commands meanwhile, so a missing Redis would look like a hang:
 * opening a connection here waits for it to be ready for at most the connect timeout and
 * fails with a {@link RedisUnreachableError} naming where Redis was looked for; closing
 * one never waits long for a Redis out of reach either.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { RedisUnreachableError } from './errors.ts';
import type { ResolvedConnection } from './options.ts';

/** How long a connection waits for Redis when not told. */
export const defaultConnectTimeoutMs = 5000;

/** Options of {@link openRedis}. */
export interface OpenRedisOptions {
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * For a connection that blocks (XREAD BLOCK, BullMQ's workers): commands wait for a
   * reconnection however long it takes, instead of failing after ioredis's retries.
   * @default false
   */
  readonly blocking?: boolean;
  /** Said in the error: what the connection was for, e.g. `the bullmq executor`. */
  readonly purpose: string;
}

/**
 * A new ioredis connection, ready.
 * @throws RedisUnreachableError when Redis does not answer within the connect timeout
 */
export async function openRedis(
  resolved: ResolvedConnection,
  options: OpenRedisOptions,
): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const timeoutMs = options.connectTimeoutMs ?? defaultConnectTimeoutMs;
  const extra: RedisOptions = {
    lazyConnect: true,
    // BullMQ requires null on connections that block; elsewhere a command fails after
    // ioredis's retries rather than waiting for ever.
    maxRetriesPerRequest: options.blocking === true ? null : 20,
    enableReadyCheck: true,
    // Reconnect quickly at first, then every second at most.
    retryStrategy: (times) => Math.min(50 * 2 ** times, 1000),
  };
  const redis =
    typeof resolved.connection === 'string'
      ? new Redis(resolved.connection, extra)
      : new Redis({ ...resolved.connection, ...extra });
  let lastError: unknown;
  const onError = (error: unknown) => {
    lastError = error;
  };
  // Without a listener, ioredis prints every failed reconnection.
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    const reason = describeReason(lastError ?? error);
    throw new RedisUnreachableError(
      resolved.location,
      `Cannot reach Redis at ${resolved.location} for ${options.purpose} within ${timeoutMs} ms (${reason}). ` +
        `Start Redis there (for example: ${startHint(resolved.location)}), or point WEFT_REDIS_URL ` +
        '(--redis, bullmq({ connection })) at the one the workers use.',
      { cause: lastError ?? error },
    );
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

/** How to start a Redis where `location` (see ResolvedConnection) looks for one. */
function startHint(location: string): string {
  if (location.startsWith('redis+unix://')) {
    return `redis-server --port 0 --unixsocket ${location.slice('redis+unix://'.length)}`;
  }
  let port = '6379';
  try {
    port = new URL(location).port || port;
  } catch {
    // A location that is not a URL: the default port.
  }
  return `redis-server --port ${port}`;
}

/** Errors of ioredis's socket: the connection, not the command, failed. */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/**
 * True for an error of a command that failed because Redis was out of reach (ioredis gave
 * up retrying it, or its connection closed), rather than for what the command did.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.message === 'Connection is closed.' ||
    (typeof code === 'string' && connectionCodes.has(code))
  );
}

function describeReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${code}: ${error.message}`
      : error.message || String(code);
  }
  return String(error);
}

/** How long a QUIT may take before the connection is simply dropped. */
const quitTimeoutMs = 1000;

/**
 * Closes `redis` without waiting for ever: QUIT when it is ready (Redis then has the
 * commands sent before) for at most a second, then a plain disconnect. ioredis's QUIT on a
 * connection that waits for Redis stays pending while Redis is out of reach.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await within(redis.quit(), quitTimeoutMs);
  redis.disconnect();
}

/** Waits for `promise` (its failure ignored) at most `ms` milliseconds. */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
