/**
 * What a run's stored events say: its fan-outs (maps and dags, nested), its applications
 * and their steps, the graphs of what ran (`run:graph` events), and so what kind of run it
 * was. Read one event at a time, so that the live view adds events as they come.
 */
import { toWire, type WireError } from '../core/errors.ts';
import type {
  AppEndEvent,
  AppStartEvent,
  AppStepEvent,
  FanOutEndEvent,
  FanOutStartEvent,
  FanOutTotalEvent,
  RunGraphEvent,
  WeftEvent,
} from '../core/events.ts';
import type { RunSummary } from './api-types.ts';

/** A map or dag, as its events tell it. */
export interface FanOutFacts {
  readonly scope: string;
  readonly kind: 'map' | 'dag';
  label: string;
  /** A map's task name. */
  task: string | undefined;
  /** The scope of the fan-out it runs in, if any. */
  readonly parent: string | undefined;
  total: number | undefined;
  startedAt: number;
  endedAt: number | undefined;
  hidden: boolean;
  error: WireError | undefined;
  /** Failed tasks, as its end event counted them. */
  failed: number;
  /** Completed tasks, as its end event counted them (0 before it ended). */
  completed: number;
}

/** A step of an application. */
export interface StepFacts {
  readonly sequenceId: number;
  readonly action: string;
  readonly time: number;
  readonly durationMs: number;
  readonly error: WireError | undefined;
}

/** An application, as its events tell it. */
export interface AppFacts {
  readonly appId: string;
  partitionKey: string;
  parentAppId: string | undefined;
  parentSequenceId: number | undefined;
  status: 'running' | 'completed' | 'failed';
  readonly steps: StepFacts[];
}

/** A `run:graph` event, read by its shape (plain data kept with the run). */
export type GraphFacts = Omit<RunGraphEvent, 'type' | 'time'>;

/** Everything a run's events tell, gathered as they are added. */
export class RunEvents {
  readonly fanOuts = new Map<string, FanOutFacts>();
  readonly apps = new Map<string, AppFacts>();
  readonly graphs: GraphFacts[] = [];

  /** Adds every event of `events`, in order. */
  static of(events: Iterable<WeftEvent>): RunEvents {
    const read = new RunEvents();
    for (const event of events) read.add(event);
    return read;
  }

