/**
 * Burr's tests/core/test_parallelism.py, ported: MapActions, MapStates,
 * MapActionsAndStates, TaskBasedParallelAction and mapReduceAction, each run through a
 * whole application (Input → parallel action → Result), their async forms, and runtime
 * inputs reaching the sub-applications.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, State } from 'weftjs';
import {
  type Action,
  type ApplicationContext,
  type AppState,
  action,
  MapActions,
  MapActionsAndStates,
  MapStates,
  MemoryTracker,
  RunnableGraph,
  SubGraphTask,
  TaskBasedParallelAction,
} from 'weftjs/app';
import {
  ClassBasedAction,
  createFullSubgraph,
  simpleSingleFnSubgraph,
} from '../fixtures/app-burr.ts';
import {
  ActionsOverNumbers,
  appendOutputs,
  burrActions,
  burrMapReduce,
  childIds,
  inputs3,
  numberStates,
  OneActionOverNumbers,
  outputs9,
  outputsOf,
  ownSteps,
  parentApp,
} from './support/parallel.ts';

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
    const tracker = new MemoryTracker();
    const app = parentApp(burrMapReduce(), { appId: 'map-reduce', tracker });
    assert.deepEqual(await outputsOf(app, inputs3), outputs9);
    assert.equal(childIds(tracker, 'map-reduce').length, 9);
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
