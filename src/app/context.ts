/** What an action is told about the application running it (Burr's `ApplicationContext`). */
import type { EventBus } from '../core/events.ts';
import type { Executor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import type { StateLoader, StateSaver } from './persistence.ts';
import type { Tracker } from './tracker.ts';

/**
 * The parallel executor of an application: one executor, or a factory called once per
 * top-level parallel step, whose executor the step's sub-applications share.
 */
export type ParallelExecutorSetting = Executor | (() => Executor);

/** The application an action runs in, passed as the third argument of every action. */
export interface ApplicationContext {
  /** Id of the application running the action. */
  readonly appId: string;
  /** Its partition ('' unless set with `withIdentifiers`). */
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
  /** What saves the application's state after every step, or null (cascaded to sub-applications). */
  readonly statePersister: StateSaver | null;
  /** What the application loaded its saved state from, or null (cascaded to sub-applications). */
  readonly stateInitializer: StateLoader | null;
  /** What parallel actions run their tasks on; undefined for the default executor. */
  readonly parallelExecutor: ParallelExecutorSetting | undefined;
  /** Key scope of this step: fan-outs given it nest their keys under the step. */
  readonly scope: KeyScope;
  /** The bus the application's events go to. */
  readonly events: EventBus;
}

/** Which application and step spawned a sub-application. */
export interface ParentPointer {
  /** Id of the parent application. */
  readonly appId: string;
  /** Partition of the parent application. */
  readonly partitionKey: string;
  /** The parent's step that spawned the sub-application. */
  readonly sequenceId: number;
}
