/**
 * The default executor, chosen by configuration alone: `WEFT_EXECUTOR` (`inline`,
 * `asyncPool`, `threads`, `processes`, `bullmq`) and `WEFT_WORKERS`, so the same code runs
 * on any executor without a change. `bullmq` takes its queue from `WEFT_REDIS_URL` and
 * `WEFT_QUEUE`; its module loads BullMQ and ioredis only when it first sends a job.
 */

import { bullmq } from '../bullmq/executor.ts';
import { isWorker } from '../core/definitions.ts';
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import { asyncPool, inline } from './in-process.ts';
import { processes } from './processes.ts';
import { threads } from './threads.ts';

/** Executor names accepted by `WEFT_EXECUTOR` and `--executor`. */
export const executorNames = ['inline', 'asyncPool', 'threads', 'processes', 'bullmq'] as const;

/**
 * Makes the executor named by `name` (or `WEFT_EXECUTOR`), with `workers` (or `WEFT_WORKERS`).
 * @example executorFromEnv('threads', 4)
 */
export function executorFromEnv(
  name: string | undefined = process.env.WEFT_EXECUTOR,
  workers: number | undefined = parseWorkers(process.env.WEFT_WORKERS),
): Executor {
  switch (executorKey(name ?? 'asyncPool')) {
    case 'inline':
      return inline();
    case 'asyncpool':
    case 'async':
      return asyncPool(workers === undefined ? {} : { concurrency: workers });
    case 'threads':
      return threads(workers === undefined ? {} : { workers });
    case 'processes':
    case 'mpc':
      return processes(workers === undefined ? {} : { workers });
    case 'bullmq':
      // Workers run on other machines: their number is theirs (weft worker --concurrency).
      return bullmq();
    default:
      throw new ValidationError(
        `Unknown executor '${name}'. Use one of: ${executorNames.join(', ')} (WEFT_EXECUTOR or --executor).`,
      );
  }
}

/** An executor name as compared: `async-pool`, `AsyncPool` and `asyncpool` are one. */
export function executorKey(name: string): string {
  return name.trim().replace(/[-_]/g, '').toLowerCase();
}

/**
 * The executor fan-outs use when given none: the configured one, except inside a worker,
 * where a task's own fan-outs run in its worker, concurrently on its event loop.
 */
export function defaultExecutor(): Executor {
  return isWorker() ? asyncPool() : executorFromEnv();
}

/**
 * Reads a worker count given as text (`WEFT_WORKERS`, `--workers`).
 * @throws ValidationError naming `source` when it is not a whole number ≥ 1
 */
export function parseWorkers(
  value: string | undefined,
  source = 'WEFT_WORKERS',
): number | undefined {
  if (value === undefined || value === '') return undefined;
  const workers = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(Number.isSafeInteger(workers) && workers >= 1)) {
    throw new ValidationError(`${source} must be a whole number ≥ 1, got '${value}'.`);
  }
  return workers;
}
