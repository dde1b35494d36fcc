/**
 * Small things a user porting Burr code hits, each checked against Burr's own code and
 * tests (burr/core/application.py and tests/core/test_application.py): runtime inputs
 * reach every step, unknown halt names are reported together, and an action may delete
 * keys it does not declare.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { threads, ValidationError } from 'weftjs';
import {
  type Action,
  ApplicationBuilder,
  type AppState,
  action,
  expr,
  MapStates,
  type ParallelExecutorSetting,
  type RunnableGraph,
} from 'weftjs/app';
import { createFullSubgraph } from '../fixtures/app-burr.ts';

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
