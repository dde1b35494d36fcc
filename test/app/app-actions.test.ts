/**
 * Burr actions (`weftjs/app`): function actions, class actions, bound parameters and
 * names, and the checks of what an action writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Action,
  type ActionResult,
  ApplicationBuilder,
  type ApplicationContext,
  type AppState,
  action,
  expr,
  type Inputs,
} from 'weftjs/app';
import { increment, invalid, mark, stateError } from './support/app.ts';

describe('action()', () => {
  it('runs a sync function returning a State; the result is {}', async () => {
    const app = new ApplicationBuilder()
      .withActions({ increment })
      .withState({ count: 1 })
      .withEntrypoint('increment')
      .build();
    assert.equal(increment.isAsync(), false);
    const outcome = await app.step();
    assert.ok(outcome);
    assert.equal(outcome.action, 'increment');
    assert.deepEqual(outcome.result, {});
    assert.deepEqual(outcome.state.toObject(), { count: 2 });
    assert.equal(app.state, outcome.state);
  });

  it('runs an async function returning [result, State]; step and run return the result', async () => {
    const answer = action({ reads: ['q'], writes: ['a'] }, async (state) => {
      await Promise.resolve();
      return [{ length: state.get('q').length }, state.update({ a: state.get('q').toUpperCase() })];
    });
    assert.equal(answer.isAsync(), true);
    const build = () =>
      new ApplicationBuilder()
        .withActions({ answer })
        .withState({ q: 'hey' })
        .withEntrypoint('answer')
        .build();
    const stepped = await build().step();
    assert.deepEqual(stepped?.result, { length: 3 });
    assert.equal(stepped?.state.get('a'), 'HEY');
    const ran = await build().run({ haltAfter: ['answer'] });
    assert.deepEqual(ran, { action: 'answer', result: { length: 3 }, state: ran.state });
    assert.deepEqual(ran.state.toObject(), { q: 'hey', a: 'HEY' });
  });

  it('takes a sync [result, State] too', async () => {
    const pair = action({ reads: [], writes: ['x'] }, (state) => [
      { ok: true },
      state.update({ x: 1 }),
    ]);
    const app = new ApplicationBuilder().withActions({ pair }).withEntrypoint('pair').build();
    assert.deepEqual((await app.run()).result, { ok: true });
  });

  it('passes bound parameters merged with the runtime inputs', async () => {
    const seen: Inputs[] = [];
    const ask = action(
      { reads: [], writes: ['answer'], inputs: ['model'], optionalInputs: ['prompt'] },
      (state, inputs) => {
        seen.push({ ...inputs });
        return state.update({ answer: `${inputs.model}:${inputs.prompt}` });
      },
    );
    const bound = ask.bind({ model: 'o1' });
    assert.deepEqual(ask.inputs, ['model']);
    assert.deepEqual(bound.inputs, [], 'a bound parameter is no longer required');
    assert.deepEqual(bound.bound, { model: 'o1' });
    assert.deepEqual(ask.bound, {}, 'the original has nothing bound');
    const app = new ApplicationBuilder().withActions({ bound }).withEntrypoint('bound').build();
    const { state } = await app.run({ inputs: { prompt: 'hi' } });
    assert.equal(state.get('answer'), 'o1:hi');
    assert.deepEqual(seen, [{ prompt: 'hi', model: 'o1' }]);
  });

  it('merges parameters of successive binds', async () => {
    let got: Inputs = {};
    const f = action({ reads: [], writes: ['x'], optionalInputs: ['a', 'b'] }, (state, inputs) => {
      got = { ...inputs };
      return state.update({ x: 1 });
    });
    const twice = f.bind({ a: 1 }).withName('twice').bind({ b: 2 });
    assert.equal(twice.name, 'twice');
    assert.deepEqual(twice.bound, { a: 1, b: 2 });
    await new ApplicationBuilder().withActions(twice).withEntrypoint('twice').build().run();
    assert.deepEqual(got, { a: 1, b: 2 });
  });

  it('withName returns a renamed copy and leaves the original alone', async () => {
    const original = action({ reads: [], writes: ['who'] }, function greet(state, inputs) {
      return state.update({ who: inputs.who ?? 'nobody' });
    });
    const renamed = original.withName('hello');
    const boundRenamed = renamed.bind({ who: 'ann' });
    assert.equal(original.name, 'greet');
    assert.equal(renamed.name, 'hello');
    assert.equal(boundRenamed.name, 'hello');
    assert.deepEqual(renamed.bound, {});
    assert.notEqual(renamed, original);
    assert.deepEqual(renamed.reads, original.reads);
    assert.deepEqual(renamed.writes, original.writes);
    // Actions that carry a name go into withActions without a key.
    const app = new ApplicationBuilder()
      .withActions(original, boundRenamed)
      .withTransitions(['greet', 'hello'])
      .withEntrypoint('greet')
      .build();
    assert.deepEqual([...app.graph.actions.keys()], ['greet', 'hello']);
    const { state, action: last } = await app.run();
    assert.equal(last, 'hello');
    assert.equal(state.get('who'), 'ann');
  });

  it('rejects a bad spec, a missing function and an empty name', () => {
    assert.throws(
      () => action({ reads: 'a' as unknown as string[], writes: [] }, (s) => s),
      invalid(/reads/),
    );
    assert.throws(() => action({ reads: [], writes: [''] }, (s) => s), invalid(/writes/));
    assert.throws(
      () => action({ reads: [], writes: [] }, undefined as unknown as () => AppState),
      invalid(/function/),
    );
    assert.throws(() => increment.withName(''), invalid(/withName/));
  });

  it('says what an action returned when it is not a State', async () => {
    const bad = action({ reads: [], writes: [] }, () => ({ x: 1 }) as unknown as AppState);
    const app = new ApplicationBuilder().withActions({ bad }).withEntrypoint('bad').build();
    await assert.rejects(app.run(), invalid(/'bad'/, /returned an object/));
  });
});

/** A run/update class action: doubles `n` into `doubled`, recording what run saw. */

