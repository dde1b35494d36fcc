/**
 * `weftjs/bullmq`: tasks across machines over BullMQ on Redis. `bullmq()` is an executor
 * like the others, so every front end runs distributed by configuration alone
 * (`--executor bullmq`, `WEFT_EXECUTOR=bullmq`); `startWorker()` is what `weft worker`
 * runs on each machine.
 */
export { executorFromEnv } from '../executors/default.ts';
export { LargeValueError, MissingLargeValueError, RedisUnreachableError } from './errors.ts';
export { bullmq } from './executor.ts';
export type { BullmqOptions, QueueOptions, RedisConnection, WorkerOptions } from './options.ts';
export {
  type StartWorkerOptions,
  startWorker,
  type WeftWorker,
  type WorkerStats,
} from './worker.ts';
