/**
 * `weftjs/app`: Burr applications on weft — actions over immutable State, graphs with
 * conditional transitions, persisters, trackers, and parallel actions (MapStates,
 * MapActions, MapActionsAndStates, mapReduceAction) whose sub-applications run on any
 * weft executor.
 *
 * `executorFromEnv` makes the executor `WEFT_EXECUTOR` chooses, which is also the default
 * executor: importing `weftjs/app` alone is enough to run parallel actions on it.
 */
export { executorFromEnv } from '../executors/default.ts';
export {
  Action,
  type ActionFn,
  type ActionResult,
  type ActionSpec,
  type AppState,
  action,
  type Inputs,
  type StepOutput,
} from './action.ts';
export { Application, type RunOptions, type StepOutcome } from './application.ts';
export { ApplicationBuilder, type InitializeOptions } from './builder.ts';
export { Condition, defaultTransition, expr, when } from './conditions.ts';
export type { ApplicationContext, ParallelExecutorSetting, ParentPointer } from './context.ts';
export { Graph, GraphBuilder, type Transition, type TransitionSpec } from './graph.ts';
export {
  type Cascade,
  childAppId,
  MapActions,
  MapActionsAndStates,
  type MapReduceOptions,
  MapStates,
  mapReduceAction,
  ParallelTaskError,
  RunnableGraph,
  type SubGraphRunOptions,
  SubGraphTask,
  type SubGraphTaskOptions,
  TaskBasedParallelAction,
} from './parallelism.ts';
export {
  type PersistedState,
  type StateLoader,
  type StatePersister,
  type StateSaver,
  StorePersister,
} from './persistence.ts';
export {
  type ApplicationEnd,
  MemoryTracker,
  type StepEnd,
  type StepStart,
  type TrackedApplication,
  type Tracker,
} from './tracker.ts';
