/** The errors of the bullmq executor and `weft worker`: each names the thing and the fix. */
import { ValidationError, WeftError, type WeftErrorOptions } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import type { EncodedValue } from './job-wire.ts';

/**
 * Redis could not be reached within the connect timeout, or stayed out of reach longer
 * than the executor waits for it while tasks are in flight. Code `WEFT_REDIS_UNREACHABLE`.
 */
export class RedisUnreachableError extends WeftError {
  override name = 'RedisUnreachableError';
  /** Where Redis was looked for, with any password hidden. */
  readonly location: string;
  constructor(location: string, message: string, options?: WeftErrorOptions) {
    super('WEFT_REDIS_UNREACHABLE', message, options);
    this.location = location;
  }
}

/**
 * A value over the executor's large-value threshold, with no run store that other
 * machines can read to carry it. Code `WEFT_STORE_NOT_SHARED`.
 */
export class LargeValueError extends ValidationError {
  override name = 'LargeValueError';
  constructor(what: string, bytes: number, threshold: number, store: Store | undefined) {
    const where =
      store === undefined
        ? 'there is no run store to carry it (it runs outside a run)'
        : `the run's ${store.kind} store (${store.location}) cannot be read from other machines`;
    super(
      `${what} is ${kib(bytes)} once serialized, over the bullmq executor's limit of ${kib(threshold)} ` +
        `for values sent through Redis. Larger values travel through the run's store, but ${where}. ` +
        'Run it with a PostgreSQL store (--store postgres://… or WEFT_STORE) that every worker also opens ' +
        '(weft worker --store …), raise bullmq({ largeValueBytes }), or pass a reference (a path or a URL) instead of the data.',
      { code: 'WEFT_STORE_NOT_SHARED' },
    );
  }
}

/** A large value's artifact that the reading side cannot find. Code `WEFT_STORE_NOT_SHARED`. */
export class MissingLargeValueError extends ValidationError {
  override name = 'MissingLargeValueError';
  constructor(encoded: Extract<EncodedValue, { artifact: string }>, store: Store | undefined) {
    super(
      store === undefined
        ? `A value of ${kib(encoded.bytes)} was sent through run '${encoded.runId}''s store as ` +
            `artifact '${encoded.artifact}', and this worker has no store to read it from: ` +
            'start it with --store (or WEFT_STORE) naming the PostgreSQL store the run uses.'
        : `The ${store.kind} store at ${store.location} holds no artifact '${encoded.artifact}' of run ` +
            `'${encoded.runId}' (a value of ${kib(encoded.bytes)}): the worker and the run must use the same store.`,
      { code: 'WEFT_STORE_NOT_SHARED' },
    );
  }
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
    : `${Math.ceil(bytes / 1024)} KiB`;
}