class Double extends Action {
  readonly sawKeys: string[][] = [];
  readonly sawInputs: Inputs[] = [];
  get reads() {
    return ['n'];
  }
  get writes() {
    return ['doubled'];
  }
  override get optionalInputs() {
    return ['factor'];
  }
  override run(state: AppState, inputs: Inputs): ActionResult {
    this.sawKeys.push(state.keys());
    this.sawInputs.push({ ...inputs });
    return { doubled: state.get('n') * (inputs.factor ?? 2) };
  }
  override update(result: ActionResult, state: AppState): AppState {
    return state.update({ doubled: result.doubled });
  }
}

/** A class action overriding runAndUpdate. */
class Tally extends Action {
  get reads() {
    return ['tally'];
  }
  get writes() {
    return ['tally'];
  }
  override async runAndUpdate(
    state: AppState,
    inputs: Inputs,
    context: ApplicationContext,
  ): Promise<readonly [ActionResult, AppState]> {
    const tally = state.get('tally') + (inputs.by ?? 1);
    return [{ tally, at: context.sequenceId }, state.update({ tally })];
  }
}

/** A class action implementing neither run nor runAndUpdate. */
class Empty extends Action {
  get reads() {
    return [];
  }
  get writes() {
    return [];
  }
}

describe('class actions', () => {
  it('run gets only the reads; update gets the whole state; the result is run’s', async () => {
    const double = new Double();
    const app = new ApplicationBuilder()
      .withActions({ double })
      .withState({ n: 4, other: 'x', more: [1] })
      .withEntrypoint('double')
      .build();
    const outcome = await app.run({ inputs: { factor: 3 } });
    assert.deepEqual(double.sawKeys, [['n']]);
    assert.deepEqual(double.sawInputs, [{ factor: 3 }]);
    assert.equal(outcome.action, 'double');
    assert.deepEqual(outcome.result, { doubled: 12 });
    assert.deepEqual(outcome.state.toObject(), { n: 4, other: 'x', more: [1], doubled: 12 });
  });

  it('bound parameters reach run with the inputs', async () => {
    const double = new Double();
    const app = new ApplicationBuilder()
      .withActions({ tenfold: double.bind({ factor: 10 }) })
      .withState({ n: 4 })
      .withEntrypoint('tenfold')
      .build();
    assert.equal((await app.run()).state.get('doubled'), 40);
    assert.deepEqual(double.sawInputs, [{ factor: 10 }]);
  });

  it('uses an overridden runAndUpdate', async () => {
    const app = new ApplicationBuilder()
      .withActions({ tally: new Tally() })
      .withTransitions(['tally', 'tally', expr('tally < 5')])
      .withState({ tally: 0 })
      .withEntrypoint('tally')
      .build();
    const first = await app.step({ inputs: { by: 2 } });
    assert.deepEqual(first?.result, { tally: 2, at: 0 });
    const last = await app.run();
    assert.deepEqual(last.result, { tally: 5, at: 3 });
    assert.equal(last.state.get('tally'), 5);
  });

  it('an action with neither run nor runAndUpdate is an error naming it', async () => {
    const app = new ApplicationBuilder()
      .withActions({ empty: new Empty() })
      .withEntrypoint('empty')
      .build();
    await assert.rejects(app.run(), invalid(/Empty|empty/, /run\(\)/));
  });

  it('run() returning a non-object names the action by the name the graph gave it', async () => {
    class Unnamed extends Action {
      get reads() {
        return [];
      }
      get writes() {
        return [];
      }
      override run() {
        return 5;
      }
    }
    const app = new ApplicationBuilder()
      .withActions({ tally: new Unnamed() })
      .withEntrypoint('tally')
      .build();
    await assert.rejects(app.run(), invalid(/Action 'tally' run\(\) returned number/));
  });
});

