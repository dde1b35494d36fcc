/**
 * `dag`: tasks with dependencies. A node starts the moment its last dependency finishes
 * (event-driven: no polling, no sleeps), up to the concurrency bound. Nodes may be given
 * as an array, validated before anything runs (duplicate ids, unknown dependencies,
 * cycles), or as an async iterable, so that nodes can arrive while earlier ones run (a
 * plan streamed from a model). A failed node fails its dependents with an error naming
 * the root cause.
 */
import { refuseTopLevelWork } from './definitions.ts';
import { DependencyFailedError, TaskFailedError, ValidationError } from './errors.ts';
import { getDefaultExecutor, isThenable } from './executor.ts';
import {
  checkFanOutOptions,
  FanOut,
  type FanOutOptions,
  type Invocation,
  parentScope,
  recordingRun,
} from './fan-out.ts';
import { Outlet } from './outlet.ts';
import { Fifo } from './queue.ts';
import { type Completed, lookahead, lookupBatch } from './resume.ts';
import { currentRun, type Run } from './run.ts';
import { type Task, type TaskFn, toTask } from './task.ts';

/** Results of the nodes finished so far, by id. */
export type DagResults = ReadonlyMap<string, unknown>;

/** One node of a dag. */
export interface DagNode<I = never, O = unknown> {
  /** Unique id; dependencies refer to it. */
  readonly id: string;
  /** What the node runs: a task, or a plain function on in-process executors. */
  readonly task: Task<I, O> | TaskFn<I, O>;
  /**
   * The task's input: a value, or a function computing it from the results of the nodes
   * finished so far, called when the node's dependencies are done. To pass a function as
   * the input itself, return it from such a function.
   */
  // `{}` rather than `unknown`, which would swallow the function member and its typing of `done`.
  readonly input?: ((done: DagResults) => unknown) | {} | null;
  /** Ids of the nodes that must finish first. @default [] */
  readonly dependencies?: readonly string[];
}

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
}

/** A node that finished, as streamed by iterating a {@link DagResult}. */
export type DagOutcome =
  | { readonly id: string; readonly ok: true; readonly value: unknown }
  | { readonly id: string; readonly ok: false; readonly error: Error };

