/**
 * What weft adds to Burr's parallel actions for resume: stable child ids per step,
 * cascading trackers, persisters and initializers, children that finished not run again
 * after a crash, recorded runs, and task outputs recorded as changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, State, type StateRecord, withRun } from 'weftjs';
import {
  type Application,
  ApplicationBuilder,
  type ApplicationContext,
  type AppState,
  action,
  childAppId,
  expr,
  type Inputs,
  MemoryTracker,
  ParallelTaskError,
  RunnableGraph,
  type StateLoader,
  type StateSaver,
  StorePersister,
  SubGraphTask,
  TaskBasedParallelAction,
  type Tracker,
} from 'weftjs/app';
import { simpleSingleFnSubgraph } from '../fixtures/app-burr.ts';
import {
  ActionsOverNumbers,
  appendOutputs,
  childIds,
  inputAction,
  inputs3,
  OneActionOverNumbers,
  outputs9,
  outputsOf,
  ownSteps,
  parentApp,
  resultAction,
} from './support/parallel.ts';

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