describe('write validation', () => {
  function failing(fn: (state: AppState) => AppState, writes: string[] = ['count']) {
    const sloppy = action({ reads: ['count'], writes }, fn);
    return new ApplicationBuilder()
      .withActions({ sloppy })
      .withState({ count: 0, kept: 'yes' })
      .withEntrypoint('sloppy')
      .build();
  }

  // Deleting an undeclared key is allowed, as in Burr: see porting.test.ts.
  for (const [what, fn] of [
    ['adds', (s: AppState) => s.update({ count: 1, extra: true })],
    ['changes', (s: AppState) => s.update({ count: 1, kept: 'no' })],
  ] as const) {
    it(`an action that ${what} an undeclared key fails naming the action and the key`, async () => {
      const app = failing(fn);
      const before = app.state;
      const key = what === 'adds' ? 'extra' : 'kept';
      await assert.rejects(app.run(), stateError(/'sloppy'/, new RegExp(`'${key}'`)));
      assert.equal(app.state, before, 'the state is the one before the step');
      assert.deepEqual(app.state.toObject(), { count: 0, kept: 'yes' });
      assert.equal(app.position, undefined);
    });
  }

  it('a declared write missing from the new state fails naming the action and the key', async () => {
    const app = failing((s) => s.update({ count: 1 }), ['count', 'total']);
    const before = app.state;
    await assert.rejects(app.step(), stateError(/'sloppy'/, /'total'/));
    assert.equal(app.state, before);
  });

  it('a declared write that is deleted is missing', async () => {
    const app = failing((s) => s.wipe({ delete: ['count'] }));
    await assert.rejects(app.step(), stateError(/'sloppy'/, /'count'/));
    assert.deepEqual(app.state.toObject(), { count: 0, kept: 'yes' });
  });

  it('an undeclared key holding NaN that the action leaves alone is not a write', async () => {
    const app = new ApplicationBuilder()
      .withActions({ increment })
      .withState({ count: 0, ratio: Number.NaN })
      .withEntrypoint('increment')
      .build();
    const { state } = await app.run();
    assert.equal(state.get('count'), 1);
    assert.ok(Number.isNaN(state.get('ratio')));
  });

  it('a failed step runs again on the next step, under the same sequence id', async () => {
    let fail = true;
    const seen: number[] = [];
    const flaky = action({ reads: ['count'], writes: ['count'] }, (state, _inputs, context) => {
      seen.push(context.sequenceId);
      if (fail) throw new Error('boom');
      return state.update({ count: state.get('count') + 1 });
    });
    const app = new ApplicationBuilder()
      .withActions({ flaky, after: mark('after') })
      .withTransitions(['flaky', 'after'])
      .withState({ count: 0 })
      .withEntrypoint('flaky')
      .build();
    await assert.rejects(app.step(), /boom/);
    assert.equal(app.nextAction(), 'flaky');
    assert.equal(app.sequenceId, undefined, 'a failed step is not the last step taken');
    await assert.rejects(app.step(), /boom/);
    fail = false;
    const retried = await app.step();
    assert.equal(retried?.action, 'flaky');
    assert.deepEqual(seen, [0, 0, 0]);
    assert.equal(app.sequenceId, 0);
    assert.equal(app.nextAction(), 'after');
    await app.step();
    assert.equal(app.sequenceId, 1);
  });
});
