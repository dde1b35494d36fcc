/**
 * Parallel actions on worker threads and child processes: the application loops stay in
 * this thread, each step's action is found again in the worker, only the keys it reads
 * and writes travel, and a parallel executor factory makes one executor per step.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { asyncPool, isWeftError, processes, State, threads, ValidationError } from 'weftjs';
import {
  type Action,
  type ApplicationContext,
  type AppState,
  action,
  MapStates,
  MemoryTracker,
  type ParallelExecutorSetting,
  ParallelTaskError,
  type StepEnd,
} from 'weftjs/app';
import { resolveRef } from '../../src/app/remote.ts';
import {
  ClassBasedAction,
  simpleSingleFnSubgraph,
  writesUndeclared,
} from '../fixtures/app-burr.ts';
import {
  ActionsOverNumbers,
  causes,
  inputs3,
  numberStates,
  OneActionOverNumbers,
  outputs9,
  outputsOf,
  parentApp,
} from './support/parallel.ts';
import { failsOnThree, useScratchOnce } from './support/worker-actions.ts';

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

describe('sub-application steps on workers', () => {
  it('leave parallel actions here: the orchestrates hook, kept by bind and withName', () => {
    const parallel = new OneActionOverNumbers(writesUndeclared.withName('writes_undeclared'));
    assert.equal(parallel.orchestrates, true);
    assert.equal(parallel.withName('renamed').bind({ extra: 1 }).orchestrates, true);
    assert.equal(writesUndeclared.orchestrates, false);
    assert.equal(writesUndeclared.withName('renamed').orchestrates, false);
  });

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

describe('a failing action of a sub-application', () => {
  /**
   * The error the parent fails with when `failsOnThree` fails in a task on `executor`,
   * and the failed step the sub-application's tracker heard.
   */
  async function failure(executor?: ParallelExecutorSetting) {
    const tracker = new MemoryTracker();
    const parallel = new OneActionOverNumbers(failsOnThree.withName('fails_on_three'));
    const error = await outputsOf(parentApp(parallel, { executor, tracker }), {
      input_numbers_in_state: [3],
    }).then(
      () => assert.fail('the parent should have failed'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof ParallelTaskError, `got ${String(error)}`);
    const failed = tracker.calls
      .filter((call) => call.hook === 'stepEnd' && call.appId === error.applicationId)
      .map((call) => call.detail as StepEnd);
    return { error, failed };
  }

  it('is its own error on worker threads, as in this thread: no wrapper to unwrap', async () => {
    for (const { error, failed } of [
      await failure(),
      await failure(() => threads({ workers: 2 })),
    ]) {
      assert.match(error.message, /\(fails_on_three\) failed: number 3 is out of range$/);
      const cause = error.cause as Error;
      assert.ok(!isWeftError(cause, 'WEFT_TASK_FAILED'), `the cause is wrapped: ${String(cause)}`);
      assert.equal(cause.name, 'RangeError');
      assert.equal(cause.message, 'number 3 is out of range');
      // The sub-application's own step hears it under the step's name.
      assert.deepEqual(
        failed.map((end) => [end.action, (end.error as Error).message]),
        [['fails_on_three', 'number 3 is out of range']],
      );
    }
  });
});

describe('how a worker finds an action again', () => {
  it('a function action: by its module from the project root and its line:column there', async () => {
    const ref = useScratchOnce.ref();
    assert.ok(typeof ref === 'object' && ref.kind === 'site', String(ref));
    const module = './test/app/support/worker-actions.ts';
    assert.deepEqual(Object.keys(ref.definition).sort(), ['kind', 'module', 'name']);
    assert.equal(ref.definition.kind, 'action');
    assert.equal(ref.definition.module, module);
    assert.match(ref.definition.name, /^\.\/test\/app\/support\/worker-actions\.ts:\d+:\d+$/);
    assert.equal(await resolveRef(ref), useScratchOnce);
  });

  it('an action class: by its module from the project root and its exported name', async () => {
    const ref = new ClassBasedAction(5).withName('renamed').ref();
    assert.ok(typeof ref === 'object' && ref.kind === 'derived', String(ref));
    assert.ok(ref.base.kind === 'class');
    assert.equal(ref.base.module, './test/fixtures/app-burr.ts');
    assert.equal(ref.base.className, 'ClassBasedAction');
    const rebuilt = await resolveRef(ref);
    assert.equal(rebuilt.name, 'renamed');
    // The number it was made with travels with it: 1 + 2 + 1 (additional) + 5.
    const state = State.of({ input_number: 1, number_to_add: 2 });
    const output = await rebuilt.runAndUpdate(state, {}, undefined as never);
    assert.ok(Array.isArray(output));
    assert.deepEqual(output[0], { output_number: 9 });
  });
});
