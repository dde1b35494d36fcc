/** What an action is told about the application running it (Burr's `ApplicationContext`). */
import type { EventBus } from '../core/events.ts';
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import type { StateLoader, StatePersister } from './persistence.ts';
import type { Tracker } from './tracker.ts';

/** The parallel executor of an application: one executor, or a factory called per parallel step. */
export type ParallelExecutorSetting = Executor | (() => Executor);

/** The application an action runs in, passed as the third argument of every action. */
export interface ApplicationContext {
  readonly appId: string;
  readonly partitionKey: string;
  /** The step being run: 0 for the first step of a new application. */
  readonly sequenceId: number;
  /** Name of the action being run. */
  readonly actionName: string;
  /** Aborted when the application is stopped or a sibling task failed. */
  readonly signal: AbortSignal;
  /** The application that spawned this one, for sub-applications of a parallel action. */
  readonly parent: ParentPointer | undefined;
  /** The tracker of the application, or null (cascaded to sub-applications). */
  readonly tracker: Tracker | null;
  readonly statePersister: StatePersister | null;
  readonly stateInitializer: StateLoader | null;
  /** What parallel actions run their tasks on. */
  readonly parallelExecutor: ParallelExecutorSetting | undefined;
  /** Key scope of this step: fan-outs given it nest their keys under the step. */
  readonly scope: KeyScope;
  /** The bus the application's events go to. */
  readonly events: EventBus;
}

/** Which application and step spawned a sub-application. */
export interface ParentPointer {
  readonly appId: string;
  readonly partitionKey: string;
  readonly sequenceId: number;
}
