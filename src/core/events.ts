/**
 * One stream of events for every fan-out: task start, end, failure, retry and progress,
 * the start and end of each map and dag, the steps of applications, and the structure of
 * what runs (`run:graph`). Progress displays, trackers, the web UI and run stores all
 * subscribe to the same bus.
 */
import type { Progress } from './task.ts';

interface EventBase {
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** Path of the fan-out the event belongs to (its key scope). */
  readonly scope: string;
}

interface TaskEventBase extends EventBase {
  /** Deterministic key of the task instance. */
  readonly key: string;
  /** Task name. */
  readonly task: string;
  /** Position of the item in a map, or the node id in a dag. */
  readonly item: number | string;
  /** 1 on the first try. */
  readonly attempt: number;
}

/** The task was handed to its executor, where it may wait for a free worker or slot. */
export interface TaskStartEvent extends TaskEventBase {
  readonly type: 'task:start';
}
interface TaskTimes {
  /** How long the attempt ran, from the moment a worker (or slot) started it. */
  readonly durationMs: number;
  /**
   * How long the attempt waited in its executor's queue before it started; absent in
   * events recorded by versions of weft before it was measured.
   */
  readonly queuedMs?: number;
}
export interface TaskEndEvent extends TaskEventBase, TaskTimes {
  readonly type: 'task:end';
  /** True when the output came from an earlier attempt of the run (resume), not from running it. */
  readonly resumed?: boolean;
}
export interface TaskFailEvent extends TaskEventBase, TaskTimes {
  readonly type: 'task:fail';
  readonly error: unknown;
}
export interface TaskRetryEvent extends TaskEventBase {
  readonly type: 'task:retry';
  readonly error: unknown;
  /** How long weft waits before the next attempt. */
  readonly delayMs: number;
}
export interface TaskProgressEvent extends TaskEventBase {
  readonly type: 'task:progress';
  readonly progress: Progress;
}
export interface FanOutStartEvent extends EventBase {
  readonly type: 'map:start' | 'dag:start';
  /** Task name for a map; undefined for a dag. */
  readonly task: string | undefined;
  /** Number of items or nodes, when known up front. */
  readonly total: number | undefined;
  /**
   * What progress displays call the fan-out: a task, layer or action name. Absent in
   * events recorded by versions of weft before labels.
   */
  readonly label?: string;
  /**
   * True for a fan-out that asked not to be shown (it runs inside one task of another
   * fan-out, which shows that task already); its tasks' events still flow.
   */
  readonly hidden?: boolean;
}
/** A map whose input was not an array read it to the end: its size is known now. */
export interface FanOutTotalEvent extends EventBase {
  readonly type: 'map:total';
  /** Number of items the input held. */
  readonly total: number;
}
export interface FanOutEndEvent extends EventBase {
  readonly type: 'map:end' | 'dag:end';
  readonly completed: number;
  readonly failed: number;
  readonly durationMs: number;
  /** Why the fan-out stopped early, if it did. */
  readonly error: unknown;
}

interface AppEventBase extends EventBase {
  /** The application's id. */
  readonly appId: string;
  /** Id of the application whose parallel action spawned this one, if any. */
  readonly parentAppId: string | undefined;
}
export interface AppStartEvent extends AppEventBase {
  readonly type: 'app:start';
  readonly partitionKey: string;
  /** The parent's step that spawned this application, if any. */
  readonly parentSequenceId: number | undefined;
}
export interface AppStepEvent extends AppEventBase {
  readonly type: 'app:step';
  readonly sequenceId: number;
  /** The action run. */
  readonly action: string;
  readonly durationMs: number;
  /** Why the step failed; undefined when it completed. */
  readonly error: unknown;
}
export interface AppEndEvent extends AppEventBase {
  readonly type: 'app:end';
  /** The last action run, if any. */
  readonly action: string | undefined;
  readonly durationMs: number;
  /** Why the application stopped, if it failed. */
  readonly error: unknown;
}

