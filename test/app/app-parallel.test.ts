/**
 * Burr's tests/core/test_parallelism.py, ported: MapActions, MapStates,
 * MapActionsAndStates, TaskBasedParallelAction and mapReduceAction, each run through a
 * whole application (Input → parallel action → Result), plus what weft adds: stable
 * child ids per step, cascading trackers and persisters, resume of finished children,
 * fail-fast with aborts, bounded concurrency, worker executors and recorded runs.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, describe, it } from 'node:test';
import {
  asyncPool,
  isWeftError,
  MemoryStore,
  processes,
  State,
  type StateRecord,
  threads,
  ValidationError,
  withRun,
} from 'weftjs';
import {
  type Action,
  type Application,
  ApplicationBuilder,
  type ApplicationContext,
  type AppState,
  action,
  type Condition,
  childAppId,
  expr,
  type Inputs,
  MapActions,
  MapActionsAndStates,
  MapStates,
  MemoryTracker,
  mapReduceAction,
  type ParallelExecutorSetting,
  ParallelTaskError,
  RunnableGraph,
  type StateLoader,
  type StatePersister,
  type StateSaver,
  StorePersister,
  SubGraphTask,
  TaskBasedParallelAction,
  type Tracker,
} from 'weftjs/app';
import {
  ClassBasedAction,
  createFullSubgraph,
  simpleSingleFnSubgraph,
  writesUndeclared,
} from '../fixtures/app-burr.ts';
import { deferred, Gate, whenAborted } from '../fixtures/app-parallel-sync.ts';

// ---------------------------------------------------------------------------------------
// Burr's Input / Result actions and the parent application around a parallel action.

/** Burr's `Input(key)`: writes the runtime input `key` into the state. */
function inputAction(key: string): Action {
  return action({ reads: [], writes: [key], inputs: [key] }, (state, inputs) =>
    state.update({ [key]: inputs[key] }),
  );
}

/** Burr's `Result(key)`: returns the state's `key` as its result. */
function resultAction(key: string): Action {
  return action({ reads: [key], writes: [] }, (state) => [{ [key]: state.get(key) }, state]);
}

