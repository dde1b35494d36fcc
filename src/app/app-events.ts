/**
 * The events an application sends to its run's bus: `app:start` when a run or iteration
 * begins, `app:step` after every step (completed or failed), `app:end` when it stops.
 * The CLI's progress, `weft show` and the web UI read applications from them.
 */
import type { EventBus } from '../core/events.ts';
import type { ParentPointer } from './context.ts';

/** The application an event is about, and the bus that hears it. */
export interface AppEventSource {
  /** The bus to emit on: build a source only when it is `active` (someone listens). */
  readonly bus: EventBus;
  /** The application's key scope path. */
  readonly scope: string;
  readonly appId: string;
  readonly partitionKey: string;
  /** The application whose parallel step spawned this one, if any. */
  readonly parent: ParentPointer | undefined;
}

/** A run or an iteration of the application began. */
export function emitAppStart(source: AppEventSource): void {
  source.bus.emit({
    type: 'app:start',
    time: Date.now(),
    scope: source.scope,
    appId: source.appId,
    partitionKey: source.partitionKey,
    parentAppId: source.parent?.appId,
    parentSequenceId: source.parent?.sequenceId,
  });
}

/** A step ended: `error` is why it failed, undefined when it completed. */
export function emitAppStep(
  source: AppEventSource,
  sequenceId: number,
  action: string,
  durationMs: number,
  error: unknown,
): void {
  source.bus.emit({
    type: 'app:step',
    time: Date.now(),
    scope: source.scope,
    appId: source.appId,
    parentAppId: source.parent?.appId,
    sequenceId,
    action,
    durationMs,
    error,
  });
}

/** A run or an iteration stopped, after `action` (the last step run, if any). */
export function emitAppEnd(
  source: AppEventSource,
  durationMs: number,
  action: string | undefined,
  error: unknown,
): void {
  source.bus.emit({
    type: 'app:end',
    time: Date.now(),
    scope: source.scope,
    appId: source.appId,
    parentAppId: source.parent?.appId,
    action,
    durationMs,
    error,
  });
}
