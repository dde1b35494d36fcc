/**
 * `dag`: tasks with dependencies. A node starts the moment its last dependency finishes
 * (event-driven: no polling, no sleeps), up to the concurrency bound. Nodes may be given
 * as an array, validated before anything runs (duplicate ids, unknown dependencies,
 * cycles), or as an async iterable, so that nodes can arrive while earlier ones run (a
 * plan streamed from a model). A failed node fails its dependents with an error naming
 * the root cause. This file is the loop (what is waiting, ready, running, done);
 * `dag-plan.ts` checks and indexes the graph.
 */

import { type DagId, DagPlan } from './dag-plan.ts';
import { refuseTopLevelWork } from './definitions.ts';
import { DependencyFailedError, TaskFailedError, ValidationError } from './errors.ts';
import type { RunGraphEvent } from './events.ts';
import { getDefaultExecutor, isThenable } from './executor.ts';
import { FanOut, type Invocation } from './fan-out.ts';
import {
  checkFanOutOptions,
  type FanOutOptions,
  parentScope,
  recordingRun,
} from './fan-out-options.ts';
import { Outlet } from './outlet.ts';
import { Fifo } from './queue.ts';
import { type Completed, lookahead, lookupBatch } from './resume.ts';
import { currentRun, type Run } from './run.ts';
import { type Task, type TaskFn, toTask } from './task.ts';

export type { DagId } from './dag-plan.ts';

/**
 * Results of the nodes finished so far, by id as given: a node with id `1` is
 * `results.get(1)`, one with id `'1'` is `results.get('1')`.
 * @typeParam Id the type of the ids: `string`, `number`, or both ({@link DagId})
 */
export type DagResults<Id extends DagId = string> = ReadonlyMap<Id, unknown>;

/**
 * One node of a dag.
 * @typeParam Id the type of its id and its dependencies' ids: `string` (the default),
 *   `number`, or both ({@link DagId})
 */
export interface DagNode<I = never, O = unknown, Id extends DagId = string> {
  /**
   * Unique id; dependencies refer to it, and results are keyed by it. A non-empty string
   * or a finite number; `1` and `'1'` are different ids, as Map keys are. In a recorded
   * run a node's key ends with its id (`nightly/dag/fetch`); a numeric id's segment is
   * marked with `~` (`nightly/dag/~1`), which no string id's segment can be (a `~` in a
   * string id is escaped), so `1` and `'1'` keep their records apart too.
   * @example { id: 1, task: search, input: 'Austin Powers' }
   */
  readonly id: Id;
  /** What the node runs: a task, or a plain function on in-process executors. */
  readonly task: Task<I, O> | TaskFn<I, O>;
  /**
   * The task's input: a value, or a function computing it from the results of the nodes
   * finished so far, called when the node's dependencies are done. To pass a function as
   * the input itself, return it from such a function.
   */
  // `{}` rather than `unknown`, which would swallow the function member and its typing of `done`.
  readonly input?: ((done: DagResults<Id>) => unknown) | {} | null;
  /** Ids of the nodes that must finish first, as given in their `id`. @default [] */
  readonly dependencies?: readonly Id[];
}

/** The nodes {@link dag} takes: given whole, or streamed as they are planned. */
export type DagNodes<Id extends DagId = string> =
  | Iterable<DagNode<never, unknown, Id>>
  | AsyncIterable<DagNode<never, unknown, Id>>;