  /**
   * Takes one event in. Returns true when it changed what a progress view shows (a
   * fan-out began, learnt its size, or ended).
   */
  add(event: WeftEvent): boolean {
    // Events of a later weft may be of types this one does not name.
    const type = (event as { type: string }).type;
    switch (type) {
      case 'map:start':
      case 'dag:start':
        this.#start(event as FanOutStartEvent);
        return true;
      case 'map:total': {
        const fanOut = this.fanOuts.get(event.scope);
        if (fanOut) fanOut.total = (event as FanOutTotalEvent).total;
        return fanOut !== undefined;
      }
      case 'map:end':
      case 'dag:end': {
        const end = event as FanOutEndEvent;
        const fanOut = this.fanOuts.get(end.scope);
        if (!fanOut) return false;
        fanOut.endedAt = end.time;
        fanOut.error = wireOf(end.error);
        fanOut.failed = typeof end.failed === 'number' ? end.failed : 0;
        fanOut.completed = typeof end.completed === 'number' ? end.completed : 0;
        return true;
      }
      case 'app:start': {
        const start = event as AppStartEvent;
        const app = this.#app(start.appId, start.parentAppId);
        app.partitionKey = typeof start.partitionKey === 'string' ? start.partitionKey : '';
        app.parentSequenceId = start.parentSequenceId;
        app.status = 'running';
        return false;
      }
      case 'app:step': {
        const step = event as AppStepEvent;
        this.#app(step.appId, step.parentAppId).steps.push({
          sequenceId: step.sequenceId,
          action: step.action,
          time: step.time,
          durationMs: step.durationMs,
          error: wireOf(step.error),
        });
        return false;
      }
      case 'app:end': {
        const end = event as AppEndEvent;
        this.#app(end.appId, end.parentAppId).status =
          end.error === undefined || end.error === null ? 'completed' : 'failed';
        return false;
      }
      case 'run:graph': {
        const graph = graphOf(event);
        if (graph) this.graphs.push(graph);
        return false;
      }
      default:
        return false;
    }
  }

  /**
   * What ran: an application, a flow, a dag, maps… judged by the graphs the run sent,
   * else by its applications, else by the name of its first outermost fan-out.
   */
  get kind(): RunSummary['kind'] {
    const graph = this.graphs[0];
    if (graph) return graph.kind;
    if (this.apps.size > 0) return 'app';
    for (const fanOut of this.fanOuts.values()) {
      if (fanOut.parent !== undefined) continue;
      const name = lastSegment(fanOut.scope);
      if (name.startsWith('flow:')) return 'flow';
      if (name.startsWith('compose:')) return 'compose';
      if (/^plan:\d+$/.test(name)) return 'compiler';
      return fanOut.kind;
    }
    return 'unknown';
  }

  #start(event: FanOutStartEvent): void {
    const known = this.fanOuts.get(event.scope);
    const facts: FanOutFacts = {
      scope: event.scope,
      kind: event.type === 'dag:start' ? 'dag' : 'map',
      // A hidden fan-out (a flow's plain layer) is better named by its task than its label.
      label:
        (event.hidden === true ? event.task : undefined) ??
        event.label ??
        event.task ??
        lastSegment(event.scope),
      task: event.task ?? undefined,
      parent: known?.parent ?? this.#parentOf(event.scope),
      total: typeof event.total === 'number' ? event.total : undefined,
      startedAt: event.time,
      endedAt: undefined,
      hidden: event.hidden === true,
      error: undefined,
      failed: 0,
      completed: 0,
    };
    // A resumed run starts its fan-outs again: the latest attempt is the one shown.
    this.fanOuts.set(event.scope, facts);
  }

  /** The innermost fan-out whose scope holds `scope`. */
  #parentOf(scope: string): string | undefined {
    for (let at = scope.lastIndexOf('/'); at > 0; at = scope.lastIndexOf('/', at - 1)) {
      const candidate = scope.slice(0, at);
      if (this.fanOuts.has(candidate)) return candidate;
    }
    return undefined;
  }

  #app(appId: string, parentAppId: string | undefined): AppFacts {
    let app = this.apps.get(appId);
    if (!app) {
      app = {
        appId,
        partitionKey: '',
        parentAppId: parentAppId ?? undefined,
        parentSequenceId: undefined,
        status: 'running',
        steps: [],
      };
      this.apps.set(appId, app);
    }
    return app;
  }
}

/** The last segment of a key scope: a fan-out's name. */
export function lastSegment(scope: string): string {
  return scope.slice(scope.lastIndexOf('/') + 1);
}

/** A stored error (kept in its wire form) as a WireError; undefined for none. */
export function wireOf(error: unknown): WireError | undefined {
  if (error === undefined || error === null) return undefined;
  const { name, message } = error as { name?: unknown; message?: unknown };
  return typeof name === 'string' && typeof message === 'string'
    ? (error as WireError)
    : toWire(error);
}

/** A `run:graph` event's structure, when it has the shape one has; undefined otherwise. */
function graphOf(event: unknown): GraphFacts | undefined {
  const { kind, id, label, scope, nodes, edges } = event as Record<string, unknown>;
  if (kind !== 'app' && kind !== 'flow' && kind !== 'dag') return undefined;
  if (typeof id !== 'string' || !Array.isArray(nodes) || !Array.isArray(edges)) return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    kind,
    id,
    label: text(label) ?? id,
    scope: text(scope) ?? '',
    nodes: nodes.flatMap((node: Record<string, unknown> | null) => {
      const nodeId = text(node?.id);
      if (nodeId === undefined) return [];
      const nodeScope = text(node?.scope);
      return [
        {
          id: nodeId,
          label: text(node?.label) ?? nodeId,
          ...(nodeScope === undefined ? {} : { scope: nodeScope }),
        },
      ];
    }),
    edges: edges.flatMap((edge: Record<string, unknown> | null) => {
      const from = text(edge?.from);
      const to = text(edge?.to);
      if (from === undefined || to === undefined) return [];
      const edgeLabel = text(edge?.label);
      return [{ from, to, ...(edgeLabel === undefined ? {} : { label: edgeLabel }) }];
    }),
  };
}
