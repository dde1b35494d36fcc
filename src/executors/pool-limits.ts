/**
 * How big a pool of worker threads or child processes may be: how many workers, and how
 * much heap each one may use before it is stopped.
 */
import { availableParallelism, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { ValidationError } from '../core/errors.ts';

/** Workers allowed per CPU core. */
const workersPerCore = 16;
/** Workers allowed on any machine, however few its cores. */
const leastWorkerLimit = 64;
/** The least heap a worker gets by default, in megabytes: ordinary tasks fit in it. */
const leastDefaultMemoryMb = 256;
const megabyte = 1024 * 1024;

/**
 * The most workers a pool may have on this machine: 16 per CPU core, and never fewer
 * than 64. Each worker is a whole JavaScript engine (a thread with its own heap, or a
 * process of some 40 MB at rest) that takes tens of milliseconds to start. Tasks that
 * wait (I/O, timers) already overlap inside one worker, so more workers than cores only
 * help tasks that block their thread; 16 per core leaves them ample room, and 64 lets a
 * small machine (a 2-core CI runner) run dozens. Far beyond that a typo (`--workers
 * 10000`) would exhaust the machine's memory or process table instead of failing.
 */
export function maxWorkers(): number {
  return Math.max(leastWorkerLimit, workersPerCore * availableParallelism());
}

/**
 * Checks a pool's worker count.
 * @param kind the executor, as errors name it: `threads`, `processes`
 * @throws ValidationError naming the option and the limit
 */
export function checkWorkers(kind: string, workers: number): number {
  if (!(Number.isSafeInteger(workers) && workers >= 1)) {
    throw new ValidationError(`${kind}: workers must be a whole number ≥ 1, got ${workers}.`);
  }
  const limit = maxWorkers();
  if (workers > limit) {
    throw new ValidationError(
      `${kind}: ${workers} workers is more than this machine allows (${limit}: ${workersPerCore} ` +
        `per CPU core, and never fewer than ${leastWorkerLimit}). Ask for at most ${limit} with ` +
        `${kind}({ workers }), --workers or WEFT_WORKERS; for more tasks at once, raise a ` +
        "fan-out's concurrency: each worker already runs many waiting tasks together.",
    );
  }
  return workers;
}

/**
 * The heap each of `workers` workers may use when not told: together at most half of the
 * machine's memory, yet at least 256 MB each, and never more than Node's own limit (this
 * process's, which its children would get anyway).
 */
export function defaultMaxMemoryMb(workers: number): number {
  const share = Math.floor(totalmem() / megabyte / 2 / workers);
  const nodeLimit = Math.floor(getHeapStatistics().heap_size_limit / megabyte);
  return Math.min(nodeLimit, Math.max(leastDefaultMemoryMb, share));
}

/**
 * Checks a heap limit given in megabytes.
 * @param option the option as errors name it, e.g. `processes({ maxMemoryMb })`
 * @throws ValidationError naming the option
 */
export function checkMaxMemoryMb(option: string, megabytes: number): number {
  if (!(Number.isSafeInteger(megabytes) && megabytes >= 1)) {
    throw new ValidationError(
      `${option} must be a whole number of megabytes ≥ 1, got ${megabytes}.`,
    );
  }
  return megabytes;
}