/** The result of {@link dag}: await it for a Map of every node's result, or iterate it for outcomes as they happen. */
export interface DagResult extends PromiseLike<Map<string, unknown>>, AsyncIterable<DagOutcome> {
  readonly [Symbol.toStringTag]: string;
  then<A = Map<string, unknown>, B = never>(
    onFulfilled?: ((value: Map<string, unknown>) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B>;
  catch<R = never>(
    onRejected: (reason: unknown) => R | PromiseLike<R>,
  ): Promise<Map<string, unknown> | R>;
  finally(onFinally: () => void): Promise<Map<string, unknown>>;
}

/**
 * Runs a dependency graph of tasks.
 *
 * @example
 * const results = await dag([
 *   { id: 'a', task: fetchPage, input: urlA },
 *   { id: 'b', task: fetchPage, input: urlB },
 *   { id: 'c', task: summarize, dependencies: ['a', 'b'], input: (done) => [done.get('a'), done.get('b')] },
 * ], { concurrency: 8 });
 */
export function dag(
  nodes: Iterable<DagNode> | AsyncIterable<DagNode>,
  options: DagOptions = {},
): DagResult {
  refuseTopLevelWork('dag()');
  let runner: DagRunner | undefined;
  let all: Promise<Map<string, unknown>> | undefined;
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
    all ??= new Promise<Map<string, unknown>>((resolve, reject) => {
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

interface NodeState {
  readonly node: DagNode;
  readonly task: Task;
  /** Dependencies not finished yet. */
  waiting: number;
  readonly dependents: NodeState[];
  status: 'waiting' | 'ready' | 'running' | 'done' | 'failed';
  /** For a failed node: the id of the node whose own failure caused it. */
  rootCause?: string;
  error?: unknown;
  /** Resuming: the lookup of its key, started before it was ready. */
  lookup?: Promise<Completed> | undefined;
}

class DagRunner extends FanOut {
  readonly #collectErrors: boolean;
  readonly #streaming: boolean;
  readonly #label: string;
  readonly #display: DagOptions['display'];
  readonly #nodes = new Map<string, NodeState>();
  /** Dependents waiting for ids that have not arrived yet (streamed input). */
  readonly #unknown = new Map<string, NodeState[]>();
  /** True once a node came before one of its dependencies: only then can there be a cycle. */
  #listedBeforeDependency = false;
  /** Nodes whose dependencies are done, oldest first; one that failed meanwhile is skipped. */
  readonly #ready = new Fifo<NodeState>();
  readonly #results = new Map<string, unknown>();
  readonly #source: AsyncIterator<DagNode> | undefined;
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
  #resolve: ((value: Map<string, unknown>) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  readonly #outlet = new Outlet<DagOutcome>(
    () => {},
    () => this.stop(new DOMException('The dag consumer stopped reading.', 'AbortError')),
  );

  constructor(
    nodes: Iterable<DagNode> | AsyncIterable<DagNode>,
    options: DagOptions,
    streaming: boolean,
    run: Run | undefined,
  ) {
    const executor = options.executor ?? getDefaultExecutor();
    const parent = parentScope(options, run);
    super(executor, parent.child(options.name ?? 'dag'), options, run);
    this.#collectErrors = options.onError === 'collect';
    this.#streaming = streaming;
    this.#label = options.name ?? 'dag';
    this.#display = options.display;
    // Errors here are reported when the dag is consumed, after which nothing of it lingers.
    try {
      checkFanOutOptions('dag', options);
      if (
        nodes != null &&
        typeof (nodes as AsyncIterable<DagNode>)[Symbol.asyncIterator] === 'function'
      ) {
        this.#source = (nodes as AsyncIterable<DagNode>)[Symbol.asyncIterator]();
        this.#sourceDone = false;
      } else if (
        nodes != null &&
        typeof (nodes as Iterable<DagNode>)[Symbol.iterator] === 'function'
      ) {
        this.#addAll([...(nodes as Iterable<DagNode>)]);
      } else {
        throw new ValidationError(
          `dag: nodes must be an array, an iterable or an async iterable, got ${typeof nodes}.`,
        );
      }
    } catch (error) {
      this.#setupError = error;
    }
  }

  keyOf(item: number | string): string {
    return this.scope.key(item);
  }

  collect(resolve: (value: Map<string, unknown>) => void, reject: (reason: unknown) => void): void {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#begin();
  }

  iterator(): AsyncIterator<DagOutcome> {
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
        checkNode(node, this.#nodes.size);
        if (this.#nodes.has(node.id)) throw duplicateId(node.id);
        this.#add(node);
        this.#lookAhead();
        this.#schedule();
      }
    } catch (error) {
      this.stop(error);
      return;
    }
    this.#sourceDone = true;
    if (this.#unknown.size > 0) {
      const [missing, waiting] = this.#unknown.entries().next().value as [string, NodeState[]];
      this.stop(unknownDependency(waiting[0]!.node.id, missing));
      return;
    }
    this.#checkStuck();
    this.#maybeFinish();
  }

  /**
   * Adds a whole graph, checked before anything runs: each node and duplicate ids as they
   * are added, then unknown dependencies, then cycles. Nodes that all come after their
   * dependencies cannot form a cycle, so the search runs only when a node came before one.
   */
  #addAll(list: readonly DagNode[]): void {
    for (let position = 0; position < list.length; position++) {
      const node = list[position]!;
      checkNode(node, position);
      if (this.#nodes.has(node.id)) throw duplicateId(node.id);
      this.#add(node);
    }
    if (this.#unknown.size > 0) {
      for (const node of list) {
        for (const dep of node.dependencies ?? []) {
          if (!this.#nodes.has(dep)) throw unknownDependency(node.id, dep);
        }
      }
    }
    if (!this.#listedBeforeDependency) return;
    const cycle = findCycle(list);
    if (cycle)
      throw new ValidationError(
        `dag: the nodes form a cycle ${cycle.join(' → ')}. Break the cycle.`,
      );
  }

  #add(node: DagNode): NodeState {
    const state: NodeState = {
      node,
      task: toTask(node.task),
      waiting: 0,
      dependents: [],
      status: 'waiting',
    };
    this.executor.check(state.task);
    this.#nodes.set(node.id, state);
    if (this.resuming) this.#ahead.push(state);
    const dependencies = node.dependencies;
    if (dependencies) {
      for (const depId of dependencies) {
        const dep = this.#nodes.get(depId);
        if (!dep) {
          this.#listedBeforeDependency = true;
          const list = this.#unknown.get(depId);
          if (!list) this.#unknown.set(depId, [state]);
          // A repeated id: this node is the last one added to the list already.
          else if (list[list.length - 1] === state) continue;
          else list.push(state);
          state.waiting++;
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
    // Nodes that arrived earlier and were waiting for this id.
    const earlier = this.#unknown.size === 0 ? undefined : this.#unknown.get(node.id);
    if (earlier) {
      this.#unknown.delete(node.id);
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
      computed = (input as (done: DagResults) => unknown)(this.#results);
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
    const state = this.#nodes.get(invocation.item as string)!;
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
    this.#nodeFailed(this.#nodes.get(invocation.item as string)!, error, invocation.attempt);
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
    if (stuck.length === 0) return;
    const cycle = findCycle(stuck.map((s) => s.node));
    this.stop(
      new ValidationError(
        `dag: nodes ${stuck.map((s) => `'${s.node.id}'`).join(', ')} can never start: ` +
          `${cycle ? `cycle ${cycle.join(' → ')}` : 'their dependencies wait on each other'}. Break the cycle.`,
      ),
    );
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

  #emitOutcome(outcome: DagOutcome): void {
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

function checkNode(node: DagNode, position: number): void {
  if (node === null || typeof node !== 'object') {
    throw new ValidationError(
      `dag: node #${position} is not an object; give { id, task, input?, dependencies? }.`,
    );
  }
  if (typeof node.id !== 'string' || node.id.length === 0) {
    throw new ValidationError(`dag: node #${position} needs a non-empty string id.`);
  }
  if (node.dependencies !== undefined && !Array.isArray(node.dependencies)) {
    throw new ValidationError(
      `dag: node '${node.id}' has dependencies that are not an array of ids.`,
    );
  }
  if (node.dependencies?.includes(node.id)) {
    throw new ValidationError(
      `dag: node '${node.id}' depends on itself. Remove it from its dependencies.`,
    );
  }
}

function duplicateId(id: string): ValidationError {
  return new ValidationError(`dag: two nodes have the id '${id}'. Give every node a unique id.`);
}

function unknownDependency(id: string, dependency: string): ValidationError {
  return new ValidationError(
    `dag: node '${id}' depends on '${dependency}', which is not a node. ` +
      'Add that node or remove the dependency.',
  );
}

/**
 * A cycle among `nodes` as a list of ids (first repeated last), or undefined; dependencies
 * on ids not among `nodes` are ignored. Depth-first, in node then dependency order, with
 * its own stack (a chain of any length cannot overflow the call stack) in typed arrays:
 * linear in nodes and dependencies.
 */
function findCycle(nodes: readonly DagNode[]): string[] | undefined {
  const n = nodes.length;
  const at = new Map<string, number>();
  for (let i = 0; i < n; i++) at.set(nodes[i]!.id, i);
  const color = new Uint8Array(n); // 0: not seen, 1: on the current path, 2: finished
  const path = new Int32Array(n); // positions of the nodes on the current path
  const next = new Int32Array(n); // for each node on the path, its next dependency to follow
  for (let start = 0; start < n; start++) {
    if (color[start] !== 0) continue;
    let depth = 0;
    path[0] = start;
    next[0] = 0;
    color[start] = 1;
    while (depth >= 0) {
      const i = path[depth]!;
      const deps = nodes[i]!.dependencies;
      if (deps === undefined || next[depth]! >= deps.length) {
        color[i] = 2;
        depth--;
        continue;
      }
      const j = at.get(deps[next[depth]!++]!);
      if (j === undefined || color[j] === 2) continue;
      if (color[j] === 1) {
        let from = depth;
        while (path[from] !== j) from--;
        const cycle: string[] = [];
        for (let k = from; k <= depth; k++) cycle.push(nodes[path[k]!]!.id);
        cycle.push(nodes[j]!.id);
        return cycle;
      }
      color[j] = 1;
      path[++depth] = j;
      next[depth] = 0;
    }
  }
  return undefined;
}
