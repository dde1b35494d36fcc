/**
 * Helpers of the parallel-action tests, after Burr's tests/core/test_parallelism.py: its
 * Input and Result actions, the parent application around a parallel action
 * (Input → parallel action → Result), and the parallel actions its tests run.
 */
import assert from 'node:assert/strict';
import type { StateRecord } from 'weftjs';
import {
  type Action,
  type Application,
  ApplicationBuilder,
  type ApplicationContext,
  type AppState,
  action,
  type Condition,
  type Inputs,
  MapActionsAndStates,
  MapStates,
  type MemoryTracker,
  mapReduceAction,
  type ParallelExecutorSetting,
  type RunnableGraph,
  type StatePersister,
  type Tracker,
} from 'weftjs/app';
import {
  ClassBasedAction,
  createFullSubgraph,
  simpleSingleFnSubgraph,
} from '../../fixtures/app-burr.ts';

// Burr's Input / Result actions and the parent application around a parallel action.

/** Burr's `Input(key)`: writes the runtime input `key` into the state. */
export function inputAction(key: string): Action {
  return action({ reads: [], writes: [key], inputs: [key] }, (state, inputs) =>
    state.update({ [key]: inputs[key] }),
  );
}

/** Burr's `Result(key)`: returns the state's `key` as its result. */
export function resultAction(key: string): Action {
  return action({ reads: [key], writes: [] }, (state) => [{ [key]: state.get(key) }, state]);
}

export interface ParentOptions {
  readonly appId?: string;
  /** The runtime input the first action writes. @default 'input_numbers_in_state' */
  readonly inputKey?: string;
  readonly tracker?: Tracker | null;
  /** Saves every step and initialises from it (so children cascade both). */
  readonly persister?: StatePersister;
  readonly executor?: ParallelExecutorSetting;
  /** Loops map_action back to itself while this holds. */
  readonly loop?: Condition;
  readonly state?: StateRecord;
}

/** `initial_action` (Input) → `map_action` (the parallel action) → `final_action` (Result). */
export function parentApp(parallel: Action, options: ParentOptions = {}): Application {
  const { inputKey = 'input_numbers_in_state', persister, loop, state = {} } = options;
  const builder = new ApplicationBuilder()
    .withActions({
      initial_action: inputAction(inputKey),
      map_action: parallel,
      final_action: resultAction('output_numbers_in_state'),
    })
    .withTransitions(
      ['initial_action', 'map_action'],
      ...(loop ? [['map_action', 'map_action', loop] as const] : []),
      ['map_action', 'final_action'],
    )
    .withTracker(options.tracker ?? null);
  if (options.appId !== undefined) builder.withIdentifiers({ appId: options.appId });
  if (options.executor !== undefined) builder.withParallelExecutor(options.executor);
  if (persister) {
    builder.withStatePersister(persister).initializeFrom(persister, {
      resumeAtNextAction: true,
      defaultState: state,
      defaultEntrypoint: 'initial_action',
    });
  } else {
    builder.withState(state).withEntrypoint('initial_action');
  }
  return builder.build();
}

/** Runs the parent to `final_action` and returns its outputs. */
export async function outputsOf(app: Application, inputs: Inputs): Promise<number[]> {
  const { action: last, state } = await app.run({ haltAfter: ['final_action'], inputs });
  assert.equal(last, 'final_action');
  return state.get('output_numbers_in_state');
}

/** Ids of the applications the tracker saw spawned by `parentId`. */
export function childIds(tracker: MemoryTracker, parentId: string): string[] {
  return [
    ...new Set(tracker.calls.filter((c) => c.parent === parentId).map((c) => c.appId)),
  ].sort();
}

/** Steps the tracker saw the application itself start (Burr's "three parent actions"). */
export function ownSteps(tracker: MemoryTracker, appId: string): string[] {
  return tracker.calls
    .filter((c) => c.hook === 'stepStart' && c.appId === appId)
    .map((c) => (c.detail as { action: string }).action);
}

// The parallel actions of Burr's tests.

export const inputs3 = { input_numbers_in_state: [100, 200, 300] };
export const outputs9 = [1111, 1211, 1311, 2111, 2211, 2311, 3111, 3211, 3311];

/** A function action, a class action and a 4-node sub-graph (1000, 2000, 3000). */
export function burrActions(): (Action | RunnableGraph)[] {
  return [
    simpleSingleFnSubgraph.bind({ identifying_number: 1000 }).withName('simple_single_fn'),
    new ClassBasedAction(2000),
    createFullSubgraph(3000),
  ];
}

/** One state per input number, with 10 to add. */
export function* numberStates(state: AppState): Generator<AppState> {
  for (const n of state.get('input_numbers_in_state')) {
    yield state.update({ input_number: n, number_to_add: 10 });
  }
}

/** Burr's mapReduceAction test: {@link burrActions} over {@link numberStates}, outputs in order. */
export function burrMapReduce(): Action {
  return mapReduceAction({
    action: burrActions(),
    reads: ['input_numbers_in_state'],
    writes: ['output_numbers_in_state'],
    state: (state) => numberStates(state),
    inputs: [],
    reducer: (state, states) =>
      state.extend({ output_numbers_in_state: [...states].map((s) => s.get('output_number')) }),
  });
}

/** Appends each sub-state's output, in the order given. */
export function appendOutputs(state: AppState, states: Iterable<AppState>): AppState {
  let next = state;
  for (const sub of states)
    next = next.append({ output_numbers_in_state: sub.get('output_number') });
  return next;
}

/** Burr's MapActionsAndStates test (sync): 3 actions × 3 states; keeps the contexts it saw. */
export class ActionsOverNumbers extends MapActionsAndStates {
  readonly contexts: ApplicationContext[] = [];
  get reads() {
    return ['input_numbers_in_state'];
  }
  get writes() {
    return ['output_numbers_in_state'];
  }
  *actions(_state: AppState, context: ApplicationContext) {
    this.contexts.push(context);
    yield* burrActions();
  }
  *states(state: AppState) {
    yield* numberStates(state);
  }
  reduce(state: AppState, states: Iterable<AppState>) {
    return appendOutputs(state, states);
  }
}

/** A map over `input_numbers_in_state` of one action. */
export class OneActionOverNumbers extends MapStates {
  readonly #action: Action | RunnableGraph;
  readonly #maxConcurrency: number | undefined;
  readonly contexts: ApplicationContext[] = [];
  constructor(act: Action | RunnableGraph, maxConcurrency?: number) {
    super();
    this.#action = act;
    this.#maxConcurrency = maxConcurrency;
  }
  get reads() {
    return ['input_numbers_in_state'];
  }
  get writes() {
    return ['output_numbers_in_state'];
  }
  override get maxConcurrency() {
    return this.#maxConcurrency;
  }
  action() {
    return this.#action;
  }
  *states(state: AppState, context: ApplicationContext) {
    this.contexts.push(context);
    yield* numberStates(state);
  }
  reduce(state: AppState, states: Iterable<AppState>) {
    return appendOutputs(state, states);
  }
}

/** The error and its causes, outermost first. */
export function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 10; e = (e as Error).cause) chain.push(e);
  return chain;
}
