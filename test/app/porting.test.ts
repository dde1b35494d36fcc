/**
 * Small things a user porting Burr code hits, each checked against Burr's own code and
 * tests (burr/core/application.py and tests/core/test_application.py): runtime inputs
 * reach every step, unknown halt names are reported together, and an action may delete
 * keys it does not declare.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, threads, ValidationError } from 'weftjs';
import {
  Action,
  type ActionResult,
  ApplicationBuilder,
  type AppState,
  action,
  expr,
  MapStates,
  type ParallelExecutorSetting,
  type RunnableGraph,
} from 'weftjs/app';
import { createFullSubgraph } from '../fixtures/app-burr.ts';
import { useScratchOnce } from './support/worker-actions.ts';

/** Burr's `base_counter_action_with_inputs`: count + 1 + additional_increment. */
const counterWithInputs = action(
  { reads: [], writes: ['count'], inputs: ['additional_increment'] },
  (state, { additional_increment }) =>
    state.update({
      count: (state.has('count') ? state.get('count') : 0) + 1 + additional_increment,
    }),
);

/** Burr's `Result(key)`: the state's `key` as the step's result. */
function resultOf(key: string): Action {
  return action({ reads: [key], writes: [] }, (state) => [{ [key]: state.get(key) }, state]);
}

/** Burr's `test_run_with_inputs_multiple_actions`: counter1 to 10, counter2 to 20, result. */
function countersApp() {
  return new ApplicationBuilder()
    .withActions({
      counter1: counterWithInputs,
      counter2: counterWithInputs,
      result: resultOf('count'),
    })
    .withTransitions(
      ['counter1', 'counter1', expr('count < 10')],
      ['counter1', 'counter2', expr('count >= 10')],
      ['counter2', 'counter2', expr('count < 20')],
      ['counter2', 'result'],
    )
    .withState({})
    .withEntrypoint('counter1')
    .build();
}

describe('runtime inputs of run and iterate', () => {
  it('reach every step, as Burr passes them through to multiple actions', async () => {
    const app = countersApp();
    const {
      action: last,
      result,
      state,
    } = await app.run({
      haltAfter: ['result'],
      inputs: { additional_increment: 8 },
    });
    assert.equal(last, 'result');
    assert.equal(state.get('count'), 27);
    assert.deepEqual(result, { count: 27 });
    assert.equal(app.sequenceId, 3, 'counter1, counter1, counter2, result');
  });

  it('reach every step of iterate', async () => {
    const counts: number[] = [];
    for await (const { state } of countersApp().iterate({
      haltAfter: ['result'],
      inputs: { additional_increment: 8 },
    })) {
      counts.push(state.get('count'));
    }
    assert.deepEqual(counts, [9, 18, 27, 27]);
  });

  it('step() still takes its own inputs, step by step', async () => {
    const app = countersApp();
    await app.step({ inputs: { additional_increment: 8 } });
    await assert.rejects(app.step(), /additional_increment/);
    await app.step({ inputs: { additional_increment: 0 } });
    assert.equal(app.state.get('count'), 10);
  });

  /** Maps one sub-graph over three numbers, passing the parent's inputs to every task. */
  class SubGraphOverNumbers extends MapStates {
    readonly #graph: Action | RunnableGraph;
    constructor(graph: Action | RunnableGraph) {
      super();
      this.#graph = graph;
    }
    get reads() {
      return ['numbers'];
    }
    get writes() {
      return ['outputs'];
    }
    override get optionalInputs() {
      return ['additional_number'];
    }
    action() {
      return this.#graph;
    }
    *states(state: AppState) {
      for (const n of state.get('numbers')) {
        yield state.update({ input_number: n, number_to_add: 10 });
      }
    }
    reduce(state: AppState, states: Iterable<AppState>) {
      return state.update({ outputs: [...states].map((sub) => sub.get('output_number')) });
    }
  }

  for (const [label, executor] of [
    ['in this thread', undefined],
    ['on worker threads', () => threads({ workers: 2 })],
  ] as const satisfies readonly (readonly [string, ParallelExecutorSetting | undefined])[]) {
    it(`reach every step of every sub-application ${label}`, async () => {
      // The sub-graph's third step adds additional_number (1 when not given) and 3000.
      const builder = new ApplicationBuilder()
        .withActions({ fan: new SubGraphOverNumbers(createFullSubgraph(3000)) })
        .withState({ numbers: [100, 200] })
        .withEntrypoint('fan');
      if (executor !== undefined) builder.withParallelExecutor(executor);
      const { state } = await builder.build().run({
        haltAfter: ['fan'],
        inputs: { additional_number: 5 },
      });
      assert.deepEqual(state.get('outputs'), [3115, 3215]);
    });
  }
});

