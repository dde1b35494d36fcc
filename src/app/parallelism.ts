/**
 * Burr's parallelism: actions that fan out sub-applications and reduce their final states.
 * Each task is a {@link SubGraphTask}: a small graph run as its own application, with a
 * stable id derived from the parent's id, the parent's step and the task's position. The
 * tasks run through weft's `map` on the application's parallel executor, so they are
 * bounded, recorded by key inside a run (a re-run skips finished ones), aborted together
 * when one fails, and shown with the run's progress.
 */
import { isWeftError, ValidationError, WeftError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import { getDefaultExecutor } from '../core/executor.ts';
import type { KeyScope } from '../core/keys.ts';
import { map } from '../core/map.ts';
import { splitExecutor } from '../core/split.ts';
import { State } from '../core/state.ts';
import type { TaskContext } from '../core/task.ts';
import { Action, type AppState, type Inputs } from './action.ts';
import { ApplicationBuilder } from './builder.ts';
import type { ApplicationContext } from './context.ts';
import { type Graph, GraphBuilder } from './graph.ts';
import type { StateLoader, StateSaver } from './persistence.ts';
import {
  applyChanges,
  changesOf,
  StateStream,
  type TaskChanges,
  tapInputs,
  toBoth,
} from './task-states.ts';
import type { Tracker } from './tracker.ts';

/** `'cascade'` to use the parent application's, null for none, or one to use. */
export type Cascade<T> = 'cascade' | null | T;

type Many<T> = Iterable<T> | AsyncIterable<T>;

/**
 * A graph with where to start and where to stop: what a parallel task runs.
 * @example new RunnableGraph(graph, 'entry', ['final'])
 */
export class RunnableGraph {
  /** The graph the task runs. */
  readonly graph: Graph;
  /** The action the task starts at. */
  readonly entrypoint: string;
  /** The actions after which the task stops; its final state is the state then. */
  readonly haltAfter: readonly string[];

  /**
   * @param graph the graph to run
   * @param entrypoint the action to start at
   * @param haltAfter the actions after which to stop (at least one)
   */
  constructor(graph: Graph, entrypoint: string, haltAfter: readonly string[]) {
    graph.action(entrypoint, 'RunnableGraph entrypoint');
    if (!Array.isArray(haltAfter) || haltAfter.length === 0) {
      throw new ValidationError('RunnableGraph needs haltAfter: the actions after which it stops.');
    }
    for (const name of haltAfter) graph.action(name, 'RunnableGraph haltAfter');
    this.graph = graph;
    this.entrypoint = entrypoint;
    this.haltAfter = haltAfter;
  }

  /** A one-action graph from an action (or returns a RunnableGraph as it is). */
  static create(from: Action | RunnableGraph): RunnableGraph {
    if (from instanceof RunnableGraph) return from;
    if (!(from instanceof Action)) {
      throw new ValidationError(
        `RunnableGraph.create needs an action or a RunnableGraph, got ${typeof from}` +
          (typeof from === 'function'
            ? ': make the function an action with action({ reads, writes }, fn), which declares what it reads and writes.'
            : '.'),
      );
    }
    let made = singleGraphs.get(from);
    if (!made) {
      const name = from.name;
      if (name === undefined) {
        throw new ValidationError(
          'A parallel task needs a named action: call withName(name) on it, or give action() a name.',
        );
      }
      made = new RunnableGraph(new GraphBuilder().withActions({ [name]: from }).build(), name, [
        name,
      ]);
      singleGraphs.set(from, made);
    }
    return made;
  }
}

/** One-action graphs, made once per action: a fan-out of 100,000 tasks reuses one. */
const singleGraphs = new WeakMap<Action, RunnableGraph>();

/** Fields of a {@link SubGraphTask}. */
export interface SubGraphTaskOptions {
  /** What the sub-application runs: `RunnableGraph.create(action)` for one action. */
  readonly graph: RunnableGraph;
  /** The sub-application's initial state. */
  readonly state: AppState;
  /** Runtime inputs of the sub-application. @default {} */
  readonly inputs?: Inputs;
  /** Its application id: stable across re-runs, unique within the parent. */
  readonly applicationId: string;
  /** Hears the sub-application's steps. @default null (none) */
  readonly tracker?: Tracker | null;
  /** Saves the sub-application's state after every step. @default null (none) */
  readonly statePersister?: StateSaver | null;
  /**
   * Where the sub-application loads a previous attempt from: a completed save of it is
   * its answer, a failed one is resumed. @default null (always starts afresh)
   */
  readonly stateInitializer?: StateLoader | null;
}

/** Where a sub-application runs; the parallel action sets these. */
export interface SubGraphRunOptions {
  /** Key scope of the task. @default the parent step's scope */
  readonly scope?: KeyScope;
  /** Runs the sub-application's plain actions there (a worker pool). @default this thread */
  readonly leafExecutor?: Executor | undefined;
  /** Stops the sub-application. @default the parent's signal */
  readonly signal?: AbortSignal;
}

/** A sub-application to run: a graph, its state and inputs, and its id. */
export class SubGraphTask {
  /** What the sub-application runs. */
  readonly graph: RunnableGraph;
  /** Its initial state. */
  readonly state: AppState;
  /** Its runtime inputs. */
  readonly inputs: Inputs;
  /** Its application id. */
  readonly applicationId: string;
  /** Its tracker, or null. */
  readonly tracker: Tracker | null;
  /** Its persister, or null. */
  readonly statePersister: StateSaver | null;
  /** Where it loads a previous attempt from, or null. */
  readonly stateInitializer: StateLoader | null;

  constructor(options: SubGraphTaskOptions) {
    if (!(options?.graph instanceof RunnableGraph)) {
      throw new ValidationError('SubGraphTask needs { graph: RunnableGraph.create(action) }.');
    }
    if (!(options.state instanceof State)) {
      throw new ValidationError('SubGraphTask needs { state } as a State.');
    }
    if (typeof options.applicationId !== 'string' || options.applicationId === '') {
      throw new ValidationError('SubGraphTask needs a non-empty applicationId.');
    }
    this.graph = options.graph;
    this.state = options.state;
    this.inputs = options.inputs ?? {};
    this.applicationId = options.applicationId;
    this.tracker = options.tracker ?? null;
    this.statePersister = options.statePersister ?? null;
    this.stateInitializer = options.stateInitializer ?? null;
  }

  /**
   * Runs the sub-application to one of its halt actions and returns its final state.
   * With an initializer holding a finished save of this application, nothing runs again.
   */
  async run(parent: ApplicationContext, options: SubGraphRunOptions = {}): Promise<AppState> {
    const { scope = parent.scope, leafExecutor, signal = parent.signal } = options;
    const { graph } = this;
    const builder = new ApplicationBuilder()
      .withGraph(graph.graph)
      .withIdentifiers({ appId: this.applicationId, partitionKey: parent.partitionKey })
      .withSpawningParent({
        appId: parent.appId,
        partitionKey: parent.partitionKey,
        sequenceId: parent.sequenceId,
      })
      .withTracker(this.tracker)
      .withStatePersister(this.statePersister)
      .withinParent(scope, leafExecutor);
    if (parent.parallelExecutor !== undefined)
      builder.withParallelExecutor(parent.parallelExecutor);
    if (this.stateInitializer) {
      const saved = await this.stateInitializer.load(parent.partitionKey, this.applicationId);
      // Finished before (a parent re-run after a crash): its saved final state is the answer.
      if (saved?.status === 'completed' && graph.haltAfter.includes(saved.position)) {
        return saved.state;
      }
      builder.initializeFrom(this.stateInitializer, {
        defaultState: this.state,
        defaultEntrypoint: graph.entrypoint,
        resumeAtNextAction: true,
      });
    } else {
      builder.withState(this.state).withEntrypoint(graph.entrypoint);
    }
    const app = builder.build();
    const { state } = await app.run({
      haltAfter: graph.haltAfter,
      inputs: this.inputs,
      signal,
    });
    return state;
  }
}

/**
 * The base of parallel actions: `tasks` yields the sub-applications to run, `reduce`
 * folds their final states, in task order, into this action's new state. Implement
 * `reads`, `writes`, `tasks` and `reduce`; set `maxConcurrency` to bound the tasks in
 * flight (default: the executor's concurrency).
 */
export abstract class TaskBasedParallelAction extends Action {
  /** True: its sub-application loops run in the application's thread, their actions anywhere. */
  override get orchestrates(): boolean {
    return true;
  }

  /** @deprecated Read {@link Action.orchestrates}, which every action answers. Always true here. */
  get parallel(): true {
    return true;
  }

  /** The sub-applications to run. */
  abstract tasks(state: AppState, context: ApplicationContext, inputs: Inputs): Many<SubGraphTask>;

  /**
   * Folds the tasks' final states (in the order the tasks were yielded) into a new state.
   * With `isAsync()`, `states` is only an async iterable — read it with `for await`; the
   * fold may start before every task has finished, and tasks it leaves unread still run
   * before the step ends. Iterating it synchronously is a ValidationError.
   */
  abstract reduce(
    state: AppState,
    states: Iterable<AppState> & AsyncIterable<AppState>,
  ): AppState | Promise<AppState>;

  /**
   * Most tasks in flight: a whole number ≥ 1, or Infinity.
   * @default the parallel executor's concurrency
   */
  get maxConcurrency(): number | undefined {
    return undefined;
  }

  override async runAndUpdate(state: AppState, inputs: Inputs, context: ApplicationContext) {
    const name = context.actionName;
    const wanted = this.maxConcurrency;
    checkMaxConcurrency(name, wanted);
    const setting = context.parallelExecutor ?? getDefaultExecutor();
    // A factory makes one executor per top-level step; sub-applications get what it made.
    const made = typeof setting === 'function';
    const executor = made ? setting() : setting;
    const limit = wanted ?? executor.concurrency;
    // The sub-application loops run here. On workers only their actions travel; in a
    // nested step, loops of its own keep them from waiting for slots their parents hold.
    const nested = context.parent !== undefined;
    const { loops, leaves, close } = splitExecutor(executor, { nested });
    const parent: ApplicationContext = made ? { ...context, parallelExecutor: executor } : context;
    const inFlight = new Set<Promise<AppState>>();
    // Input states of the tasks taken by the map, in order: outputs are rebuilt on them.
    const taken: AppState[] = [];
    let stream: StateStream | undefined;
    try {
      const runTask = async (subTask: SubGraphTask, ctx: TaskContext): Promise<TaskChanges> => {
        const running = subTask.run(parent, {
          scope: ctx.scope,
          leafExecutor: leaves,
          signal: ctx.signal,
        });
        inFlight.add(running);
        try {
          return changesOf(subTask.state, await running);
        } catch (error) {
          throw taskError(name, subTask, error, ctx.signal);
        } finally {
          inFlight.delete(running);
        }
      };
      // Named after the action, so progress and `weft show` say whose tasks these are.
      Object.defineProperty(runTask, 'name', { value: `app:${name}` });
      const outcomes = map(tapInputs(this.tasks(state, context, inputs), taken), runTask, {
        executor: loops,
        concurrency: limit,
        scope: context.scope,
        name: 'task',
        display: { label: name },
        signal: context.signal,
      });
      let reduced: AppState;
      if (this.isAsync()) {
        stream = new StateStream(name, outcomes, taken);
        reduced = await this.reduce(state, stream);
        await stream.drain();
      } else {
        const states = (await outcomes).map((changes, i) => applyChanges(taken[i]!, changes));
        reduced = await this.reduce(state, toBoth(states));
      }
      return [{}, reduced] as const;
    } catch (error) {
      // Stop what still runs and let it end, so that no sub-application writes to a
      // persister or tracker after this step failed (nor runs twice on a quick retry).
      await stream?.stop().catch(() => {});
      await Promise.allSettled(inFlight);
      // The task's own error says which task failed; the map's wrapper adds nothing.
      if (
        isWeftError(error, 'WEFT_TASK_FAILED') &&
        isWeftError(error.cause, 'WEFT_PARALLEL_TASK')
      ) {
        throw error.cause;
      }
      throw error;
    } finally {
      await close();
      if (made) await executor.close();
    }
  }

  override isAsync(): boolean {
    return false;
  }
}

function checkMaxConcurrency(name: string, value: number | undefined): void {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return;
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new ValidationError(
      `Parallel action '${name}': maxConcurrency must be a whole number ≥ 1 (or Infinity), ` +
        `got ${String(value)}. Return undefined from maxConcurrency for the executor's concurrency.`,
    );
  }
}