/** Options of {@link dag}. */
export interface DagOptions extends FanOutOptions {
  /**
   * `'throw'` fails fast: nothing new starts, running nodes are aborted and the dag
   * rejects with the node's `TaskFailedError`. `'collect'` records the error as the
   * node's result, fails its dependents with `DependencyFailedError`, and lets
   * independent nodes finish.
   * @default 'throw'
   */
  readonly onError?: 'throw' | 'collect';
  /** Name of this dag in keys and progress. @default 'dag' */
  readonly name?: string;
  /**
   * The `run:graph` event the dag sends once all its nodes are known (as it starts when
   * they are given whole; when the last one arrives when they are streamed), for viewers
   * of the run to draw it: `false` sends none. A function rewrites the event before it is
   * sent (undefined: none is sent): a front end that runs its own graph as a dag (a
   * flow's layers) tells it as its users know it. A dag of more than 2,000 nodes
   * (`maxGraphNodes`) or 20,000 dependencies sends none.
   * @default true
   * @example dag(nodes, { graph: (event) => ({ ...event, label: 'Nightly build' }) })
   */
  readonly graph?: boolean | ((event: RunGraphEvent) => RunGraphEvent | undefined);
}

/**
 * A node that finished, as streamed by iterating a {@link DagResult}.
 * @typeParam Id the type of the ids; by default any id, so that a list of outcomes can
 *   hold those of any dag
 */
export type DagOutcome<Id extends DagId = DagId> =
  | { readonly id: Id; readonly ok: true; readonly value: unknown }
  | { readonly id: Id; readonly ok: false; readonly error: Error };

/**
 * The result of {@link dag}: await it for a Map of every node's result by id, or iterate
 * it for outcomes as they happen.
 */