describe('unknown halt names', () => {
  it('are reported together in one error, each with the list it came from', async () => {
    const app = countersApp();
    const error = await app
      .run({ haltAfter: ['result', 'reslut', 'done'], haltBefore: ['counter3'] })
      .then(
        () => assert.fail('the run should have been refused'),
        (failure: unknown) => failure,
      );
    assert.ok(error instanceof ValidationError, String(error));
    assert.match(error.message, /haltAfter names 'reslut', 'done'/);
    assert.match(error.message, /haltBefore names 'counter3'/);
    assert.match(error.message, /'counter1', 'counter2', 'result'/);
    assert.equal(app.sequenceId, undefined, 'nothing ran');
  });

  it('are refused by iterate before any step', async () => {
    const app = countersApp();
    const steps = app.iterate({ haltAfter: ['nope'], haltBefore: ['nada'], inputs: {} });
    await assert.rejects(steps.next(), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /haltAfter names 'nope'; haltBefore names 'nada'/);
      return true;
    });
    assert.equal(app.sequenceId, undefined);
  });
});

/** Burr's `test__run_reducer_deletes_state`: reads count, writes nothing, deletes count. */
class DeletesCount extends Action {
  get reads() {
    return ['count'];
  }
  get writes() {
    return [];
  }
  override run() {
    return {};
  }
  override update(_result: ActionResult, state: AppState) {
    return state.wipe({ delete: ['count'] });
  }
}

/** Runs `act` once on `state` as the only step of an application. */
function runOnce(act: Action, state: Record<string, unknown>) {
  return new ApplicationBuilder()
    .withActions({ only: act })
    .withState(state)
    .withEntrypoint('only')
    .build()
    .run();
}

describe('deleting keys', () => {
  it('needs no declaration in writes, as Burr deletes keys from actions with writes=[]', async () => {
    const { state } = await runOnce(new DeletesCount(), { count: 0, kept: 'yes' });
    assert.deepEqual(state.toObject(), { kept: 'yes' });
  });

  it('works for a function action too, for the keys it reads', async () => {
    const tidy = action({ reads: ['count', 'draft', 'notes'], writes: ['count'] }, (state) =>
      state.update({ count: state.get('count') + 1 }).wipe({ delete: ['draft', 'notes'] }),
    );
    const { state } = await runOnce(tidy, { count: 0, draft: 'x', notes: [1], kept: 'yes' });
    assert.deepEqual(state.toObject(), { count: 1, kept: 'yes' });
  });

  it('of keys it neither reads nor writes is an error, as a Burr action sees only what it reads', async () => {
    // A worker is sent only what an action reads and writes: the same rule holds there.
    const tidy = action({ reads: ['count'], writes: ['count'] }, (state) =>
      state.update({ count: 1 }).wipe({ delete: ['draft'] }),
    );
    await assert.rejects(runOnce(tidy, { count: 0, draft: 'x' }), (error: unknown) => {
      assert.ok(isWeftError(error, 'WEFT_STATE'), String(error));
      assert.match((error as Error).message, /wrote 'draft', which it does not declare/);
      return true;
    });
  });

  for (const [what, fn] of [
    ['adding', (s: AppState) => s.wipe({ delete: ['count'] }).update({ extra: true })],
    ['changing', (s: AppState) => s.wipe({ delete: ['count'] }).update({ kept: 'no' })],
  ] as const) {
    it(`beside ${what} an undeclared key is still an error naming that key`, async () => {
      const sloppy = action({ reads: ['count'], writes: [] }, fn);
      await assert.rejects(runOnce(sloppy, { count: 0, kept: 'yes' }), (error: unknown) => {
        assert.ok(isWeftError(error, 'WEFT_STATE'), String(error));
        assert.match((error as Error).message, what === 'adding' ? /'extra'/ : /'kept'/);
        assert.doesNotMatch((error as Error).message, /'count'/);
        return true;
      });
    });
  }

  /** Maps `useScratchOnce` over three numbers, each with some scratch to use once. */
  class ScratchOverNumbers extends MapStates {
    get reads() {
      return ['numbers'];
    }
    get writes() {
      return ['finals'];
    }
    action() {
      return useScratchOnce.withName('use_scratch_once');
    }
    *states(state: AppState) {
      for (const n of state.get('numbers')) yield state.update({ input_number: n, scratch: 1 });
    }
    reduce(state: AppState, states: Iterable<AppState>) {
      return state.update({
        finals: [...states].map((sub) => ({
          output_number: sub.get('output_number'),
          scratch: sub.has('scratch'),
        })),
      });
    }
  }

  for (const [label, executor] of [
    ['in this thread', undefined],
    ['on worker threads', () => threads({ workers: 2 })],
  ] as const satisfies readonly (readonly [string, ParallelExecutorSetting | undefined])[]) {
    it(`in a sub-application step ${label} comes back as a deletion`, async () => {
      const builder = new ApplicationBuilder()
        .withActions({ fan: new ScratchOverNumbers() })
        .withState({ numbers: [100, 200] })
        .withEntrypoint('fan');
      if (executor !== undefined) builder.withParallelExecutor(executor);
      const { state } = await builder.build().run({ haltAfter: ['fan'] });
      assert.deepEqual(state.get('finals'), [
        { output_number: 101, scratch: false },
        { output_number: 201, scratch: false },
      ]);
    });
  }
});