/**
 * The structure of what runs, sent once as it starts, so that a viewer of the run (the
 * web UI) can draw it and place each fan-out's progress on it: an application's actions
 * and transitions (`app`, once per run it is driven in, right after its `app:start`), a
 * flow's layers and their dependencies (`flow`), a dag's nodes and their dependencies
 * (`dag`, once all its nodes are known: right after its `dag:start`, or when the last
 * streamed node arrived). Its `scope` is the application's key scope (that of its
 * `app:start`), or the key scope of the dag running the flow's layers or the dag's nodes
 * (that of its `dag:start`). Plain data only, kept with the run's events; progress
 * displays ignore it.
 *
 * Bounded: a dag of more than {@link maxGraphNodes} nodes (or more than
 * {@link maxGraphEdges} dependencies) sends none, nor does an application or flow that
 * large; a sub-application of a parallel action sends none either (its parent's action
 * stands for it).
 */
export interface RunGraphEvent extends EventBase {
  readonly type: 'run:graph';
  /** What ran: an application, a flow, or a dag. */
  readonly kind: 'app' | 'flow' | 'dag';
  /** The application's id, the flow's name, or the dag's key scope (as `scope`). */
  readonly id: string;
  /** What displays call it: the application's id, the flow's name, the dag's name. */
  readonly label: string;
  /**
   * The actions, layers or dag nodes, in the order given. A dag node's `id` is its key
   * segment: its task's key is `scope + '/' + id` (a numeric id's segment starts with
   * `~`, and `/`, `~` and `%` in a string id are escaped), its `label` the id as given. A
   * layer's `scope` is the key scope of the fan-out that runs its tasks: its `map:start`
   * event has that scope, and its tasks' keys start with `scope + '/'`.
   */
  readonly nodes: readonly RunGraphNode[];
  /**
   * Transitions between actions (`label`: the condition's text, absent for a default
   * transition), or dependencies, from the node depended on to the node that depends on it.
   */
  readonly edges: readonly RunGraphEdge[];
}

/** A node of a {@link RunGraphEvent}: an action, a layer, a dag node. */
export interface RunGraphNode {
  readonly id: string;
  readonly label: string;
  /** The key scope of the fan-out that runs it, when one does (a flow's layer). */
  readonly scope?: string;
}

/** An edge of a {@link RunGraphEvent}: a transition or a dependency. */
export interface RunGraphEdge {
  readonly from: string;
  readonly to: string;
  /** A transition's condition, when it has one. */
  readonly label?: string;
}

/** Most nodes a {@link RunGraphEvent} describes: a larger graph sends none. */
export const maxGraphNodes = 2_000;
/** Most edges a {@link RunGraphEvent} describes: a graph with more sends none. */
export const maxGraphEdges = 20_000;

/** Every event, by type. */
export interface WeftEvents {
  'task:start': TaskStartEvent;
  'task:end': TaskEndEvent;
  'task:fail': TaskFailEvent;
  'task:retry': TaskRetryEvent;
  'task:progress': TaskProgressEvent;
  'map:start': FanOutStartEvent;
  'map:total': FanOutTotalEvent;
  'map:end': FanOutEndEvent;
  'dag:start': FanOutStartEvent;
  'dag:end': FanOutEndEvent;
  'app:start': AppStartEvent;
  'app:step': AppStepEvent;
  'app:end': AppEndEvent;
  'run:graph': RunGraphEvent;
}

export type WeftEventType = keyof WeftEvents;
export type WeftEvent = WeftEvents[WeftEventType];
export type Listener<E> = (event: E) => void;

/** Options of {@link EventBus.stream}. */
export interface EventStreamOptions {
  /** Ends the stream when aborted. */
  readonly signal?: AbortSignal;
  /** Only these event types. @default every type */
  readonly types?: readonly WeftEventType[];
}

/**
 * A synchronous publish/subscribe bus. Listeners run in the emitting call, so they must
 * be quick; a listener that throws is reported once on the process and then removed.
 * When nobody listens, emitting costs one boolean check: producers test {@link active}
 * before they build an event.
 */