export interface DagResult<Id extends DagId = string>
  extends PromiseLike<Map<Id, unknown>>,
    AsyncIterable<DagOutcome<Id>> {
  readonly [Symbol.toStringTag]: string;
  then<A = Map<Id, unknown>, B = never>(
    onFulfilled?: ((value: Map<Id, unknown>) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B>;
  catch<R = never>(
    onRejected: (reason: unknown) => R | PromiseLike<R>,
  ): Promise<Map<Id, unknown> | R>;
  finally(onFinally: () => void): Promise<Map<Id, unknown>>;
}

/**
 * Runs a dependency graph of tasks. Ids are strings, numbers, or both; the results are
 * keyed by them as given.
 *
 * @example
 * const results = await dag([
 *   { id: 'a', task: fetchPage, input: urlA },
 *   { id: 'b', task: fetchPage, input: urlB },
 *   { id: 'c', task: summarize, dependencies: ['a', 'b'], input: (done) => [done.get('a'), done.get('b')] },
 * ], { concurrency: 8 });
 * @example
 * // Numbered nodes: results.get(2) is the second search's result.
 * const results = await dag([
 *   { id: 1, task: search, input: 'Austin Powers' },
 *   { id: 2, task: search, input: 'Mike Myers' },
 *   { id: 3, task: compare, dependencies: [1, 2], input: (done) => [done.get(1), done.get(2)] },
 * ]);
 */
export function dag(nodes: DagNodes<string>, options?: DagOptions): DagResult<string>;
export function dag(nodes: DagNodes<number>, options?: DagOptions): DagResult<number>;
export function dag(nodes: DagNodes<DagId>, options?: DagOptions): DagResult<DagId>;
export function dag(nodes: DagNodes<DagId>, options: DagOptions = {}): DagResult<DagId> {
  refuseTopLevelWork('dag()');
  let runner: DagRunner | undefined;
  let all: Promise<Map<DagId, unknown>> | undefined;
  // The run of the caller, read now: the work starts later, when the result is consumed.
  const run = recordingRun(options, currentRun());
  const start = (streaming: boolean) => {
    if (runner) {
      throw new ValidationError(
        'This dag result is already being consumed; await it or iterate it once.',
      );
    }
    runner = new DagRunner(nodes, options, streaming, run);
    return runner;
  };
  const collect = () => {
    all ??= new Promise<Map<DagId, unknown>>((resolve, reject) => {
      try {
        start(false).collect(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
    return all;
  };
  return {
    [Symbol.toStringTag]: 'DagResult',
    // biome-ignore lint/suspicious/noThenProperty: a dag result is awaitable by design.
    then: (onFulfilled, onRejected) => collect().then(onFulfilled, onRejected),
    catch: (onRejected) => collect().catch(onRejected),
    finally: (onFinally) => collect().finally(onFinally),
    [Symbol.asyncIterator]() {
      return start(true).iterator();
    },
  };
}

/** A node as the runner sees it: any ids. */
type Node = DagNode<never, unknown, DagId>;

interface NodeState {
  readonly node: Node;
  readonly task: Task;
  /** Dependencies not finished yet. */
  waiting: number;
  readonly dependents: NodeState[];
  status: 'waiting' | 'ready' | 'running' | 'done' | 'failed';
  /** For a failed node: the id of the node whose own failure caused it. */
  rootCause?: DagId;
  error?: unknown;
  /** Resuming: the lookup of its key, started before it was ready. */
  lookup?: Promise<Completed> | undefined;
}

class DagRunner extends FanOut {
  readonly #collectErrors: boolean;
  readonly #streaming: boolean;
  readonly #label: string;
  readonly #display: DagOptions['display'];
  readonly #graph: DagOptions['graph'];
  readonly #nodes = new DagPlan<NodeState>();
  /** Where the keys of numeric ids begin: see {@link keyOf}. */
  readonly #numericKeyPrefix: string;
  /** Nodes whose dependencies are done, oldest first; one that failed meanwhile is skipped. */
  readonly #ready = new Fifo<NodeState>();
  readonly #results = new Map<DagId, unknown>();
  readonly #source: AsyncIterator<Node> | undefined;
  #sourceDone = true;
  #setupError: unknown;
  #settled = 0;
  #preparing = 0;
  /** Resuming: nodes in the order added, whose keys are looked up before they are ready. */
  readonly #ahead: (NodeState | undefined)[] = [];
  #aheadAt = 0;
  /** Lookups started ahead and not yet used by a launch: at most `lookahead`. */
  #lookedUpAhead = 0;
  #scheduling = false;
  #finished = false;
  #resolve: ((value: Map<DagId, unknown>) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  readonly #outlet = new Outlet<DagOutcome<DagId>>(
    () => {},
    () => this.stop(new DOMException('The dag consumer stopped reading.', 'AbortError')),
  );

  constructor(
    nodes: DagNodes<DagId>,
    options: DagOptions,
    streaming: boolean,
    run: Run | undefined,
  ) {
    const executor = options.executor ?? getDefaultExecutor();
    const parent = parentScope(options, run);
    super(executor, parent.child(options.name ?? 'dag'), options, run);
    this.#numericKeyPrefix = this.scope.path === '' ? '~' : `${this.scope.path}/~`;
    this.#collectErrors = options.onError === 'collect';
    this.#streaming = streaming;
    this.#label = options.name ?? 'dag';
    this.#display = options.display;
    this.#graph = options.graph;
    // Errors here are reported when the dag is consumed, after which nothing of it lingers.
    try {
      checkFanOutOptions('dag', options);
      checkGraphOption(options.graph);
      if (
        nodes != null &&
        typeof (nodes as AsyncIterable<Node>)[Symbol.asyncIterator] === 'function'
      ) {
        this.#source = (nodes as AsyncIterable<Node>)[Symbol.asyncIterator]();
        this.#sourceDone = false;
      } else if (
        nodes != null &&
        typeof (nodes as Iterable<Node>)[Symbol.iterator] === 'function'
      ) {
        this.#addAll([...(nodes as Iterable<Node>)]);
      } else {
        throw new ValidationError(
          `dag: nodes must be an array, an iterable or an async iterable, got ${typeof nodes}.`,
        );
      }
    } catch (error) {
      this.#setupError = error;
    }
  }

  /**
   * A node's key: its scope's path, then its id. A numeric id's segment is the number
   * after `~`, which a string id's segment never begins with (the scope escapes `~` in
   * it), so that ids `1` and `'1'` are recorded apart; string ids keep the keys they had.
   */
  keyOf(id: DagId): string {
    return typeof id === 'number' ? this.#numericKeyPrefix + String(id) : this.scope.key(id);
  }

  collect(resolve: (value: Map<DagId, unknown>) => void, reject: (reason: unknown) => void): void {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#begin();
  }

  iterator(): AsyncIterator<DagOutcome<DagId>> {
    // A bad graph fails at once, as a loop over it starts.
    if (this.#setupError !== undefined) {
      this.#finish(this.#setupError);
      throw this.#setupError;
    }
    this.#begin();
    return this.#outlet.iterator();
  }

  #begin(): void {
    if (this.#setupError !== undefined) {
      this.#finish(this.#setupError);
      return;
    }
    this.emitStart(
      'dag:start',
      undefined,
      this.#label,
      this.#sourceDone ? this.#nodes.size : undefined,
      this.#display,
    );
    if (this.#sourceDone) this.#emitGraph();
    if (this.stopIfCallerAborted() || this.signal.aborted) return;
    if (this.#source) void this.#readSource();
    this.#lookAhead();
    this.#schedule();
  }

  /** Reads streamed nodes as they arrive; each is scheduled at once. */
  async #readSource(): Promise<void> {
    const source = this.#source!;
    try {
      for (;;) {
        const next = await source.next();
        if (this.stopped) return;
        if (next.done) break;
        const node = next.value;
        this.#nodes.check(node, this.#nodes.size);
        this.#add(node);
        this.#lookAhead();
        this.#schedule();
      }
    } catch (error) {
      this.stop(error);
      return;
    }
    this.#sourceDone = true;
    const missing = this.#nodes.missingDependency();
    if (missing) {
      this.stop(missing);
      return;
    }
    this.#emitGraph();
    if (this.stopped) return;
    this.#checkStuck();
    this.#maybeFinish();
  }

  /** Adds a whole graph, checked before anything runs (see {@link DagPlan.checkComplete}). */
  #addAll(list: readonly Node[]): void {
    for (let position = 0; position < list.length; position++) {
      const node = list[position]!;
      this.#nodes.check(node, position);
      this.#add(node);
    }
    this.#nodes.checkComplete(list);
  }

  #add(node: Node): NodeState {
    const state: NodeState = {
      node,
      task: toTask(node.task),
      waiting: 0,
      dependents: [],
      status: 'waiting',
    };
    this.executor.check(state.task);
    // Nodes that arrived earlier and were waiting for this id.
    const earlier = this.#nodes.add(state);
    if (this.resuming) this.#ahead.push(state);
    const dependencies = node.dependencies;
    if (dependencies) {
      for (const depId of dependencies) {
        const dep = this.#nodes.get(depId);
        if (!dep) {
          if (this.#nodes.awaitArrival(depId, state)) state.waiting++;
        } else if (dep.status === 'failed') {
          if (state.status === 'waiting') this.#failDependent(state, dep);
        } else if (dep.status !== 'done') {
          // A repeated id: no other node is added to `dependents` while this one is.
          if (dep.dependents[dep.dependents.length - 1] === state) continue;
          dep.dependents.push(state);
          state.waiting++;
        }
      }
    }
    if (earlier) {
      for (const dependent of earlier) state.dependents.push(dependent);
      if (state.status === 'failed') this.#failDependents(state);
    }
    if (state.waiting === 0 && state.status === 'waiting') {
      state.status = 'ready';
      this.#ready.push(state);
    }
    return state;
  }

  #schedule(): void {
    // Nodes that finish synchronously (resumed, inline) schedule their dependents from
    // inside #start: the outer loop picks those up, so a long chain does not recurse.
    if (this.#scheduling) return;
    this.#scheduling = true;
    try {
      while (
        !this.stopped &&
        this.#ready.length > 0 &&
        this.running + this.#preparing < this.capacity
      ) {
        const state = this.#ready.shift()!;
        if (state.status === 'ready') this.#start(state);
      }
    } finally {
      this.#scheduling = false;
    }
    this.#maybeFinish();
  }

  /**
   * Resuming: looks up the keys of nodes not ready yet, in the order they were added, so
   * that a chain resumes with a lookup per batch of nodes, not per node.
   */
  #lookAhead(): void {
    // Started a batch at a time, so that lookups ahead of executed nodes still go together.
    if (this.#lookedUpAhead > lookahead - lookupBatch) return;
    const ahead = this.#ahead;
    while (this.#lookedUpAhead < lookahead && this.#aheadAt < ahead.length) {
      const state = ahead[this.#aheadAt]!;
      ahead[this.#aheadAt++] = undefined;
      if (state.status !== 'waiting') continue;
      state.lookup = this.lookUpAhead(state.node.id);
      this.#lookedUpAhead++;
    }
  }

  /** The lookup started ahead for `state`, if any, taken from it: a launch uses it once. */
  #takeLookup(state: NodeState): Promise<Completed> | undefined {
    const { lookup } = state;
    if (!lookup) return undefined;
    state.lookup = undefined;
    this.#lookedUpAhead--;
    this.#lookAhead();
    return lookup;
  }

  #start(state: NodeState): void {
    state.status = 'running';
    const lookup = this.#takeLookup(state);
    const { input } = state.node;
    if (typeof input !== 'function') {
      this.launch(state.task, input, state.node.id, undefined, lookup);
      return;
    }
    let computed: unknown;
    try {
      computed = (input as (done: DagResults<DagId>) => unknown)(this.#results);
    } catch (error) {
      this.failed++;
      this.#nodeFailed(state, error, 1);
      return;
    }
    if (isThenable(computed)) {
      this.#preparing++;
      computed.then(
        (value) => {
          this.#preparing--;
          if (this.stopped) return;
          this.launch(state.task, value, state.node.id, undefined, lookup);
        },
        (error) => {
          this.#preparing--;
          if (this.stopped) return;
          this.failed++;
          this.#nodeFailed(state, error, 1);
          this.#schedule();
        },
      );
      return;
    }
    this.launch(state.task, computed, state.node.id, undefined, lookup);
  }

  protected succeeded(invocation: Invocation, value: unknown): void {
    const state = this.#nodes.get(invocation.item)!;
    state.status = 'done';
    this.#results.set(state.node.id, value);
    this.#settled++;
    this.#emitOutcome({ id: state.node.id, ok: true, value });
    for (const dependent of state.dependents) {
      if (dependent.status !== 'waiting') continue;
      if (--dependent.waiting === 0) {
        dependent.status = 'ready';
        this.#ready.push(dependent);
      }
    }
    this.#schedule();
  }

  protected failedFinally(invocation: Invocation, error: unknown): void {
    this.#nodeFailed(this.#nodes.get(invocation.item)!, error, invocation.attempt);
  }

  #nodeFailed(state: NodeState, error: unknown, attempts: number): void {
    if (!this.#collectErrors) {
      this.stop(new TaskFailedError(state.task.name, this.keyOf(state.node.id), attempts, error));
      return;
    }
    // A node's result must be an Error to be told apart from a value.
    const failure = error instanceof Error ? error : new Error(String(error));
    state.status = 'failed';
    state.rootCause = state.node.id;
    state.error = failure;
    this.#results.set(state.node.id, failure);
    this.#settled++;
    this.#emitOutcome({ id: state.node.id, ok: false, error: failure });
    this.#failDependents(state);
    this.#schedule();
  }

  /**
   * Fails the dependents of a failed node, theirs, and so on, depth first in the order
   * they were added; with its own stack, since a long chain would overflow the call stack.
   */
  #failDependents(failed: NodeState): void {
    // Pairs of (dependent, the failed dependency it is reached from), pushed in reverse so
    // that they are taken in order.
    const stack: NodeState[] = [];
    const pushDependents = (state: NodeState) => {
      const { dependents } = state;
      for (let i = dependents.length - 1; i >= 0; i--) stack.push(dependents[i]!, state);
    };
    pushDependents(failed);
    while (stack.length > 0) {
      const dependency = stack.pop()!;
      const state = stack.pop()!;
      // Reached already through another failed dependency.
      if (state.status !== 'waiting' && state.status !== 'ready') continue;
      this.#failDependent(state, dependency);
      pushDependents(state);
    }
  }

  /** Fails one node because `dependency` failed; its own dependents are left to the caller. */
  #failDependent(state: NodeState, dependency: NodeState): void {
    // A ready node failed here stays in #ready, which skips it: no search of the queue.
    const rootCause = dependency.rootCause ?? dependency.node.id;
    const root = this.#nodes.get(rootCause);
    const error = new DependencyFailedError(
      state.node.id,
      dependency.node.id,
      rootCause,
      root?.error,
    );
    state.status = 'failed';
    state.rootCause = rootCause;
    state.error = root?.error;
    this.#takeLookup(state);
    this.failed++;
    this.#results.set(state.node.id, error);
    this.#settled++;
    this.#emitOutcome({ id: state.node.id, ok: false, error });
  }

  protected onStop(reason: unknown): void {
    const closing = this.#source?.return?.();
    closing?.then(undefined, () => {});
    this.#finish(reason);
  }

  /** With streamed input, nodes still waiting once everything arrived and nothing runs form a cycle. */
  #checkStuck(): void {
    if (!this.#sourceDone || this.running > 0 || this.#preparing > 0 || this.#ready.length > 0)
      return;
    const stuck = [...this.#nodes.values()].filter((s) => s.status === 'waiting');
    if (stuck.length > 0) this.stop(this.#nodes.stuck(stuck));
  }

  #maybeFinish(): void {
    if (this.#finished || this.stopped || !this.#sourceDone) return;
    if (this.running > 0 || this.#preparing > 0 || this.#ready.length > 0) return;
    if (this.#settled < this.#nodes.size) {
      this.#checkStuck();
      return;
    }
    this.#finish(undefined);
  }

  /** Sends the `run:graph` event of the nodes, once all are known (see {@link DagOptions.graph}). */
  #emitGraph(): void {
    if (this.#graph === false || !this.bus.listens('run:graph')) return;
    // A node's id in the event is its key segment: unique, and joined to its record.
    const prefix = this.scope.path === '' ? 0 : this.scope.path.length + 1;
    const graph = this.#nodes.graph((id) => this.keyOf(id).slice(prefix));
    if (!graph) return;
    const shown = this.#display === false ? undefined : this.#display;
    const event: RunGraphEvent = {
      type: 'run:graph',
      time: Date.now(),
      scope: this.scope.path,
      kind: 'dag',
      id: this.scope.path,
      label: shown?.label ?? this.#label,
      nodes: graph.nodes,
      edges: graph.edges,
    };
    let sent: RunGraphEvent | undefined = event;
    if (typeof this.#graph === 'function') {
      try {
        sent = this.#graph(event);
      } catch (error) {
        this.stop(error);
        return;
      }
    }
    if (sent !== undefined) this.bus.emit(sent);
  }

  #emitOutcome(outcome: DagOutcome<DagId>): void {
    if (this.#streaming) this.#outlet.push(outcome);
  }

  #finish(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.detach();
    this.emitFanOut('dag:end', error);
    if (this.#streaming) this.#outlet.close(error);
    else if (error !== undefined) this.#reject?.(error);
    else this.#resolve?.(this.#results);
  }
}

/** Checks {@link DagOptions.graph}: a boolean or a function. */
function checkGraphOption(graph: unknown): void {
  if (graph === undefined || typeof graph === 'boolean' || typeof graph === 'function') return;
  throw new ValidationError(
    `dag: graph must be true, false or a function rewriting the run:graph event, got ${typeof graph}.`,
  );
}
