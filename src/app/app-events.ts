/**
 * The events an application sends to its run's bus: `app:start` when a run or iteration
 * begins, `app:step` after every step (completed or failed), `app:end` when it stops, and
 * `run:graph`, its actions and transitions, once per run. The CLI's progress, `weft show`
 * and the web UI read applications from them.
 */
import { type EventBus, maxGraphEdges, maxGraphNodes } from '../core/events.ts';
import type { ParentPointer } from './context.ts';
import type { Graph } from './graph.ts';

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

/**
 * The application's graph: its actions, and its transitions labelled with their
 * conditions (a default transition has no label). None for a graph over the event's bounds.
 */
export function emitAppGraph(source: AppEventSource, graph: Graph): void {
  if (graph.actions.size > maxGraphNodes || graph.transitions.length > maxGraphEdges) return;
  source.bus.emit({
    type: 'run:graph',
    time: Date.now(),
    scope: source.scope,
    kind: 'app',
    id: source.appId,
    label: source.appId,
    nodes: [...graph.actions.keys()].map((name) => ({ id: name, label: name })),
    edges: graph.transitions.map(({ from, to, condition }) =>
      condition.isDefault ? { from, to } : { from, to, label: condition.description },
    ),
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