export class EventBus {
  #listeners: Listener<WeftEvent>[] = [];
  /** Listeners of every event. */
  #untyped = 0;
  /** Listeners of one type, by type. */
  readonly #typed = new Map<string, number>();
  /** The type each listener of one type was subscribed for. */
  readonly #typeOf = new WeakMap<Listener<WeftEvent>, string>();

  /** True when at least one listener is subscribed. */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /**
   * True when a listener would receive events of `type`: producers of frequent events
   * (a task's start and end) test it, so that a listener of a few types (a run keeping
   * its fan-out events) does not make every task build events nobody reads.
   */
  listens(type: WeftEventType): boolean {
    return this.#untyped > 0 || this.#typed.has(type);
  }

  /**
   * Subscribes to every event, or to one type. Returns the function that unsubscribes.
   * @example const off = bus.on('task:end', (e) => console.log(e.key, e.durationMs));
   */
  on<T extends WeftEventType>(type: T, listener: Listener<WeftEvents[T]>): () => void;
  on(listener: Listener<WeftEvent>): () => void;
  on(
    typeOrListener: WeftEventType | Listener<WeftEvent>,
    maybeListener?: Listener<never>,
  ): () => void {
    const listener: Listener<WeftEvent> =
      typeof typeOrListener === 'function'
        ? typeOrListener
        : (event) => {
            if (event.type === typeOrListener) (maybeListener as Listener<WeftEvent>)(event);
          };
    const type = typeof typeOrListener === 'function' ? undefined : typeOrListener;
    if (type !== undefined) this.#typeOf.set(listener, type);
    this.#count(type, 1);
    // Copy on write, so emit can iterate without guarding against changes mid-loop.
    this.#listeners = [...this.#listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#remove(listener);
    };
  }

  #count(type: string | undefined, change: number): void {
    if (type === undefined) {
      this.#untyped += change;
      return;
    }
    const count = (this.#typed.get(type) ?? 0) + change;
    if (count > 0) this.#typed.set(type, count);
    else this.#typed.delete(type);
  }

  /** Removes every subscription of `listener`. */
  #remove(listener: Listener<WeftEvent>): void {
    const kept = this.#listeners.filter((l) => l !== listener);
    const removed = this.#listeners.length - kept.length;
    if (removed === 0) return;
    this.#listeners = kept;
    this.#count(this.#typeOf.get(listener), -removed);
  }

  /** Delivers an event to every listener. */
  emit(event: WeftEvent): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (error) {
        this.#remove(listeners[i]!);
        process.emitWarning(
          `An event listener threw on '${event.type}' and was removed: ${String(error)}`,
          { code: 'WEFT_LISTENER_FAILED' },
        );
      }
    }
  }

  /**
   * The events as an async iterable, from this call on, until the signal aborts or the
   * loop breaks. Events are buffered between reads, so a slow reader sees every event.
   * @example for await (const event of bus.stream({ signal })) console.log(event.type);
   */
  stream(options: EventStreamOptions = {}): AsyncIterableIterator<WeftEvent> {
    const { signal, types } = options;
    const wanted = types ? new Set<string>(types) : undefined;
    const queue: WeftEvent[] = [];
    let head = 0;
    let wake: (() => void) | undefined;
    let closed = false;
    // Subscribed now, not on the first read, so no event between the two is lost.
    const off = this.on((event) => {
      if (wanted && !wanted.has(event.type)) return;
      queue.push(event);
      wake?.();
    });
    const close = () => {
      if (closed) return;
      closed = true;
      off();
      signal?.removeEventListener('abort', onAbort);
      wake?.();
    };
    const onAbort = () => close();
    if (signal?.aborted) close();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const iterator: AsyncIterableIterator<WeftEvent> = {
      async next(): Promise<IteratorResult<WeftEvent>> {
        for (;;) {
          if (closed) return { done: true, value: undefined };
          if (head < queue.length) {
            const event = queue[head++]!;
            if (head === queue.length) {
              queue.length = 0;
              head = 0;
            }
            return { done: false, value: event };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<WeftEvent>> {
        close();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

/** The bus fan-outs report to when they are given none. */
export const events = new EventBus();
