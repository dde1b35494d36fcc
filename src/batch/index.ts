/**
 * `weftjs/batch`: BatchFlow's in-batch parallelism on weft — batches and their components,
 * `@action` and `@inbatchParallel` with `init`/`post`, the targets `threads` (worker
 * threads: real parallelism), `async`, `mpc` (child processes) and `for`, datasets and
 * lazily chained pipelines; every item is a recorded task, so a resumed run skips
 * finished items.
 */
export { executorFromEnv } from '../executors/default.ts';
export { action } from './action.ts';
export {
  Batch,
  type BatchClass,
  type BatchData,
  type BatchOptions,
  type ItemId,
} from './batch.ts';
export { Args, args, type CallOptions, type Named } from './call-args.ts';
export { Dataset, type DatasetBatchClass, type DatasetSource } from './dataset.ts';
export { anyActionFailed, ParallelActionFailed, ParallelItemError } from './errors.ts';
export {
  inbatchParallel,
  type ParallelDecorator,
  type ParallelMethod,
} from './inbatch-parallel.ts';
export type {
  InbatchParallelOptions,
  InitOption,
  PostOption,
  Target,
  TargetName,
} from './parallel-spec.ts';
export {
  type MethodNames,
  type Parallel,
  type ParallelCall,
  parallel,
} from './parallel-type.ts';
export {
  type GenOptions,
  Pipeline,
  type PipelineActions,
  type PipelineRunOptions,
  type PipelineStep,
  type PipelineSummary,
} from './pipeline.ts';
export { shared } from './shared.ts';
