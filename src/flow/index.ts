/**
 * `weftjs/flow`: laminar flows on weft — layers in dependency order, sharded artifacts read
 * through lazy Accessors, ForEach grids over Parameters on any executor, per-task retry,
 * and resume of completed layers and ForEach tasks.
 */
export { Accessor, AccessorIndexError } from './accessor.ts';
export type { LayerInfo } from './artifacts.ts';
export { LayerFailedError } from './errors.ts';
export { Flow, type FlowOptions, FlowResult, type FlowRunOptions } from './flow.ts';
export { ForEach, type ForEachOptions, Parameter, type ParameterOptions } from './foreach.ts';
export type {
  Layer,
  LayerFn,
  LayerOptions,
  LayerSelf,
  LayerView,
  RetryOptions,
} from './layer.ts';

import { provideDefaultExecutorFactory } from '../core/executor.ts';
import { defaultExecutor } from '../executors/from-env.ts';

// Importing weftjs/flow alone is enough to run ForEach tasks on the default executor.
provideDefaultExecutorFactory(defaultExecutor);
