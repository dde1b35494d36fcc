/**
 * `weftjs/flow`: laminar flows on weft — layers in dependency order, sharded artifacts read
 * through lazy Accessors, ForEach grids over Parameters on any executor, per-task retry,
 * and resume of completed layers and ForEach tasks.
 *
 * `executorFromEnv` makes the executor `WEFT_EXECUTOR` chooses, which is also the default
 * executor: importing `weftjs/flow` alone is enough to run ForEach tasks on it.
 */
export { executorFromEnv } from '../executors/default.ts';
export { Accessor, AccessorIndexError } from './accessor.ts';
export type { LayerInfo } from './artifacts.ts';
export { LayerFailedError } from './errors.ts';
export { Flow, type FlowOptions, type FlowRunOptions } from './flow.ts';
export { FlowResult } from './flow-result.ts';
export { ForEach, type ForEachOptions, Parameter, type ParameterOptions } from './foreach.ts';
export type {
  Layer,
  LayerFn,
  LayerOptions,
  LayerSelf,
  LayerView,
  RetryOptions,
} from './layer.ts';
