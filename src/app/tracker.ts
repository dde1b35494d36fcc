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
  readonly appId: string;
  readonly partitionKey: string;
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

export interface StepStart {
  readonly sequenceId: number;
  readonly action: string;
  readonly state: AppState;
  readonly inputs: Readonly<Record<string, unknown>>;
}

export interface StepEnd {
  readonly sequenceId: number;
  readonly action: string;
  readonly state: AppState;
  readonly result: ActionResult | undefined;
  readonly error: unknown;
  readonly durationMs: number;
}

export interface ApplicationEnd {
  readonly state: AppState;
  readonly error: unknown;
  /** The last action run, if any. */
  readonly action: string | undefined;
}

/**
 * A tracker that keeps every call in memory, in order: for tests and for inspecting a
 * run afterwards.
 */
export class MemoryTracker implements Tracker {
  readonly calls: {
    readonly hook: string;
    readonly appId: string;
    readonly parent?: string;
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
