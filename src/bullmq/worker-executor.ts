/**
 * Which executor a weft worker runs its jobs on: the one it is given, or one made by name
 * (`asyncPool` unless told, never `bullmq`, which would send the jobs back to the queue),
 * and how many jobs it takes at once by default for it.
 */
import { ValidationError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import { executorFromEnv, executorKey } from '../executors/from-env.ts';
import type { WorkerOptions } from './options.ts';

/** Jobs at once on an in-process executor when not told. */
const defaultInProcessConcurrency = 16;

const executorKinds: Readonly<Record<string, 'inProcess' | 'pool' | 'bullmq'>> = {
  inline: 'inProcess',
  asyncpool: 'inProcess',
  async: 'inProcess',
  threads: 'pool',
  processes: 'pool',
  mpc: 'pool',
  bullmq: 'bullmq',
};

/** The executor the worker's jobs run on, whether it made it, and how many jobs it takes at once. */
export function makeExecutor(
  options: Pick<WorkerOptions, 'executor' | 'workers' | 'concurrency'>,
): {
  executor: Executor;
  own: boolean;
  concurrency: number;
} {
  const given = options.executor;
  if (given !== undefined && typeof given !== 'string') {
    return { executor: given, own: false, concurrency: options.concurrency ?? jobsFor(given) };
  }
  const name = given ?? 'asyncPool';
  if (executorKinds[executorKey(name)] === 'pool') {
    const executor = executorFromEnv(name, options.workers);
    return { executor, own: true, concurrency: options.concurrency ?? jobsFor(executor) };
  }
  const concurrency = options.concurrency ?? defaultInProcessConcurrency;
  // An async pool as wide as the worker, unless told otherwise.
  return {
    executor: executorFromEnv(name, options.workers ?? concurrency),
    own: true,
    concurrency,
  };
}

/** Jobs at once on `executor` when not told: twice a pool's workers, so that none waits idle. */
function jobsFor(executor: Executor): number {
  return executor.workers === undefined ? defaultInProcessConcurrency : executor.workers * 2;
}

/** Refuses an executor name the worker cannot run its jobs on. */
export function checkExecutorName(name: string): void {
  const kind = executorKinds[executorKey(name)];
  if (kind === 'bullmq') {
    throw new ValidationError(
      "weft worker runs its jobs on this machine: its executor cannot be 'bullmq', which would send " +
        'them back to the queue. Use asyncPool, threads, processes or inline (--executor).',
    );
  }
  if (kind === undefined) {
    throw new ValidationError(
      `Unknown executor '${name}' for weft worker. Use asyncPool, threads, processes or inline (--executor).`,
    );
  }
}
