/**
 * Trackers: lifecycle hooks the application calls around every run and step (Burr's
 * tracking clients). Every hook is optional and called synchronously; a tracker that
 * needs I/O should queue it. Sub-applications of parallel actions inherit the parent's
 * tracker unless the action says otherwise (`tracker()` returning `null` or another one).
 */
import type { ActionResult, AppState } from './action.ts';
import type { ParentPointer } from './context.ts';

/** Identifies an application in tracker calls. */
export interface TrackedApplication {
  /** The application's id. */
  readonly appId: string;
  /** Its partition ('' unless set). */
  readonly partitionKey: string;
  /** The application and step that spawned it; undefined unless it is a sub-application. */
  readonly parent: ParentPointer | undefined;
}

/** Called around an application's runs and steps. */
export interface Tracker {
  /** Before the first step of a `run` or `iterate` (a standalone `step` calls only the step hooks). */
  onApplicationStart?(app: TrackedApplication, state: AppState): void;
  /** Before an action runs. */
  onStepStart?(app: TrackedApplication, step: StepStart): void;
  /** After an action ran, successfully or not. */
  onStepEnd?(app: TrackedApplication, step: StepEnd): void;
  /** After the last step of a `run` or `iterate` (also when it failed). */
  onApplicationEnd?(app: TrackedApplication, end: ApplicationEnd): void;
}

/** What {@link Tracker.onStepStart} is told. */
export interface StepStart {
  /** The step's sequence id (a retried step keeps the id of the attempt it repeats). */
  readonly sequenceId: number;
  /** The action about to run. */
  readonly action: string;
  /** The state it runs on. */
  readonly state: AppState;
  /** The runtime inputs it gets. */
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** What {@link Tracker.onStepEnd} is told. */
export interface StepEnd {
  /** The step's sequence id. */
  readonly sequenceId: number;
  /** The action that ran. */
  readonly action: string;
  /** The new state; when the step failed, the state it started from. */
  readonly state: AppState;
  /** The action's result; undefined when it failed. */
  readonly result: ActionResult | undefined;
  /** What the action threw; undefined when it succeeded. */
  readonly error: unknown;
  /** How long the step took, in milliseconds. */
  readonly durationMs: number;
}

/** What {@link Tracker.onApplicationEnd} is told. */
export interface ApplicationEnd {
  /** The state at the end. */
  readonly state: AppState;
  /** What ended the run with a failure; undefined when it ended normally. */
  readonly error: unknown;
  /** The last action run, if any. */
  readonly action: string | undefined;
}

/**
 * A tracker that keeps every call in memory, in order: for tests and for inspecting a
 * run afterwards.
 */
export class MemoryTracker implements Tracker {
  /** Every hook call, in order. */
  readonly calls: {
    /** `start`, `stepStart`, `stepEnd` or `end`. */
    readonly hook: string;
    /** The application called about. */
    readonly appId: string;
    /** Its parent's id, for a sub-application. */
    readonly parent?: string;
    /** What the hook was given (the state, a StepStart, a StepEnd or an ApplicationEnd). */
    readonly detail: unknown;
  }[] = [];

  onApplicationStart(app: TrackedApplication, state: AppState): void {
    this.calls.push({ hook: 'start', appId: app.appId, parent: app.parent?.appId, detail: state });
  }
  onStepStart(app: TrackedApplication, step: StepStart): void {
    this.calls.push({
      hook: 'stepStart',
      appId: app.appId,
      parent: app.parent?.appId,
      detail: step,
    });
  }
  onStepEnd(app: TrackedApplication, step: StepEnd): void {
    this.calls.push({ hook: 'stepEnd', appId: app.appId, parent: app.parent?.appId, detail: step });
  }
  onApplicationEnd(app: TrackedApplication, end: ApplicationEnd): void {
    this.calls.push({ hook: 'end', appId: app.appId, parent: app.parent?.appId, detail: end });
  }

  /** Ids of the applications seen, in order of first appearance. */
  appIds(): string[] {
    return [...new Set(this.calls.map((call) => call.appId))];
  }
}