interface ParentOptions {
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
function parentApp(parallel: Action, options: ParentOptions = {}): Application {
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
async function outputsOf(app: Application, inputs: Inputs): Promise<number[]> {
  const { action: last, state } = await app.run({ haltAfter: ['final_action'], inputs });
  assert.equal(last, 'final_action');
  return state.get('output_numbers_in_state');
}

/** Ids of the applications the tracker saw spawned by `parentId`. */
function childIds(tracker: MemoryTracker, parentId: string): string[] {
  return [
    ...new Set(tracker.calls.filter((c) => c.parent === parentId).map((c) => c.appId)),
  ].sort();
}

/** Steps the tracker saw the application itself start (Burr's "three parent actions"). */
function ownSteps(tracker: MemoryTracker, appId: string): string[] {
  return tracker.calls
    .filter((c) => c.hook === 'stepStart' && c.appId === appId)
    .map((c) => (c.detail as { action: string }).action);
}

// ---------------------------------------------------------------------------------------
// The parallel actions of Burr's tests.

const inputs3 = { input_numbers_in_state: [100, 200, 300] };
const outputs9 = [1111, 1211, 1311, 2111, 2211, 2311, 3111, 3211, 3311];

/** A function action, a class action and a 4-node sub-graph (1000, 2000, 3000). */
function burrActions(): (Action | RunnableGraph)[] {
  return [
    simpleSingleFnSubgraph.bind({ identifying_number: 1000 }).withName('simple_single_fn'),
    new ClassBasedAction(2000),
    createFullSubgraph(3000),
  ];
}

/** One state per input number, with 10 to add. */
function* numberStates(state: AppState): Generator<AppState> {
  for (const n of state.get('input_numbers_in_state')) {
    yield state.update({ input_number: n, number_to_add: 10 });
  }
}

/** Appends each sub-state's output, in the order given. */
function appendOutputs(state: AppState, states: Iterable<AppState>): AppState {
  let next = state;
  for (const sub of states)
    next = next.append({ output_numbers_in_state: sub.get('output_number') });
  return next;
}

/** Burr's MapActionsAndStates test (sync): 3 actions × 3 states; keeps the contexts it saw. */
class ActionsOverNumbers extends MapActionsAndStates {
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
class OneActionOverNumbers extends MapStates {
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

// ---------------------------------------------------------------------------------------

describe('MapActions', () => {
  class MapActionsAllApproaches extends MapActions {
    get reads() {
      return ['input_number_in_state'];
    }
    get writes() {
      return ['output_numbers_in_state'];
    }
    actions() {
      return burrActions();
    }
    override state(state: AppState) {
      return state.update({ input_number: state.get('input_number_in_state'), number_to_add: 10 });
    }
    reduce(state: AppState, states: Iterable<AppState>) {
      return appendOutputs(state, states);
    }
  }

  it('runs a function action, a class action and a sub-graph over one state, in order', async () => {
    const tracker = new MemoryTracker();
    const app = parentApp(new MapActionsAllApproaches(), {
      appId: 'map-actions',
      inputKey: 'input_number_in_state',
      tracker,
    });
    assert.deepEqual(await outputsOf(app, { input_number_in_state: 100 }), [1111, 2111, 3111]);
    assert.deepEqual(ownSteps(tracker, 'map-actions'), [
      'initial_action',
      'map_action',
      'final_action',
    ]);
    assert.equal(childIds(tracker, 'map-actions').length, 3);
  });

  it('gives every action the parent state by default', async () => {
    class DefaultState extends MapActions {
      get reads() {
        return ['input_number', 'number_to_add'];
      }
      get writes() {
        return ['output_numbers_in_state'];
      }
      actions() {
        return burrActions();
      }
      reduce(state: AppState, states: Iterable<AppState>) {
        return appendOutputs(state, states);
      }
    }
    const parallel = new DefaultState();
    const probe = State.of({ input_number: 1 });
    assert.equal(parallel.state(probe, {}), probe);
    // Through an application: the parent state already holds what the actions read.
    const app = parentApp(parallel, { inputKey: 'input_number', state: { number_to_add: 10 } });
    assert.deepEqual(await outputsOf(app, { input_number: 100 }), [1111, 2111, 3111]);
  });
});

describe('MapStates', () => {
  const cases: [string, () => Action | RunnableGraph][] = [
    [
      'a function action',
      () => simpleSingleFnSubgraph.bind({ identifying_number: 0 }).withName('simple_single_fn'),
    ],
    ['a class action', () => new ClassBasedAction(0)],
    ['a sub-graph', () => createFullSubgraph(0)],
  ];
  for (const [what, make] of cases) {
    it(`maps ${what} over three states, in order`, async () => {
      const tracker = new MemoryTracker();
      const app = parentApp(new OneActionOverNumbers(make()), { appId: 'map-states', tracker });
      assert.deepEqual(await outputsOf(app, inputs3), [111, 211, 311]);
      assert.equal(ownSteps(tracker, 'map-states').length, 3);
      assert.equal(childIds(tracker, 'map-states').length, 3);
    });
  }
});

describe('MapActionsAndStates', () => {
  it('runs the cartesian product, actions outer, with sync generators and reduce', async () => {
    const tracker = new MemoryTracker();
    const parallel = new ActionsOverNumbers();
    assert.equal(parallel.isAsync(), false);
    const app = parentApp(parallel, { appId: 'product-sync', tracker });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.equal(ownSteps(tracker, 'product-sync').length, 3);
    assert.equal(childIds(tracker, 'product-sync').length, 9);
  });

  it('runs the async form: async generators and a reduce consuming for await', async () => {
    let reducedAsync = false;
    class ProductAsync extends MapActionsAndStates {
      get reads() {
        return ['input_numbers_in_state'];
      }
      get writes() {
        return ['output_numbers_in_state'];
      }
      override isAsync() {
        return true;
      }
      async *actions() {
        for (const act of burrActions()) {
          await Promise.resolve();
          yield act;
        }
      }
      async *states(state: AppState) {
        for (const sub of numberStates(state)) {
          await Promise.resolve();
          yield sub;
        }
      }
      async reduce(state: AppState, states: AsyncIterable<AppState>) {
        let next = state;
        for await (const sub of states) {
          next = next.append({ output_numbers_in_state: sub.get('output_number') });
        }
        reducedAsync = true;
        return next;
      }
    }
    const tracker = new MemoryTracker();
    const parallel = new ProductAsync();
    assert.equal(parallel.isAsync(), true);
    const app = parentApp(parallel, { appId: 'product-async', tracker });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.ok(reducedAsync);
    assert.equal(childIds(tracker, 'product-async').length, 9);
  });
});

describe('TaskBasedParallelAction', () => {
  /** Burr's task-level API test: SubGraphTasks built by hand, ids `${i}_${j}`. */
  function* handBuiltTasks(state: AppState, context: ApplicationContext) {
    for (const [j, act] of burrActions().entries()) {
      for (const [i, n] of (state.get('input_numbers_in_state') as number[]).entries()) {
        yield new SubGraphTask({
          graph: RunnableGraph.create(act),
          inputs: {},
          state: state.update({ input_number: n, number_to_add: 10 }),
          applicationId: `${i}_${j}`,
          tracker: context.tracker,
        });
      }
    }
  }
  const expectedIds = ['0_0', '0_1', '0_2', '1_0', '1_1', '1_2', '2_0', '2_1', '2_2'];

  it('runs hand-built sub-graph tasks (sync)', async () => {
    class TaskBased extends TaskBasedParallelAction {
      get reads() {
        return ['input_numbers_in_state'];
      }
      get writes() {
        return ['output_numbers_in_state'];
      }
      tasks(state: AppState, context: ApplicationContext) {
        return handBuiltTasks(state, context);
      }
      reduce(state: AppState, states: Iterable<AppState>) {
        return appendOutputs(state, states);
      }
    }
    const tracker = new MemoryTracker();
    const app = parentApp(new TaskBased(), { appId: 'task-based', tracker });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.deepEqual(childIds(tracker, 'task-based'), expectedIds);
  });

  it('runs hand-built sub-graph tasks (async generator and reduce)', async () => {
    class TaskBasedAsync extends TaskBasedParallelAction {
      get reads() {
        return ['input_numbers_in_state'];
      }
      get writes() {
        return ['output_numbers_in_state'];
      }
      override isAsync() {
        return true;
      }
      async *tasks(state: AppState, context: ApplicationContext) {
        for (const made of handBuiltTasks(state, context)) {
          await Promise.resolve();
          yield made;
        }
      }
      async reduce(state: AppState, states: AsyncIterable<AppState>) {
        const outputs: number[] = [];
        for await (const sub of states) outputs.push(sub.get('output_number'));
        return state.update({ output_numbers_in_state: outputs });
      }
    }
    const tracker = new MemoryTracker();
    const app = parentApp(new TaskBasedAsync(), { appId: 'task-based-async', tracker });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.deepEqual(childIds(tracker, 'task-based-async'), expectedIds);
  });
});

describe('mapReduceAction', () => {
  it('maps a list of actions over a generator of states and reduces', async () => {
    const parallel = mapReduceAction({
      action: burrActions(),
      reads: ['input_numbers_in_state'],
      writes: ['output_numbers_in_state'],
      state: (state) => numberStates(state),
      inputs: [],
      reducer: (state, states) =>
        state.extend({ output_numbers_in_state: [...states].map((s) => s.get('output_number')) }),
    });
    const tracker = new MemoryTracker();
    const app = parentApp(parallel, { appId: 'map-reduce', tracker });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.equal(childIds(tracker, 'map-reduce').length, 9);
  });
});

describe('child application ids', () => {
  it('derives them from the parent id, its sequence id and the task position, stably', async () => {
    const seen: string[][] = [];
    let context: ApplicationContext | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const tracker = new MemoryTracker();
      const parallel = new ActionsOverNumbers();
      await outputsOf(parentApp(parallel, { appId: 'stable', tracker }), inputs3);
      context = parallel.contexts[0]!;
      assert.equal(context.appId, 'stable');
      assert.equal(context.sequenceId, 1);
      const expected = Array.from({ length: 9 }, (_, i) => childAppId(context!, i)).sort();
      assert.deepEqual(childIds(tracker, 'stable'), expected);
      seen.push(expected);
    }
    // The same application run again gets the same ids.
    assert.deepEqual(seen[0], seen[1]);
    // Each of the three parts changes the id.
    const base = childAppId(context!, 4);
    assert.equal(childAppId({ ...context!, actionName: 'other' }, 4), base);
    assert.notEqual(childAppId({ ...context!, appId: 'stable2' }, 4), base);
    assert.notEqual(childAppId({ ...context!, sequenceId: 2 }, 4), base);
    assert.notEqual(childAppId(context!, 5), base);
    assert.equal(new Set(seen[0]).size, 9);
  });

  it('gives the same parallel action run twice in one application different ids', async () => {
    class Rounds extends ActionsOverNumbers {
      override get writes() {
        return ['output_numbers_in_state', 'rounds'];
      }
      override reduce(state: AppState, states: Iterable<AppState>) {
        return appendOutputs(state, states).increment({ rounds: 1 });
      }
    }
    const tracker = new MemoryTracker();
    const parallel = new Rounds();
    const app = parentApp(parallel, { appId: 'looping', tracker, loop: expr('rounds < 2') });
    assert.deepEqual(await outputsOf(app, inputs3), [...outputs9, ...outputs9]);
    assert.deepEqual(
      parallel.contexts.map((c) => c.sequenceId),
      [1, 2],
    );
    const [first, second] = parallel.contexts.map((c) =>
      Array.from({ length: 9 }, (_, i) => childAppId(c, i)),
    );
    assert.equal(new Set([...first!, ...second!]).size, 18);
    assert.deepEqual(childIds(tracker, 'looping'), [...first!, ...second!].sort());
    // Every call about a child points at the parent; the parent's own calls have none.
    for (const call of tracker.calls) {
      if (call.appId === 'looping') assert.equal(call.parent, undefined);
      else assert.equal(call.parent, 'looping');
    }
    assert.deepEqual(ownSteps(tracker, 'looping'), [
      'initial_action',
      'map_action',
      'map_action',
      'final_action',
    ]);
  });
});

describe('cascading tracker, persister and initializer', () => {
  /** Ids of the 9 children of the (single) parallel step the action ran. */
  const idsOf = (parallel: ActionsOverNumbers) =>
    Array.from({ length: 9 }, (_, i) => childAppId(parallel.contexts[0]!, i));

  it("defaults to 'cascade': children use the parent's tracker, persister and initializer", async () => {
    class Recording extends ActionsOverNumbers {
      readonly made: SubGraphTask[] = [];
      override async *tasks(state: AppState, context: ApplicationContext, inputs: Inputs) {
        for await (const made of super.tasks(state, context, inputs)) {
          this.made.push(made);
          yield made;
        }
      }
    }
    const store = new MemoryStore();
    const persister = new StorePersister(store);
    const tracker = new MemoryTracker();
    const parallel = new Recording();
    assert.equal(parallel.tracker(), 'cascade');
    assert.equal(parallel.statePersister(), 'cascade');
    assert.equal(parallel.stateInitializer(), 'cascade');
    const app = parentApp(parallel, { appId: 'cascading', tracker, persister });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.equal(parallel.made.length, 9);
    for (const made of parallel.made) {
      assert.equal(made.tracker, tracker);
      assert.equal(made.statePersister, persister);
      // Burr: the same instance saves and loads, as in the parent.
      assert.equal(made.stateInitializer, made.statePersister);
    }
    assert.deepEqual(childIds(tracker, 'cascading'), [...idsOf(parallel)].sort());
    for (const id of idsOf(parallel)) {
      const saved = await store.loadCheckpoint(id, '');
      assert.ok(saved, `child ${id} saved nothing`);
      assert.equal(saved.status, 'completed');
    }
    assert.ok(await store.loadCheckpoint('cascading', ''));
  });

  it('gives children nothing when the action returns null', async () => {
    class Isolated extends ActionsOverNumbers {
      override tracker() {
        return null;
      }
      override statePersister() {
        return null;
      }
      override stateInitializer() {
        return null;
      }
    }
    const store = new MemoryStore();
    const tracker = new MemoryTracker();
    const parallel = new Isolated();
    const app = parentApp(parallel, {
      appId: 'isolated',
      tracker,
      persister: new StorePersister(store),
    });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.deepEqual(childIds(tracker, 'isolated'), []);
    assert.deepEqual(tracker.appIds(), ['isolated']);
    for (const id of idsOf(parallel)) {
      assert.equal(await store.loadCheckpoint(id, ''), undefined);
    }
    assert.ok(await store.loadCheckpoint('isolated', ''));
  });

  it('gives children the object the action returns', async () => {
    const parentStore = new MemoryStore();
    const childStore = new MemoryStore();
    const childPersister = new StorePersister(childStore);
    const childTracker = new MemoryTracker();
    class Own extends ActionsOverNumbers {
      override tracker(): Tracker {
        return childTracker;
      }
      override statePersister(): StateSaver {
        return childPersister;
      }
      override stateInitializer(): StateLoader {
        return childPersister;
      }
    }
    const tracker = new MemoryTracker();
    const parallel = new Own();
    const app = parentApp(parallel, {
      appId: 'own',
      tracker,
      persister: new StorePersister(parentStore),
    });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.deepEqual(childIds(tracker, 'own'), []);
    assert.deepEqual(childIds(childTracker, 'own'), [...idsOf(parallel)].sort());
    for (const id of idsOf(parallel)) {
      assert.equal(await parentStore.loadCheckpoint(id, ''), undefined);
      assert.equal((await childStore.loadCheckpoint(id, ''))?.status, 'completed');
    }
  });
});

// Module level, as Burr's test: task 13 throws on its first execution only.
let flakyFailuresLeft = 1;
const flakyExecutions = new Map<number, number>();
const flakyDouble = action({ reads: ['input_number'], writes: ['output_number'] }, (state) => {
  const n: number = state.get('input_number');
  flakyExecutions.set(n, (flakyExecutions.get(n) ?? 0) + 1);
  if (n === 13 && flakyFailuresLeft > 0) {
    flakyFailuresLeft--;
    throw new Error('task 13 crashed');
  }
  return state.update({ output_number: n * 2 });
});

describe('cascading persister: resuming a parent after a crash', () => {
  it('runs again only the children that had not completed', async () => {
    const store = new MemoryStore();
    const persister = new StorePersister(store);
    const numbers = Array.from({ length: 20 }, (_, n) => n);
    const build = (parallel: OneActionOverNumbers) =>
      parentApp(parallel, { appId: 'resumed-parent', persister });
    const first = new OneActionOverNumbers(flakyDouble.withName('flaky_double'), 4);

    const failure = await build(first)
      .run({ haltAfter: ['final_action'], inputs: { input_numbers_in_state: numbers } })
      .then(
        () => assert.fail('the parent should have failed'),
        (error: unknown) => error,
      );
    const failedId = childAppId(first.contexts[0]!, 13);
    assert.ok(failure instanceof ParallelTaskError, `got ${String(failure)}`);
    assert.equal(failure.code, 'WEFT_PARALLEL_TASK');
    assert.equal(failure.applicationId, failedId);
    assert.match(failure.message, new RegExp(failedId));
    assert.match(failure.message, /task 13 crashed/);

    const firstRun = new Map(flakyExecutions);
    const finished = new Set<number>();
    for (const n of numbers) {
      const saved = await store.loadCheckpoint(childAppId(first.contexts[0]!, n), '');
      if (saved?.status === 'completed') finished.add(n);
    }
    assert.ok(finished.has(0), 'the first children finished before task 13 failed');
    assert.ok(!finished.has(13));
    assert.ok(!firstRun.has(19), 'with 4 in flight, the last tasks never started');

    flakyExecutions.clear();
    const second = new OneActionOverNumbers(flakyDouble.withName('flaky_double'), 4);
    const outputs = await outputsOf(build(second), {});
    // The retried step finds its children under the ids of the failed attempt.
    assert.equal(childAppId(second.contexts[0]!, 13), failedId);
    assert.deepEqual(
      outputs,
      numbers.map((n) => n * 2),
    );
    const rerun = [...flakyExecutions.keys()].sort((a, b) => a - b);
    assert.deepEqual(
      rerun,
      numbers.filter((n) => !finished.has(n)),
      'only the children without a completed save run again',
    );
    for (const n of rerun) assert.equal(flakyExecutions.get(n), 1);
  });
});

describe('failures', () => {
  it('fails the parallel action with a ParallelTaskError naming the task', async () => {
    const boom = new Error('boom at 200');
    const breaks = action({ reads: ['input_number'], writes: ['output_number'] }, (state) => {
      if (state.get('input_number') === 200) throw boom;
      return state.update({ output_number: state.get('input_number') });
    });
    const tracker = new MemoryTracker();
    const parallel = new OneActionOverNumbers(breaks.withName('breaks'));
    const error = await parentApp(parallel, { appId: 'failing', tracker })
      .run({ haltAfter: ['final_action'], inputs: inputs3 })
      .then(
        () => assert.fail('the parent should have failed'),
        (failure: unknown) => failure,
      );
    const failedId = childAppId(parallel.contexts[0]!, 1);
    assert.ok(error instanceof ParallelTaskError);
    assert.ok(isWeftError(error, 'WEFT_PARALLEL_TASK'));
    assert.equal(error.name, 'ParallelTaskError');
    assert.equal(error.applicationId, failedId);
    assert.ok(error.message.includes(failedId), error.message);
    assert.ok(error.message.includes('map_action'), error.message);
    assert.ok(error.message.includes('boom at 200'), error.message);
    assert.equal(error.cause, boom);
    // The parent's step failed: the tracker heard it with the error.
    const mapEnd = tracker.calls.find(
      (c) =>
        c.hook === 'stepEnd' &&
        c.appId === 'failing' &&
        (c.detail as { action: string }).action === 'map_action',
    );
    assert.ok(mapEnd, 'the tracker heard the end of map_action');
    assert.equal((mapEnd.detail as { error: unknown }).error, error);
  });

  it('never starts the tasks waiting for a slot and aborts the running ones', async () => {
    const started: number[] = [];
    const oneStarted = deferred();
    const siblingAborted = deferred<unknown>();
    const probe = action(
      { reads: ['input_number'], writes: ['output_number'] },
      async (state, _inputs, context) => {
        const n: number = state.get('input_number');
        started.push(n);
        if (n === 0) {
          await oneStarted.promise;
          throw new Error('task 0 broke');
        }
        if (n === 1) {
          oneStarted.resolve();
          const reason = await whenAborted(context.signal);
          siblingAborted.resolve(reason);
          throw reason;
        }
        return state.update({ output_number: n });
      },
    );
    const parallel = new OneActionOverNumbers(probe.withName('probe'), 2);
    const error = await parentApp(parallel, { appId: 'fail-fast' })
      .run({ haltAfter: ['final_action'], inputs: { input_numbers_in_state: [0, 1, 2, 3, 4, 5] } })
      .then(
        () => assert.fail('the parent should have failed'),
        (failure: unknown) => failure,
      );
    assert.ok(error instanceof ParallelTaskError);
    assert.equal(error.applicationId, childAppId(parallel.contexts[0]!, 0));
    assert.match(error.message, /task 0 broke/);
    // The running sibling saw its signal aborted.
    const reason = await siblingAborted.promise;
    assert.ok(reason !== undefined);
    assert.deepEqual(
      started.sort((a, b) => a - b),
      [0, 1],
    );
  });
});

describe('bounded concurrency', () => {
  it('keeps at most maxConcurrency tasks in flight', async () => {
    const gate = new Gate();
    const held = action({ reads: ['input_number'], writes: ['output_number'] }, async (state) => {
      await gate.enter();
      return state.update({ output_number: state.get('input_number') + 1 });
    });
    const numbers = Array.from({ length: 12 }, (_, n) => n);
    const parallel = new OneActionOverNumbers(held.withName('held'), 3);
    const running = outputsOf(parentApp(parallel), { input_numbers_in_state: numbers });
    try {
      for (let round = 1; round <= 4; round++) {
        await gate.reached(3 * round);
        assert.equal(gate.inFlight, 3, `round ${round}`);
        gate.releaseAll();
      }
    } finally {
      gate.open();
    }
    assert.deepEqual(
      await running,
      numbers.map((n) => n + 1),
    );
    assert.equal(gate.entered, 12);
    assert.equal(gate.maxInFlight, 3);
  });
});

describe('runtime inputs', () => {
  it('reach every step of every sub-application', async () => {
    class WithInputs extends MapActions {
      get reads() {
        return ['input_number', 'number_to_add'];
      }
      get writes() {
        return ['output_numbers_in_state'];
      }
      override get optionalInputs() {
        return ['additional_number'];
      }
      actions() {
        return burrActions();
      }
      reduce(state: AppState, states: Iterable<AppState>) {
        return appendOutputs(state, states);
      }
    }
    const app = parentApp(new WithInputs(), {
      inputKey: 'input_number',
      state: { number_to_add: 10 },
    });
    // The Input step takes its own input; the parallel step gets additional_number, and
    // so does every step of its sub-graph (the third adds it).
    await app.step({ inputs: { input_number: 100 } });
    const { state } = await app.run({
      haltAfter: ['final_action'],
      inputs: { additional_number: 5 },
    });
    assert.deepEqual(state.get('output_numbers_in_state'), [1115, 2115, 3115]);
  });
});

describe('parallel executors', () => {
  it('runs the sub-applications on worker threads (a factory per step)', async () => {
    const app = parentApp(new ActionsOverNumbers(), {
      executor: () => threads({ workers: 2 }),
    });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
  });

  it('runs on worker threads when the sub-states hold only primitives', async () => {
    // Isolates the failure above: the same actions, without the parent's array in the sub-states.
    class PrimitiveStates extends ActionsOverNumbers {
      override *states(state: AppState) {
        for (const sub of numberStates(state))
          yield sub.wipe({ keep: ['input_number', 'number_to_add'] });
      }
    }
    const app = parentApp(new PrimitiveStates(), { executor: () => threads({ workers: 2 }) });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
  });

  const pool = processes({ workers: 2 });
  after(() => pool.close());

  it('runs the sub-applications on child processes', async () => {
    const app = parentApp(new ActionsOverNumbers(), { executor: pool });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
  });

  it('refuses, naming the fix, an action a worker cannot find', async () => {
    const made: Action[] = [];
    for (const add of [1, 2]) {
      made.push(
        action({ reads: ['input_number'], writes: ['output_number'] }, (state) =>
          state.update({ output_number: state.get('input_number') + add }),
        ),
      );
    }
    // Only the first action made at a place is findable: the second is not.
    const parallel = new OneActionOverNumbers(made[1]!.withName('made_in_a_loop'));
    const error = await parentApp(parallel, { executor: () => threads({ workers: 2 }) })
      .run({ haltAfter: ['final_action'], inputs: inputs3 })
      .then(
        () => assert.fail('the parent should have failed'),
        (failure: unknown) => failure,
      );
    const invalid = causes(error).find((e) => e instanceof ValidationError);
    assert.ok(invalid, `no ValidationError in ${String(error)}`);
    assert.equal((invalid as ValidationError).code, 'WEFT_VALIDATION');
    assert.match((invalid as ValidationError).message, /top level/);
    assert.match((error as Error).message, /top level/);
  });
});

/** The error and its causes, outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 10; e = (e as Error).cause) chain.push(e);
  return chain;
}

describe('inside withRun', () => {
  it('records the sub-applications as tasks and skips them when the run is resumed', async () => {
    const executions = new Map<number, number>();
    const counted = action(
      { reads: ['input_number', 'number_to_add'], writes: ['output_number'] },
      (state) => {
        const n: number = state.get('input_number');
        executions.set(n, (executions.get(n) ?? 0) + 1);
        return state.update({ output_number: n + state.get('number_to_add') });
      },
    );
    const store = new MemoryStore();
    const runId = 'app-parallel-recorded';
    const attempt = () =>
      withRun({ store, runId }, () =>
        outputsOf(
          parentApp(new OneActionOverNumbers(counted.withName('counted')), { appId: 'recorded' }),
          inputs3,
        ),
      );

    const first = await attempt();
    assert.deepEqual(first, [110, 210, 310]);
    const keys = (await store.listTasks(runId)).map((record) => record.key).sort();
    assert.deepEqual(
      keys,
      [0, 1, 2].map((i) => `${runId}/app:recorded/step:1:map_action/task/${i}`),
    );
    for (const record of await store.listTasks(runId)) assert.equal(record.status, 'completed');
    const afterFirst = new Map(executions);
    assert.deepEqual([...afterFirst.values()], [1, 1, 1]);

    const second = await attempt();
    assert.deepEqual(second, first);
    assert.deepEqual(executions, afterFirst, 'no child ran again');
  });
});

// ---------------------------------------------------------------------------------------
// Review fixes.

describe('a failed task waits for its aborted siblings', () => {
  it('the parent fails only after every sibling sub-application has ended', async () => {
    const siblingStarted = deferred();
    const siblingAborted = deferred();
    const order: string[] = [];
    const probe = action(
      { reads: ['input_number'], writes: ['output_number'] },
      async (state, _inputs, context) => {
        if (state.get('input_number') === 0) {
          await siblingStarted.promise;
          throw new Error('task 0 broke');
        }
        siblingStarted.resolve();
        const reason = await whenAborted(context.signal);
        siblingAborted.resolve();
        // Ends a turn of the event loop later than the failure: the parent must wait for it.
        await new Promise((resolve) => setImmediate(resolve));
        order.push('sibling ended');
        throw reason;
      },
    );
    const tracker: Tracker = {
      onStepEnd(app, step) {
        if (app.parent !== undefined) order.push(`child ${step.action} saved`);
      },
    };
    const parallel = new OneActionOverNumbers(probe.withName('probe'), 2);
    const failure = await parentApp(parallel, { tracker })
      .run({ haltAfter: ['final_action'], inputs: { input_numbers_in_state: [0, 1] } })
      .then(
        () => assert.fail('the parent should have failed'),
        (error: unknown) => error,
      );
    order.push('parent failed');
    await siblingAborted.promise;
    assert.ok(isWeftError(failure, 'WEFT_PARALLEL_TASK'), String(failure));
    assert.deepEqual(order, [
      'child probe saved',
      'sibling ended',
      'child probe saved',
      'parent failed',
    ]);
  });
});

describe('recorded task outputs', () => {
  it('hold only the keys a task changed; the final states are rebuilt, also on resume', async () => {
    const big = Array.from({ length: 1000 }, (_, i) => i);
    const store = new MemoryStore();
    const runId = 'app-parallel-changes';
    let executions = 0;
    const counted = action({ reads: ['input_number'], writes: ['output_number'] }, (state) => {
      executions++;
      return state.update({ output_number: state.get('input_number') + 1 });
    });
    class Whole extends OneActionOverNumbers {
      readonly seen: StateRecord[][] = [];
      override reduce(state: AppState, states: Iterable<AppState>) {
        const all = [...states];
        this.seen.push(all.map((s) => s.toObject()));
        return appendOutputs(state, all);
      }
    }
    const attempt = async () => {
      const parallel = new Whole(counted.withName('counted'));
      const outputs = await withRun({ store, runId }, () =>
        outputsOf(parentApp(parallel, { appId: 'changes', state: { big } }), inputs3),
      );
      return { outputs, seen: parallel.seen[0]! };
    };
    const first = await attempt();
    assert.deepEqual(first.outputs, [101, 201, 301]);
    const records = await store.listTasks(runId);
    assert.equal(records.length, 3);
    for (const record of records) {
      assert.deepEqual(Object.keys(record.output as object).sort(), ['changed', 'deleted']);
      const { changed, deleted } = record.output as { changed: StateRecord; deleted: string[] };
      assert.deepEqual(Object.keys(changed), ['output_number'], 'only the written key');
      assert.deepEqual(deleted, []);
    }
    const expected = [100, 200, 300].map((n) => ({
      big,
      input_numbers_in_state: [100, 200, 300],
      input_number: n,
      number_to_add: 10,
      output_number: n + 1,
    }));
    assert.deepEqual(first.seen, expected);
    // Resumed: nothing runs, and the states are rebuilt from the recorded changes.
    const second = await attempt();
    assert.equal(executions, 3);
    assert.deepEqual(second.outputs, first.outputs);
    assert.deepEqual(second.seen, expected);
  });

  it('rebuild a final state that lost keys of the task state', async () => {
    const only = action({ reads: [], writes: ['kept'] }, (state) => state.update({ kept: 1 }));
    const saved: StateLoader = {
      async load(partitionKey, appId) {
        return {
          partitionKey,
          appId,
          sequenceId: 0,
          position: 'only',
          state: State.of({ kept: 2 }),
          status: 'completed',
          createdAt: 0,
        };
      },
    };
    let finals: StateRecord[] = [];
    class FromSaves extends TaskBasedParallelAction {
      get reads() {
        return [];
      }
      get writes() {
        return ['done'];
      }
      *tasks(state: AppState, context: ApplicationContext) {
        yield new SubGraphTask({
          graph: RunnableGraph.create(only.withName('only')),
          state: state.update({ dropped: true, kept: 0 }),
          applicationId: childAppId(context, 0),
          stateInitializer: saved,
        });
      }
      reduce(state: AppState, states: Iterable<AppState>) {
        finals = [...states].map((s) => s.toObject());
        return state.update({ done: true });
      }
    }
    const app = new ApplicationBuilder()
      .withActions({ fan: new FromSaves() })
      .withState({ parent_key: 'p' })
      .withEntrypoint('fan')
      .build();
    await app.run({ haltAfter: ['fan'] });
    assert.deepEqual(finals, [{ kept: 2 }]);
  });
});

describe('sub-application steps on workers', () => {
  it('send only the keys the action reads and writes', async () => {
    // A function cannot be copied to a worker: it must stay behind, unread.
    const parallel = new OneActionOverNumbers(
      simpleSingleFnSubgraph.bind({ identifying_number: 0 }).withName('simple_single_fn'),
    );
    const app = parentApp(parallel, {
      executor: () => threads({ workers: 2 }),
      state: { callback: () => 'stays here' },
    });
    const { state } = await app.run({ haltAfter: ['final_action'], inputs: inputs3 });
    assert.deepEqual(state.get('output_numbers_in_state'), [111, 211, 311]);
    assert.equal(state.get('callback')(), 'stays here');
  });

  it('still refuse an undeclared write, checked on the subset', async () => {
    const parallel = new OneActionOverNumbers(writesUndeclared.withName('writes_undeclared'));
    const error = await parentApp(parallel, { executor: () => threads({ workers: 2 }) })
      .run({ haltAfter: ['final_action'], inputs: inputs3 })
      .then(
        () => assert.fail('the parent should have failed'),
        (failure: unknown) => failure,
      );
    const stateError = causes(error).find((e) => isWeftError(e, 'WEFT_STATE'));
    assert.ok(stateError, `no StateError in ${String(error)}`);
    assert.match((stateError as Error).message, /'writes_undeclared' wrote 'sneaky'/);
  });
});

describe('a parallel executor factory', () => {
  it('is called once per top-level step; nested steps share what it made, and only the maker closes it', async () => {
    let made = 0;
    let closed = 0;
    const factory = () => {
      made++;
      const pool = asyncPool({ concurrency: 2 });
      const close = pool.close.bind(pool);
      pool.close = async () => {
        closed++;
        await close();
      };
      return pool;
    };
    const seen = new Set<unknown>();
    const addOne = action({ reads: ['n'], writes: ['n'] }, (state) =>
      state.update({ n: state.get('n') + 1 }),
    );
    class Inner extends MapStates {
      override get name() {
        return 'inner';
      }
      get reads() {
        return ['input_number'];
      }
      get writes() {
        return ['output_number'];
      }
      action() {
        return addOne.withName('add_one');
      }
      *states(state: AppState, context: ApplicationContext) {
        seen.add(context.parallelExecutor);
        for (const n of [1, 2]) yield state.update({ n: state.get('input_number') + n });
      }
      reduce(state: AppState, states: Iterable<AppState>) {
        let total = 0;
        for (const sub of states) total += sub.get('n');
        return state.update({ output_number: total });
      }
    }
    const outer = new OneActionOverNumbers(new Inner());
    const app = parentApp(outer, { executor: factory });
    assert.deepEqual(await outputsOf(app, inputs3), [205, 405, 605]);
    assert.equal(made, 1);
    assert.equal(closed, 1);
    assert.equal(seen.size, 1, 'every nested step got the executor the top step made');
    assert.equal(typeof [...seen][0], 'object');
  });
});

describe('abort signals', () => {
  it('each step has its own: concurrent applications add no listeners to a shared one', async () => {
    const gate = new Gate();
    const held = action({ reads: ['input_number'], writes: ['output_number'] }, async (state) => {
      await gate.enter();
      return state.update({ output_number: state.get('input_number') });
    });
    const actions = Array.from({ length: 12 }, () => new OneActionOverNumbers(held.withName('h')));
    const running = actions.map((parallel) =>
      outputsOf(parentApp(parallel), { input_numbers_in_state: [1] }),
    );
    try {
      await gate.reached(12);
      const signals = actions.map((parallel) => parallel.contexts[0]!.signal);
      assert.equal(new Set(signals).size, 12);
      for (const signal of signals) assert.ok(getEventListeners(signal, 'abort').length <= 1);
    } finally {
      gate.open();
    }
    for (const outputs of await Promise.all(running)) assert.deepEqual(outputs, [1]);
  });
});

describe('retrying a failed parallel step in the same run', () => {
  it('records under the keys of the first attempt, so a resume skips what either completed', async () => {
    const failuresLeft = new Set([2, 4]);
    const executions: number[] = [];
    const flaky = action({ reads: ['input_number'], writes: ['output_number'] }, (state) => {
      const n: number = state.get('input_number');
      executions.push(n);
      if (failuresLeft.delete(n)) throw new Error(`task ${n} crashed`);
      return state.update({ output_number: n });
    });
    const numbers = [0, 1, 2, 3, 4, 5];
    const store = new MemoryStore();
    const runId = 'app-parallel-retried';
    const build = () =>
      parentApp(new OneActionOverNumbers(flaky.withName('flaky'), 1), { appId: 'retried' });
    const run = (app: Application, inputs: Inputs) =>
      app.run({ haltAfter: ['final_action'], inputs });
    await assert.rejects(
      withRun({ store, runId }, async () => {
        const app = build();
        await assert.rejects(run(app, { input_numbers_in_state: numbers }), /task 2 crashed/);
        // The retry, in the same run: 2 completes now, 4 fails.
        await run(app, {});
      }),
      /task 4 crashed/,
    );
    const keys = (await store.listTasks(runId)).map((record) => record.key);
    assert.ok(
      keys.every((key) => !key.includes('~')),
      `no key of a second use: ${keys.join(', ')}`,
    );
    executions.length = 0;
    const { state } = await withRun({ store, runId }, () =>
      run(build(), { input_numbers_in_state: numbers }),
    );
    assert.deepEqual(state.get('output_numbers_in_state'), numbers);
    assert.deepEqual(executions, [4, 5], 'only the children no attempt completed');
  });
});

describe('async reduce', () => {
  /** Over `input_numbers_in_state`, one at a time: reads every state, or only the first. */
  class FirstOnly extends MapStates {
    readonly #action: Action;
    readonly spread: boolean;
    constructor(act: Action, spread: boolean) {
      super();
      this.#action = act;
      this.spread = spread;
    }
    get reads() {
      return ['input_numbers_in_state'];
    }
    get writes() {
      return ['output_numbers_in_state'];
    }
    override get maxConcurrency() {
      return 1;
    }
    action() {
      return this.#action;
    }
    *states(state: AppState) {
      yield* numberStates(state);
    }
    override isAsync() {
      return true;
    }
    async reduce(state: AppState, states: Iterable<AppState> & AsyncIterable<AppState>) {
      if (this.spread) return appendOutputs(state, [...states]);
      for await (const sub of states) {
        return state.update({ output_numbers_in_state: [sub.get('output_number')] });
      }
      return state;
    }
  }
  const counting = (seen: number[]) =>
    action({ reads: ['input_number'], writes: ['output_number'] }, (state) => {
      seen.push(state.get('input_number'));
      return state.update({ output_number: state.get('input_number') });
    });

  it('refuses synchronous iteration, naming for await', async () => {
    const parallel = new FirstOnly(counting([]).withName('counting'), true);
    await assert.rejects(
      outputsOf(parentApp(parallel), inputs3),
      (error: unknown) =>
        isWeftError(error, 'WEFT_VALIDATION') &&
        /for await/.test(error.message) &&
        /isAsync\(\)/.test(error.message),
    );
  });

  it('that stops reading early still runs every task before the step ends', async () => {
    const seen: number[] = [];
    const parallel = new FirstOnly(counting(seen).withName('counting'), false);
    assert.deepEqual(await outputsOf(parentApp(parallel), inputs3), [100]);
    assert.deepEqual(seen, [100, 200, 300]);
  });
});

describe('parallel messages', () => {
  it('a bad maxConcurrency names the action and maxConcurrency', async () => {
    const parallel = new OneActionOverNumbers(
      simpleSingleFnSubgraph.withName('simple_single_fn'),
      0,
    );
    await assert.rejects(
      outputsOf(parentApp(parallel), inputs3),
      (error: unknown) =>
        error instanceof ValidationError &&
        /Parallel action 'map_action'/.test(error.message) &&
        /maxConcurrency/.test(error.message) &&
        /got 0/.test(error.message),
    );
  });

  it('an abort a task meets on its own is its failure, named by the task', async () => {
    const timesOut = action({ reads: ['input_number'], writes: ['output_number'] }, () => {
      throw new DOMException('its own request timed out', 'AbortError');
    });
    const parallel = new OneActionOverNumbers(timesOut.withName('times_out'));
    const error = await outputsOf(parentApp(parallel), { input_numbers_in_state: [1] }).then(
      () => assert.fail('the parent should have failed'),
      (failure: unknown) => failure,
    );
    assert.ok(isWeftError(error, 'WEFT_PARALLEL_TASK'), `got ${String(error)}`);
    assert.match(error.message, /its own request timed out/);
  });
});

describe('a persister that only saves', () => {
  it('cascades to the sub-applications', async () => {
    const saved: string[] = [];
    const saver: StateSaver = {
      async save(_partitionKey, appId, _sequenceId, position) {
        saved.push(`${appId} ${position}`);
      },
    };
    const parallel = new OneActionOverNumbers(
      simpleSingleFnSubgraph.bind({ identifying_number: 0 }).withName('simple_single_fn'),
    );
    const app = new ApplicationBuilder()
      .withActions({
        initial_action: inputAction('input_numbers_in_state'),
        map_action: parallel,
        final_action: resultAction('output_numbers_in_state'),
      })
      .withTransitions(['initial_action', 'map_action'], ['map_action', 'final_action'])
      .withIdentifiers({ appId: 'saver' })
      .withStatePersister(saver)
      .withState({})
      .withEntrypoint('initial_action')
      .build();
    assert.deepEqual(await outputsOf(app, inputs3), [111, 211, 311]);
    assert.equal(parallel.contexts[0]!.statePersister, saver);
    for (const position of [0, 1, 2]) {
      assert.ok(saved.includes(`${childAppId(parallel.contexts[0]!, position)} simple_single_fn`));
    }
  });
});