/** A sub-application failed: the parallel action fails with its name and position. */
export class ParallelTaskError extends WeftError {
  override name = 'ParallelTaskError';
  /** Id of the sub-application that failed. */
  readonly applicationId: string;
  constructor(actionName: string, task: SubGraphTask, cause: unknown) {
    super(
      'WEFT_PARALLEL_TASK',
      `Parallel action '${actionName}' failed: its task ${task.applicationId} ` +
        `(${task.graph.entrypoint}) failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.applicationId = task.applicationId;
  }
}

function taskError(
  actionName: string,
  task: SubGraphTask,
  error: unknown,
  signal: AbortSignal,
): unknown {
  // Stopped by the fan-out (a sibling failed, the parent was aborted): not this task's fault.
  // An abort the task met on its own (a timeout of its own, say) is its failure.
  if (signal.aborted) return error;
  return new ParallelTaskError(actionName, task, error);
}

/**
 * Runs every action over every state (actions outer, states inner: A0S0, A0S1, …,
 * A1S0, …) and reduces the final states in that order. Implement `actions`, `states`,
 * `reduce`, `reads` and `writes`.
 */
export abstract class MapActionsAndStates extends TaskBasedParallelAction {
  /** The actions (or sub-graphs) to run. */
  abstract actions(
    state: AppState,
    context: ApplicationContext,
    inputs: Inputs,
  ): Many<Action | RunnableGraph>;

  /** The states to run them over. */
  abstract states(state: AppState, context: ApplicationContext, inputs: Inputs): Many<AppState>;

  /** The sub-applications' tracker. @default 'cascade' */
  tracker(): Cascade<Tracker> {
    return 'cascade';
  }

  /** The sub-applications' persister. @default 'cascade' */
  statePersister(): Cascade<StateSaver> {
    return 'cascade';
  }

  /** Where sub-applications load a previous attempt from. @default 'cascade' */
  stateInitializer(): Cascade<StateLoader> {
    return 'cascade';
  }

  override async *tasks(
    state: AppState,
    context: ApplicationContext,
    inputs: Inputs,
  ): AsyncGenerator<SubGraphTask> {
    const tracker = cascade(this.tracker(), context.tracker);
    const statePersister = cascade(this.statePersister(), context.statePersister);
    const stateInitializer = cascade(this.stateInitializer(), context.stateInitializer);
    let position = 0;
    for await (const actionOrGraph of this.actions(state, context, inputs)) {
      const graph = RunnableGraph.create(actionOrGraph);
      for await (const subState of this.states(state, context, inputs)) {
        yield new SubGraphTask({
          graph,
          state: subState,
          inputs,
          applicationId: childAppId(context, position++),
          tracker,
          statePersister,
          stateInitializer,
        });
      }
    }
  }
}

/** The id of the parent's `position`-th task in its current step: the same on every re-run. */
export function childAppId(context: ApplicationContext, position: number): string {
  return `${context.appId}:${context.sequenceId}:${position}`;
}

function cascade<T>(behaviour: Cascade<T>, parent: T | null): T | null {
  return behaviour === 'cascade' ? parent : behaviour;
}

/** Runs several actions (or sub-graphs) over one state. Implement `actions`, `reduce`, `reads`, `writes`. */
export abstract class MapActions extends MapActionsAndStates {
  /** The state every action runs on. @default the action's input state */
  state(state: AppState, _inputs: Inputs): AppState {
    return state;
  }

  override *states(state: AppState, _context: ApplicationContext, inputs: Inputs) {
    yield this.state(state, inputs);
  }
}

/** Runs one action (or sub-graph) over several states. Implement `action`, `states`, `reduce`, `reads`, `writes`. */
export abstract class MapStates extends MapActionsAndStates {
  /** The action to run over every state. */
  abstract action(state: AppState, inputs: Inputs): Action | RunnableGraph;

  override *actions(state: AppState, _context: ApplicationContext, inputs: Inputs) {
    yield this.action(state, inputs);
  }
}

/** Options of {@link mapReduceAction}. */
export interface MapReduceOptions {
  /** The action(s) or sub-graph(s) to run: one, a list, or a function yielding them. */
  readonly action:
    | Action
    | RunnableGraph
    | readonly (Action | RunnableGraph)[]
    | ((
        state: AppState,
        context: ApplicationContext,
        inputs: Inputs,
      ) => Many<Action | RunnableGraph>);
  /** The states to run over: one, a list, or yielded by a (generator) function. */
  readonly state: (
    state: AppState,
    context: ApplicationContext,
    inputs: Inputs,
  ) => Many<AppState> | AppState;
  /** Folds the final states, in task order, into the new state. */
  readonly reducer: (
    state: AppState,
    states: Iterable<AppState> & AsyncIterable<AppState>,
  ) => AppState | Promise<AppState>;
  /** State keys the action (its `state` and `reducer`) reads. */
  readonly reads: readonly string[];
  /** State keys the reducer writes. */
  readonly writes: readonly string[];
  /** Runtime inputs the action requires. @default [] */
  readonly inputs?: readonly string[];
  /** Most tasks in flight: a whole number ≥ 1, or Infinity. @default the executor's concurrency */
  readonly maxConcurrency?: number;
}

/**
 * A map-reduce action from functions: the shortcut for {@link MapActionsAndStates}.
 * @example
 * mapReduceAction({ action: [a, b], state: function* (s) { for (const x of s.get('xs')) yield s.update({ x }); },
 *   reducer: (s, states) => s.update({ out: [...states].map((t) => t.get('y')) }), reads: ['xs'], writes: ['out'] })
 */
export function mapReduceAction(options: MapReduceOptions): MapActionsAndStates {
  const { action: actions, state, reducer, reads, writes } = options;
  if (typeof state !== 'function' || typeof reducer !== 'function') {
    throw new ValidationError('mapReduceAction needs state and reducer functions.');
  }
  return new (class MapReduce extends MapActionsAndStates {
    get reads() {
      return reads;
    }
    get writes() {
      return writes;
    }
    override get inputs() {
      return options.inputs ?? [];
    }
    override get maxConcurrency() {
      return options.maxConcurrency;
    }
    actions(s: AppState, context: ApplicationContext, inputs: Inputs) {
      if (typeof actions === 'function') return actions(s, context, inputs);
      return Array.isArray(actions) ? actions : [actions as Action | RunnableGraph];
    }
    states(s: AppState, context: ApplicationContext, inputs: Inputs): Many<AppState> {
      const made = state(s, context, inputs);
      return made instanceof State ? [made] : made;
    }
    reduce(s: AppState, states: Iterable<AppState> & AsyncIterable<AppState>) {
      return reducer(s, states);
    }
  })();
}
