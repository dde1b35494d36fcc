/**
 * weft: parallel workflows. The engine — tasks, State, map, dag, events — and the
 * executors that run tasks in this thread, on worker threads and in child processes.
 */

export { findUncloneable, type Uncloneable } from './core/cloneable.ts';
export {
  type DagId,
  type DagNode,
  type DagNodes,
  type DagOptions,
  type DagOutcome,
  type DagResult,
  type DagResults,
  dag,
} from './core/dag.ts';
export { isWorker } from './core/definitions.ts';
export * from './core/errors.ts';
export * from './core/events.ts';
export {
  type Executor,
  getDefaultExecutor,
  type Settled,
  setDefaultExecutorFactory,
  type TaskInvocation,
} from './core/executor.ts';
export type { FanOutDisplay, FanOutOptions } from './core/fan-out-options.ts';
export type { JobContext } from './core/job.ts';
export { KeyScope, rootScope } from './core/keys.ts';
export { type MapOptions, type MapResult, map, type OnError } from './core/map.ts';
export { currentRun, Run, type WithRunOptions, withRun } from './core/run.ts';
export type { Serializer } from './core/serializer.ts';
export {
  type AppendValues,
  type ArrayKeys,
  type ElementOf,
  type ExtendValues,
  type IncrementValues,
  type Merge,
  type NumberKeys,
  State,
  type StateEntry,
  type StateRecord,
  type SubsetOptions,
  type Without,
} from './core/state.ts';
export type {
  Checkpoint,
  ListRunsOptions,
  RunRecord,
  RunStatus,
  Store,
  TaskRecord,
} from './core/store.ts';
export {
  type BackoffOptions,
  isTask,
  type Progress,
  type Task,
  type TaskContext,
  type TaskFn,
  type TaskOptions,
  task,
} from './core/task.ts';
export { isTransfer, type Transfer, transfer } from './core/transfer.ts';
export { executorFromEnv, executorNames } from './executors/default.ts';
export { type AsyncPoolOptions, asyncPool, inline } from './executors/in-process.ts';
export { type ProcessesOptions, processes } from './executors/processes.ts';
export { type ThreadsOptions, threads } from './executors/threads.ts';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.ts';
export { defaultStorePath, openStore } from './stores/open.ts';
export {
  type CustomType,
  createSerializer,
  defaultSerializer,
  type SerializerOptions,
} from './stores/serializer.ts';
