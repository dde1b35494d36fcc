/**
 * Burr applications (`weftjs/app`), without the parallel actions: function and class
 * actions, write checks, graph and builder validation, transitions, run/step/iterate,
 * persisters over every store (one shared suite), trackers and events.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AppEndEvent,
  type AppStartEvent,
  type AppStepEvent,
  events,
  MemoryStore,
  openStore,
  State,
  StateError,
  type Store,
  ValidationError,
  withRun,
} from 'weftjs';
import {
  Action,
  type ActionResult,
  ApplicationBuilder,
  type ApplicationContext,
  type ApplicationEnd,
  type AppState,
  action,
  Condition,
  defaultTransition,
  expr,
  GraphBuilder,
  type Inputs,
  MemoryTracker,
  type StepEnd,
  type StepStart,
  StorePersister,
  when,
} from 'weftjs/app';
import { freshPostgresSchema } from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-app-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('app');

/** Matches a ValidationError whose message matches every pattern. */
const invalid =
  (...patterns: RegExp[]) =>
  (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.code, 'WEFT_VALIDATION');
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };

/** Matches a StateError whose message matches every pattern. */
const stateError =
  (...patterns: RegExp[]) =>
  (error: unknown) => {
    assert.ok(error instanceof StateError, `expected a StateError, got ${String(error)}`);
    assert.equal(error.code, 'WEFT_STATE');
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** count + 1. */
const increment = action({ reads: ['count'], writes: ['count'] }, (state) =>
  state.update({ count: state.get('count') + 1 }),
);

/** An action that appends its name to `trail`. */
function mark(name: string) {
  return action({ reads: ['trail'], writes: ['trail'], name }, (state) =>
    state.update({ trail: [...state.get('trail', []), name] }),
  );
}

/** An application a → b → c that appends to `trail`. */
function abc(): ApplicationBuilder {
  return new ApplicationBuilder()
    .withActions({ a: mark('a'), b: mark('b'), c: mark('c') })
    .withTransitions(['a', 'b'], ['b', 'c']);
}

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

describe('graph and builder validation', () => {
  const a = mark('a');
  const b = mark('b');

  it('GraphBuilder: a transition to or from an unknown action names it', () => {
    assert.throws(
      () => new GraphBuilder().withActions({ a, b }).withTransitions(['a', 'ghost']).build(),
      invalid(/'ghost'/, /'a', 'b'/),
    );
    assert.throws(
      () =>
        new GraphBuilder()
          .withActions({ a, b })
          .withTransitions([['a', 'phantom'], 'b'])
          .build(),
      invalid(/'phantom'/),
    );
  });

  it('ApplicationBuilder: a transition to an unknown action names it', () => {
    assert.throws(
      () =>
        new ApplicationBuilder()
          .withActions({ a })
          .withTransitions(['a', 'ghost'])
          .withEntrypoint('a')
          .build(),
      invalid(/'ghost'/),
    );
  });

  it('two actions with one name are an error naming it', () => {
    assert.throws(
      () => new GraphBuilder().withActions({ a }).withActions({ a: b }),
      invalid(/'a'/),
    );
    assert.throws(
      () => new ApplicationBuilder().withActions({ twin: a }, b.withName('twin')),
      invalid(/'twin'/),
    );
  });

  it('an action without a name given without a key is an error', () => {
    const anonymous = action({ reads: [], writes: [] }, (s) => s);
    assert.throws(() => new GraphBuilder().withActions(anonymous), invalid(/without a name/));
  });

  it('a transition after a defaultTransition names both', () => {
    for (const builder of [new GraphBuilder(), new ApplicationBuilder()]) {
      builder
        .withActions({ a, b, c: mark('c') })
        .withTransitions(['a', 'b', defaultTransition], ['a', 'c', when({ x: 1 })]);
      assert.throws(
        () =>
          builder instanceof GraphBuilder ? builder.build() : builder.withEntrypoint('a').build(),
        invalid(/a → c/, /a → b/, /default/),
      );
    }
  });

  it('an unknown entrypoint names it', () => {
    assert.throws(
      () => new ApplicationBuilder().withActions({ a }).withEntrypoint('nowhere').build(),
      invalid(/[Ee]ntrypoint/, /'nowhere'/),
    );
    assert.throws(() => new ApplicationBuilder().withActions({ a }).build(), invalid(/entrypoint/));
  });

  it('haltAfter or haltBefore with an unknown name names it', async () => {
    const app = abc().withEntrypoint('a').build();
    await assert.rejects(app.run({ haltAfter: ['c', 'nope'] }), invalid(/haltAfter/, /'nope'/));
    await assert.rejects(app.run({ haltBefore: ['zilch'] }), invalid(/haltBefore/, /'zilch'/));
    assert.equal(app.sequenceId, undefined, 'nothing ran');
  });

  it('initializeFrom together with withState (either order) names both', () => {
    const persister = new StorePersister(new MemoryStore());
    assert.throws(
      () =>
        new ApplicationBuilder()
          .withActions({ a })
          .withState({ x: 1 })
          .initializeFrom(persister, { defaultEntrypoint: 'a' }),
      invalid(/initializeFrom/, /withState/),
    );
    assert.throws(
      () =>
        new ApplicationBuilder()
          .withActions({ a })
          .initializeFrom(persister, { defaultEntrypoint: 'a' })
          .withState({ x: 1 }),
      invalid(/withState/, /initializeFrom/),
    );
    assert.throws(
      () =>
        new ApplicationBuilder()
          .withActions({ a })
          .initializeFrom(persister, { defaultEntrypoint: 'a' })
          .withEntrypoint('a'),
      invalid(/withEntrypoint/, /initializeFrom/),
    );
  });

  it('initializeFrom with an unknown defaultEntrypoint names it', () => {
    const persister = new StorePersister(new MemoryStore());
    assert.throws(
      () =>
        new ApplicationBuilder()
          .withActions({ a })
          .initializeFrom(persister, { defaultEntrypoint: 'elsewhere' })
          .build(),
      invalid(/'elsewhere'/),
    );
  });

  it('a graph from GraphBuilder runs, and cannot be mixed with withActions', async () => {
    const graph = new GraphBuilder().withActions({ a, b }).withTransitions(['a', 'b']).build();
    assert.deepEqual(
      graph.outgoing('a').map((t) => [t.from, t.to, t.condition.isDefault]),
      [['a', 'b', true]],
    );
    const app = new ApplicationBuilder()
      .withGraph(graph)
      .withState({ trail: [] })
      .withEntrypoint('a')
      .build();
    assert.deepEqual((await app.run()).state.get('trail'), ['a', 'b']);
    assert.throws(
      () =>
        new ApplicationBuilder()
          .withGraph(graph)
          .withActions({ c: mark('c') })
          .withEntrypoint('a')
          .build(),
      invalid(/withGraph/),
    );
  });
});

describe('transitions', () => {
  const route = (to: string) =>
    action({ reads: [], writes: ['went'] }, (s) => s.update({ went: to }));

  function router(...transitions: Parameters<ApplicationBuilder['withTransitions']>) {
    return (state: Record<string, unknown>) =>
      new ApplicationBuilder()
        .withActions({
          start: action({ reads: [], writes: [] }, (s) => s),
          x: route('x'),
          y: route('y'),
          z: route('z'),
        })
        .withTransitions(...transitions)
        .withState(state)
        .withEntrypoint('start')
        .build();
  }

  it('takes the first transition whose condition holds, in the order given', async () => {
    const build = router(
      ['start', 'x', when({ pick: 'x' })],
      ['start', 'y', when({ flag: true })],
      ['start', 'z', when({ flag: true })],
    );
    assert.equal((await build({ pick: 'x', flag: true }).run()).action, 'x');
    assert.equal((await build({ pick: 'no', flag: true }).run()).action, 'y');
  });

  it('when() compares arrays and objects element by element', async () => {
    const build = router(
      ['start', 'x', when({ path: ['a', 'b'] })],
      ['start', 'y', when({ opts: { deep: [1] }, mode: 'm' })],
      ['start', 'z'],
    );
    assert.equal((await build({ path: ['a', 'b'], opts: 0, mode: 0 }).run()).action, 'x');
    assert.equal((await build({ path: ['a'], opts: { deep: [1] }, mode: 'm' }).run()).action, 'y');
    assert.equal(
      (await build({ path: ['b', 'a'], opts: { deep: [2] }, mode: 'm' }).run()).action,
      'z',
    );
  });

  it("loops with expr('count < 10') and leaves through the default", async () => {
    const done = action({ reads: ['count'], writes: ['final'] }, (s) =>
      s.update({ final: s.get('count') }),
    );
    const app = new ApplicationBuilder()
      .withActions({ increment, done })
      .withTransitions(
        ['increment', 'increment', expr('count < 10')],
        ['increment', 'done', defaultTransition],
      )
      .withState({ count: 0 })
      .withEntrypoint('increment')
      .build();
    const seen: string[] = [];
    for await (const step of app.iterate({ haltAfter: ['done'] })) seen.push(step.action!);
    assert.deepEqual(seen, [...Array(10).fill('increment'), 'done']);
    assert.deepEqual(app.state.toObject(), { count: 10, final: 10 });
  });

  it('defaultTransition is taken when nothing before it holds', async () => {
    const build = router(['start', 'x', when({ go: 'x' })], ['start', 'y', defaultTransition]);
    assert.equal((await build({ go: 'x' }).run()).action, 'x');
    assert.equal((await build({ go: 'other' }).run()).action, 'y');
  });

  it('a condition on a missing key is an error naming the key', async () => {
    const app = router(['start', 'x', when({ missing: 1 })])({ present: 1 });
    await assert.rejects(app.run(), invalid(/'missing'/, /'present'/));
    const viaExpr = router(['start', 'x', expr('absent > 2')])({});
    await assert.rejects(viaExpr.run(), invalid(/'absent'/));
  });

  it('Condition and, or and not combine', async () => {
    const a1 = when({ a: 1 });
    const b2 = when({ b: 2 });
    const at = (values: Record<string, unknown>) => State.of(values);
    assert.equal(a1.and(b2).run(at({ a: 1, b: 2 })), true);
    assert.equal(a1.and(b2).run(at({ a: 1, b: 3 })), false);
    assert.equal(a1.or(b2).run(at({ a: 0, b: 2 })), true);
    assert.equal(a1.or(b2).run(at({ a: 0, b: 0 })), false);
    assert.equal(a1.not().run(at({ a: 0 })), true);
    assert.equal(a1.not().run(at({ a: 1 })), false);
    assert.deepEqual(a1.or(b2).keys, ['a', 'b']);
    assert.match(a1.and(b2.not()).description, /and not/);
    assert.throws(() => a1.or(b2).run(at({ a: 1 })), invalid(/'b'/));
    const custom = new Condition(['n'], (s) => s.get('n') % 2 === 0, 'even(n)');
    const build = router(
      ['start', 'x', custom.and(when({ on: true }))],
      ['start', 'y', custom.not()],
      ['start', 'z'],
    );
    assert.equal((await build({ n: 2, on: true }).run()).action, 'x');
    assert.equal((await build({ n: 3, on: true }).run()).action, 'y');
    assert.equal((await build({ n: 2, on: false }).run()).action, 'z');
  });

  it('ends run() when no transition holds, returning the last step', async () => {
    const app = router(['start', 'x', when({ go: true })])({ go: false });
    const outcome = await app.run();
    assert.deepEqual(outcome, { action: 'start', result: {}, state: app.state });
    assert.equal(app.nextAction(), undefined);
    assert.equal(await app.step(), null);
    const again = await app.run();
    assert.equal(again.action, undefined, 'nothing left to run');
    assert.equal(again.result, null);
  });
});

describe('run, step and iterate', () => {
  it('haltAfter returns the action, its result and the state', async () => {
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    const outcome = await app.run({ haltAfter: ['b'] });
    assert.equal(outcome.action, 'b');
    assert.deepEqual(outcome.result, {});
    assert.deepEqual(outcome.state.get('trail'), ['a', 'b']);
    assert.equal(app.position, 'b');
    // A second run continues from where the first stopped.
    const rest = await app.run();
    assert.equal(rest.action, 'c');
    assert.deepEqual(rest.state.get('trail'), ['a', 'b', 'c']);
  });

  it('haltBefore returns the next action with a null result, without running it', async () => {
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    const outcome = await app.run({ haltBefore: ['c'] });
    assert.deepEqual(outcome, { action: 'c', result: null, state: app.state });
    assert.deepEqual(app.state.get('trail'), ['a', 'b']);
    assert.equal(app.nextAction(), 'c');
  });

  it('the first step runs even when it is in haltBefore', async () => {
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    const outcome = await app.run({ haltBefore: ['a', 'b'] });
    assert.equal(outcome.action, 'b');
    assert.equal(outcome.result, null);
    assert.deepEqual(app.state.get('trail'), ['a']);
    // Halted before b: the next run starts with b, and runs it although it is listed.
    const next = await app.run({ haltBefore: ['b', 'c'] });
    assert.equal(next.action, 'c');
    assert.deepEqual(app.state.get('trail'), ['a', 'b']);
  });

  it('inputs reach every step of run, as in Burr', async () => {
    const got: Inputs[] = [];
    const take = (name: string) =>
      action({ reads: [], writes: [], optionalInputs: ['x'], name }, (state, inputs) => {
        got.push({ ...inputs });
        return state;
      });
    const app = new ApplicationBuilder()
      .withActions(take('one'), take('two'))
      .withTransitions(['one', 'two'])
      .withEntrypoint('one')
      .build();
    await app.run({ inputs: { x: 42 } });
    assert.deepEqual(got, [{ x: 42 }, { x: 42 }]);
  });

  it('a missing required input is an error naming it, before the action runs', async () => {
    let ran = false;
    const needs = action({ reads: [], writes: [], inputs: ['userId', 'token'] }, (s) => {
      ran = true;
      return s;
    });
    const app = new ApplicationBuilder().withActions({ needs }).withEntrypoint('needs').build();
    await assert.rejects(app.run({ inputs: { token: 't' } }), invalid(/'needs'/, /'userId'/));
    await assert.rejects(app.step(), invalid(/'userId', 'token'/));
    assert.equal(ran, false);
    assert.equal(app.sequenceId, undefined, 'a refused step takes no sequence id');
    assert.equal((await app.run({ inputs: { userId: 1, token: 't' } })).action, 'needs');
    assert.equal(app.sequenceId, 0);
  });

  it('step() runs one action at a time and returns null at the end', async () => {
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    assert.equal(app.nextAction(), 'a');
    assert.equal((await app.step())?.action, 'a');
    assert.equal(app.nextAction(), 'b');
    assert.equal((await app.step())?.action, 'b');
    const last = await app.step();
    assert.equal(last?.action, 'c');
    assert.deepEqual(last?.state.get('trail'), ['a', 'b', 'c']);
    assert.equal(await app.step(), null);
    assert.equal(await app.step(), null);
  });

  it('iterate() yields every step and returns what run returns', async () => {
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    const steps = app.iterate();
    const yielded: (string | undefined)[] = [];
    let next = await steps.next();
    while (!next.done) {
      yielded.push(next.value.action);
      assert.equal(next.value.state, app.state);
      next = await steps.next();
    }
    assert.deepEqual(yielded, ['a', 'b', 'c']);
    assert.equal(next.value.action, 'c');
    assert.deepEqual(next.value.state.get('trail'), ['a', 'b', 'c']);
  });

  it('breaking out of iterate() leaves the application usable', async () => {
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    for await (const step of app.iterate()) if (step.action === 'a') break;
    assert.equal((await app.run()).action, 'c');
    assert.deepEqual(app.state.get('trail'), ['a', 'b', 'c']);
  });

  it('sequenceId starts at 0 and grows by one per step; the context tells the action', async () => {
    const seen: [number, string, string][] = [];
    const note = action({ reads: ['count'], writes: ['count'] }, (state, _inputs, context) => {
      seen.push([context.sequenceId, context.actionName, context.appId]);
      return state.update({ count: state.get('count') + 1 });
    });
    const app = new ApplicationBuilder()
      .withActions({ note })
      .withTransitions(['note', 'note', expr('count < 3')])
      .withState({ count: 0 })
      .withEntrypoint('note')
      .withIdentifiers({ appId: 'seq-app' })
      .build();
    assert.equal(app.sequenceId, undefined);
    await app.step();
    assert.equal(app.sequenceId, 0);
    await app.run();
    assert.equal(app.sequenceId, 2);
    assert.deepEqual(seen, [
      [0, 'note', 'seq-app'],
      [1, 'note', 'seq-app'],
      [2, 'note', 'seq-app'],
    ]);
  });

  it('running twice at once on one application is an error', async () => {
    const gate = deferred<void>();
    const slow = action({ reads: [], writes: ['done'] }, async (s) => {
      await gate.promise;
      return s.update({ done: true });
    });
    const app = new ApplicationBuilder()
      .withActions({ slow })
      .withEntrypoint('slow')
      .withIdentifiers({ appId: 'busy-app' })
      .build();
    const first = app.run();
    await assert.rejects(app.run(), invalid(/'busy-app'/, /already running/));
    await assert.rejects(app.step(), invalid(/already running/));
    gate.resolve();
    const outcome = await first;
    assert.equal(outcome.state.get('done'), true);
    assert.equal(app.sequenceId, 0, 'the refused calls ran nothing');
  });

  it('two runs started in the same tick: one is refused, even with sync actions', async () => {
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    const [one, two] = await Promise.allSettled([app.run(), app.run()]);
    assert.equal(one.status, 'fulfilled');
    assert.equal(two.status, 'rejected');
    assert.ok(two.status === 'rejected' && invalid(/already running/)(two.reason));
    assert.deepEqual(app.state.get('trail'), ['a', 'b', 'c']);
  });

  it('an AbortSignal aborted between steps stops run with signal.reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop here');
    const first = action({ reads: [], writes: ['trail'], name: 'first' }, (s) => {
      controller.abort(reason);
      return s.update({ trail: ['first'] });
    });
    const app = new ApplicationBuilder()
      .withActions(first, mark('second'))
      .withTransitions(['first', 'second'])
      .withEntrypoint('first')
      .build();
    await assert.rejects(app.run({ signal: controller.signal }), (error) => error === reason);
    assert.deepEqual(app.state.get('trail'), ['first']);
    assert.equal(app.position, 'first');
    assert.equal(app.nextAction(), 'second');
  });

  it('an already aborted signal runs nothing', async () => {
    const reason = new Error('never started');
    const app = abc().withState({ trail: [] }).withEntrypoint('a').build();
    await assert.rejects(
      app.run({ signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    await assert.rejects(
      app.step({ signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    assert.deepEqual(app.state.get('trail'), []);
    assert.equal(app.sequenceId, undefined);
  });

  it('the action sees the signal in its context', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const look = action({ reads: [], writes: [] }, (s, _inputs, context) => {
      seen = context.signal;
      return s;
    });
    const app = new ApplicationBuilder().withActions({ look }).withEntrypoint('look').build();
    await app.run({ signal: controller.signal });
    assert.equal(seen, controller.signal);
  });
});

/** One suite of persister cases, run over every store (as Hono runs one suite per router). */
function describePersister(label: string, open: () => Promise<Store>): void {
  describe(`StorePersister over ${label}`, () => {
    let store: Store;
    let persister: StorePersister;
    before(async () => {
      store = await open();
      persister = new StorePersister(store);
    });
    after(() => store?.close());

    const appId = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
    const resumed = (id: string, options: { resumeAtNextAction?: boolean } = {}) =>
      abc()
        .initializeFrom(persister, {
          resumeAtNextAction: options.resumeAtNextAction ?? true,
          defaultState: { trail: ['default'] },
          defaultEntrypoint: 'a',
        })
        .withStatePersister(persister)
        .withIdentifiers({ appId: id })
        .build();

    it('saves the state after every step with its sequence id and position', async () => {
      const id = appId('saves');
      const app = abc()
        .withState({ trail: [] })
        .withEntrypoint('a')
        .withStatePersister(persister)
        .withIdentifiers({ appId: id })
        .build();
      await app.run();
      for (const [sequenceId, position, trail] of [
        [0, 'a', ['a']],
        [1, 'b', ['a', 'b']],
        [2, 'c', ['a', 'b', 'c']],
      ] as const) {
        const saved = await persister.load('', id, sequenceId);
        assert.ok(saved, `step ${sequenceId} was saved`);
        assert.equal(saved.sequenceId, sequenceId);
        assert.equal(saved.position, position);
        assert.equal(saved.status, 'completed');
        assert.equal(saved.appId, id);
        assert.deepEqual(saved.state.toObject(), { trail });
      }
      const latest = await persister.load('', id);
      assert.equal(latest?.sequenceId, 2);
      assert.equal(latest?.position, 'c');
      assert.equal(await persister.load('', id, 3), null);
      assert.equal(await persister.load('other-partition', id), null);
    });

    it('a new application with the same appId continues at the next action', async () => {
      const id = appId('continue');
      const first = resumed(id);
      assert.equal((await first.run({ haltAfter: ['a'] })).action, 'a');
      const second = resumed(id);
      await second.ready();
      assert.equal(second.nextAction(), 'b');
      assert.equal(second.sequenceId, 0);
      assert.equal(second.position, 'a');
      const seen: string[] = [];
      for await (const step of second.iterate()) seen.push(step.action!);
      assert.deepEqual(seen, ['b', 'c']);
      assert.deepEqual(second.state.get('trail'), ['default', 'a', 'b', 'c']);
      assert.equal((await persister.load('', id))?.sequenceId, 2);
    });

    it('with no save it starts from the defaults', async () => {
      const app = resumed(appId('fresh'));
      const first = await app.step();
      assert.equal(first?.action, 'a');
      assert.deepEqual(first?.state.get('trail'), ['default', 'a']);
      assert.equal(app.sequenceId, 0);
    });

    it('a failed step is saved as failed and runs again after initializeFrom', async () => {
      const id = appId('failed');
      let fail = true;
      const flakyB = action({ reads: ['trail'], writes: ['trail'] }, (state) => {
        if (fail) throw new Error('b broke');
        return state.update({ trail: [...state.get('trail'), 'b'] });
      });
      const build = () =>
        new ApplicationBuilder()
          .withActions({ a: mark('a'), b: flakyB, c: mark('c') })
          .withTransitions(['a', 'b'], ['b', 'c'])
          .initializeFrom(persister, {
            resumeAtNextAction: true,
            defaultState: { trail: [] },
            defaultEntrypoint: 'a',
          })
          .withStatePersister(persister)
          .withIdentifiers({ appId: id })
          .build();
      await assert.rejects(build().run(), /b broke/);
      const saved = await persister.load('', id);
      assert.equal(saved?.status, 'failed');
      assert.equal(saved?.position, 'b');
      assert.equal(saved?.sequenceId, 1);
      assert.deepEqual(saved?.state.toObject(), { trail: ['a'] }, 'the state b started from');

      fail = false;
      const again = build();
      await again.ready();
      assert.equal(again.nextAction(), 'b');
      assert.equal(again.sequenceId, 0, 'the last step taken is a');
      const firstStep = await again.step();
      assert.equal(firstStep?.action, 'b');
      assert.equal(again.sequenceId, 1, 'the retry keeps the failed step’s id');
      const retried = await persister.load('', id, 1);
      assert.equal(retried?.status, 'completed', 'its save replaces the failed one');
      assert.deepEqual(retried?.state.toObject(), { trail: ['a', 'b'] });
      assert.equal((await again.run()).action, 'c');
      assert.deepEqual(again.state.get('trail'), ['a', 'b', 'c']);
      const latest = await persister.load('', id);
      assert.equal(latest?.status, 'completed');
      assert.equal(latest?.position, 'c');
      assert.equal(latest?.sequenceId, 2);
    });

    it('a failed first step runs again under id 0, whatever resumeAtNextAction says', async () => {
      const id = appId('failed-first');
      let fail = true;
      const flakyA = action({ reads: ['trail'], writes: ['trail'] }, (state) => {
        if (fail) throw new Error('a broke');
        return state.update({ trail: [...state.get('trail'), 'a'] });
      });
      const build = (resumeAtNextAction: boolean) =>
        new ApplicationBuilder()
          .withActions({ a: flakyA, b: mark('b') })
          .withTransitions(['a', 'b'])
          .initializeFrom(persister, {
            resumeAtNextAction,
            defaultState: { trail: [] },
            defaultEntrypoint: 'b',
          })
          .withStatePersister(persister)
          .withIdentifiers({ appId: id })
          .build();
      const first = new ApplicationBuilder()
        .withActions({ a: flakyA, b: mark('b') })
        .withState({ trail: ['start'] })
        .withEntrypoint('a')
        .withStatePersister(persister)
        .withIdentifiers({ appId: id })
        .build();
      await assert.rejects(first.run(), /a broke/);
      assert.equal((await persister.load('', id))?.status, 'failed');
      fail = false;
      const app = build(false);
      await app.ready();
      assert.equal(app.nextAction(), 'a', 'the failed step, not defaultEntrypoint');
      assert.equal(app.sequenceId, undefined);
      assert.deepEqual(app.state.get('trail'), ['start']);
      const outcome = await app.run();
      assert.equal(outcome.action, 'b');
      assert.deepEqual(outcome.state.get('trail'), ['start', 'a', 'b']);
      assert.equal((await persister.load('', id, 0))?.status, 'completed');
      assert.equal((await persister.load('', id))?.sequenceId, 1);
    });

    it('resumeAtNextAction false starts at defaultEntrypoint with the saved state', async () => {
      const id = appId('restart');
      await resumed(id).run({ haltAfter: ['b'] });
      const app = resumed(id, { resumeAtNextAction: false });
      await app.ready();
      assert.equal(app.nextAction(), 'a');
      assert.deepEqual(app.state.get('trail'), ['default', 'a', 'b']);
      const outcome = await app.run({ haltAfter: ['a'] });
      assert.equal(outcome.action, 'a');
      assert.deepEqual(outcome.state.get('trail'), ['default', 'a', 'b', 'a']);
    });

    it('forkFromAppId loads another application’s state and leaves it alone', async () => {
      const origin = appId('origin');
      const fork = appId('fork');
      await resumed(origin).run({ haltAfter: ['a'] });
      const app = abc()
        .initializeFrom(persister, {
          defaultState: { trail: ['default'] },
          defaultEntrypoint: 'a',
          forkFromAppId: origin,
        })
        .withStatePersister(persister)
        .withIdentifiers({ appId: fork })
        .build();
      const outcome = await app.run();
      assert.equal(outcome.action, 'c');
      assert.deepEqual(outcome.state.get('trail'), ['default', 'a', 'b', 'c']);
      assert.equal((await persister.load('', fork))?.position, 'c');
      const kept = await persister.load('', origin);
      assert.equal(kept?.position, 'a');
      assert.deepEqual(kept?.state.toObject(), { trail: ['default', 'a'] });
    });

    it('forkFromSequenceId loads that step of the other application', async () => {
      const origin = appId('origin-seq');
      await resumed(origin).run();
      const app = abc()
        .initializeFrom(persister, {
          defaultEntrypoint: 'a',
          forkFromAppId: origin,
          forkFromSequenceId: 0,
        })
        .withIdentifiers({ appId: appId('fork-seq') })
        .build();
      await app.ready();
      assert.equal(app.nextAction(), 'b');
      assert.deepEqual(app.state.get('trail'), ['default', 'a']);
    });

    it('keeps partitions apart', async () => {
      const id = appId('parts');
      const inPartition = (partitionKey: string) =>
        abc()
          .initializeFrom(persister, { defaultState: { trail: [] }, defaultEntrypoint: 'a' })
          .withStatePersister(persister)
          .withIdentifiers({ appId: id, partitionKey })
          .build();
      await inPartition('p1').run({ haltAfter: ['b'] });
      const other = inPartition('p2');
      await other.ready();
      assert.equal(other.nextAction(), 'a');
      const same = inPartition('p1');
      await same.ready();
      assert.equal(same.nextAction(), 'c');
    });
  });
}

describePersister('MemoryStore', async () => new MemoryStore());
describePersister('SQLite', () => openStore(`sqlite:${join(folder, 'app.db')}`));
describePersister('PostgreSQL', () => openStore(schema.url));

describe('trackers', () => {
  const detail = <T>(tracker: MemoryTracker, index: number) => tracker.calls[index]!.detail as T;

  it('MemoryTracker sees start, stepStart, stepEnd and end, in order', async () => {
    const tracker = new MemoryTracker();
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withTracker(tracker)
      .withIdentifiers({ appId: 'tracked' })
      .build();
    await app.run({ haltAfter: ['b'], inputs: { x: 1 } });
    assert.deepEqual(
      tracker.calls.map((call) => call.hook),
      ['start', 'stepStart', 'stepEnd', 'stepStart', 'stepEnd', 'end'],
    );
    assert.deepEqual(tracker.appIds(), ['tracked']);
    assert.deepEqual(detail<AppState>(tracker, 0).toObject(), { trail: [] });
    const start = detail<StepStart>(tracker, 1);
    assert.equal(start.sequenceId, 0);
    assert.equal(start.action, 'a');
    assert.deepEqual(start.inputs, { x: 1 });
    assert.deepEqual(start.state.toObject(), { trail: [] });
    const end = detail<StepEnd>(tracker, 2);
    assert.equal(end.sequenceId, 0);
    assert.equal(end.action, 'a');
    assert.equal(end.error, undefined);
    assert.deepEqual(end.result, {});
    assert.deepEqual(end.state.toObject(), { trail: ['a'] });
    assert.ok(end.durationMs >= 0);
    assert.equal(detail<StepStart>(tracker, 3).sequenceId, 1);
    assert.deepEqual(detail<StepStart>(tracker, 3).inputs, { x: 1 });
    const finish = detail<ApplicationEnd>(tracker, 5);
    assert.equal(finish.action, 'b');
    assert.equal(finish.error, undefined);
    assert.deepEqual(finish.state.get('trail'), ['a', 'b']);
  });

  it('a failed step reaches stepEnd and end with its error', async () => {
    const tracker = new MemoryTracker();
    const boom = new Error('exploded');
    const broken = action({ reads: [], writes: [] }, () => {
      throw boom;
    });
    const app = new ApplicationBuilder()
      .withActions({ a: mark('a'), broken })
      .withTransitions(['a', 'broken'])
      .withEntrypoint('a')
      .withTracker(tracker)
      .build();
    await assert.rejects(app.run(), (error) => error === boom);
    assert.deepEqual(
      tracker.calls.map((call) => call.hook),
      ['start', 'stepStart', 'stepEnd', 'stepStart', 'stepEnd', 'end'],
    );
    const failed = detail<StepEnd>(tracker, 4);
    assert.equal(failed.action, 'broken');
    assert.equal(failed.sequenceId, 1);
    assert.equal(failed.error, boom);
    assert.equal(failed.result, undefined);
    assert.deepEqual(failed.state.get('trail'), ['a'], 'the state the step started from');
    const end = detail<ApplicationEnd>(tracker, 5);
    assert.equal(end.error, boom);
  });

  it('a write-check failure reaches stepEnd as a StateError', async () => {
    const tracker = new MemoryTracker();
    const sneaky = action({ reads: [], writes: [] }, (s) => s.update({ hidden: 1 }));
    const app = new ApplicationBuilder()
      .withActions({ sneaky })
      .withEntrypoint('sneaky')
      .withTracker(tracker)
      .build();
    await assert.rejects(app.run(), stateError(/'sneaky'/, /'hidden'/));
    assert.ok(stateError(/'hidden'/)(detail<StepEnd>(tracker, 2).error));
  });

  it('a standalone step() calls only the step hooks, as the Tracker docs say', async () => {
    const tracker = new MemoryTracker();
    const app = abc().withState({ trail: [] }).withEntrypoint('a').withTracker(tracker).build();
    await app.step();
    assert.deepEqual(
      tracker.calls.map((call) => call.hook),
      ['stepStart', 'stepEnd'],
    );
  });

  it('a tracker may implement only some hooks', async () => {
    const ends: string[] = [];
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withTracker({ onStepEnd: (_app, step) => ends.push(step.action) })
      .build();
    await app.run();
    assert.deepEqual(ends, ['a', 'b', 'c']);
  });
});

describe('events', () => {
  type AppEvent = AppStartEvent | AppStepEvent | AppEndEvent;
  const isApp = (event: { type: string }): event is AppEvent => event.type.startsWith('app:');

  it('inside withRun, the bus hears app:start, app:step and app:end, and the store keeps them', async () => {
    const store = new MemoryStore();
    after(() => store.close());
    const runId = 'app-events';
    const appId = 'evented';
    const heard: AppEvent[] = [];
    const off = events.on((event) => {
      if (isApp(event) && event.appId === appId) heard.push(event);
    });
    try {
      await withRun({ store, runId }, async () => {
        const app = abc()
          .withState({ trail: [] })
          .withEntrypoint('a')
          .withIdentifiers({ appId, partitionKey: 'pk' })
          .build();
        await app.run({ haltAfter: ['b'] });
      });
    } finally {
      off();
    }
    assert.deepEqual(
      heard.map((event) => [event.type, event.type === 'app:step' ? event.action : undefined]),
      [
        ['app:start', undefined],
        ['app:step', 'a'],
        ['app:step', 'b'],
        ['app:end', undefined],
      ],
    );
    const [start, stepA, stepB, end] = heard as [
      AppStartEvent,
      AppStepEvent,
      AppStepEvent,
      AppEndEvent,
    ];
    assert.equal(start.partitionKey, 'pk');
    assert.equal(start.parentAppId, undefined);
    assert.equal(stepA.sequenceId, 0);
    assert.equal(stepB.sequenceId, 1);
    assert.equal(stepA.error, undefined);
    assert.equal(end.action, 'b');
    assert.equal(end.error, undefined);
    for (const event of heard) assert.ok(event.scope.startsWith(`${runId}/`), event.scope);

    const kept = (await store.listEvents(runId))
      .filter(isApp)
      .filter((event) => event.appId === appId);
    assert.deepEqual(
      kept.map((event) => event.type),
      ['app:start', 'app:step', 'app:step', 'app:end'],
    );
  });

  it('a failed step is an app:step and app:end with its error, kept in wire form', async () => {
    const store = new MemoryStore();
    after(() => store.close());
    const runId = 'app-events-failed';
    const appId = 'evented-failed';
    const heard: AppEvent[] = [];
    const off = events.on((event) => {
      if (isApp(event) && event.appId === appId) heard.push(event);
    });
    const broken = action({ reads: [], writes: [] }, () => {
      throw new Error('no luck');
    });
    try {
      await assert.rejects(
        withRun({ store, runId }, () =>
          new ApplicationBuilder()
            .withActions({ broken })
            .withEntrypoint('broken')
            .withIdentifiers({ appId })
            .build()
            .run(),
        ),
        /no luck/,
      );
    } finally {
      off();
    }
    assert.deepEqual(
      heard.map((event) => event.type),
      ['app:start', 'app:step', 'app:end'],
    );
    assert.match(String((heard[1] as AppStepEvent).error), /no luck/);
    const kept = (await store.listEvents(runId))
      .filter(isApp)
      .filter((event) => event.appId === appId);
    const step = kept.find((event): event is AppStepEvent => event.type === 'app:step');
    assert.ok(step);
    assert.equal(step.action, 'broken');
    assert.match((step.error as { message: string }).message, /no luck/);
  });

  it('an application run in two runs in turn reports each run to its own store', async () => {
    const store = new MemoryStore();
    after(() => store.close());
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withIdentifiers({ appId: 'evented-twice' })
      .build();
    await withRun({ store, runId: 'app-first' }, () => app.run({ haltAfter: ['a'] }));
    await withRun({ store, runId: 'app-second' }, () => app.run({ haltAfter: ['b'] }));
    const types = async (runId: string) =>
      (await store.listEvents(runId)).filter(isApp).map((event) => event.type);
    assert.deepEqual(await types('app-first'), ['app:start', 'app:step', 'app:end']);
    assert.deepEqual(await types('app-second'), ['app:start', 'app:step', 'app:end']);
  });

  it('outside withRun, the events go to the shared bus', async () => {
    const appId = 'evented-bare';
    const types: string[] = [];
    const off = events.on((event) => {
      if (isApp(event) && event.appId === appId) types.push(event.type);
    });
    try {
      await abc()
        .withState({ trail: [] })
        .withEntrypoint('a')
        .withIdentifiers({ appId })
        .build()
        .run();
    } finally {
      off();
    }
    assert.deepEqual(types, ['app:start', 'app:step', 'app:step', 'app:step', 'app:end']);
  });
});

// ---------------------------------------------------------------------------------------
// Review fixes.

describe('review fixes', () => {
  /** A loader whose saved state is `{ count: 5 }` after step 2 of `count`. */
  const savedFive = {
    async load(partitionKey: string, appId: string) {
      return {
        partitionKey,
        appId,
        sequenceId: 2,
        position: 'count',
        state: State.of({ count: 5 }),
        status: 'completed' as const,
        createdAt: 0,
      };
    },
  };
  const counter = () =>
    new ApplicationBuilder()
      .withActions({ count: increment })
      .withTransitions(['count', 'count', expr('count < 7')]);

  it('a throwing onApplicationStart fails the run and leaves the application usable', async () => {
    const hookError = new Error('tracker down');
    let failures = 1;
    const app = abc()
      .withState({ trail: [] })
      .withEntrypoint('a')
      .withTracker({
        onApplicationStart() {
          if (failures-- > 0) throw hookError;
        },
      })
      .build();
    await assert.rejects(app.run(), (error) => error === hookError);
    const { state } = await app.run();
    assert.deepEqual(state.get('trail'), ['a', 'b', 'c']);
  });

  it('a failed step whose failed save throws still throws its own error and ends the step', async () => {
    const boom = new Error('the action broke');
    const broken = action({ reads: [], writes: [] }, () => {
      throw boom;
    });
    const tracker = new MemoryTracker();
    const app = new ApplicationBuilder()
      .withActions({ broken })
      .withEntrypoint('broken')
      .withIdentifiers({ appId: 'unsaved' })
      .withTracker(tracker)
      .withStatePersister({
        async save() {
          throw new Error('store unreachable');
        },
      })
      .build();
    const warned = once(process, 'warning');
    await assert.rejects(app.run(), (error) => error === boom);
    const [warning] = (await warned) as [Error & { code?: string }];
    assert.equal(warning.code, 'WEFT_APP_SAVE_FAILED');
    assert.match(warning.message, /'unsaved'/);
    assert.match(warning.message, /store unreachable/);
    const stepEnd = tracker.calls.find((call) => call.hook === 'stepEnd');
    assert.equal((stepEnd?.detail as StepEnd | undefined)?.error, boom);
  });

  it('ready() tries again after a failed load', async () => {
    let failures = 1;
    const app = counter()
      .initializeFrom(
        {
          async load(partitionKey, appId) {
            if (failures-- > 0) throw new Error('store briefly down');
            return savedFive.load(partitionKey, appId);
          },
        },
        { defaultEntrypoint: 'count' },
      )
      .build();
    await assert.rejects(app.ready(), /store briefly down/);
    await app.ready();
    assert.equal(app.state.get('count'), 5);
    assert.equal(app.sequenceId, 2);
  });

  it('state, sequenceId, position and nextAction() ask for ready() until the save is loaded', async () => {
    const app = counter()
      .initializeFrom(savedFive, { defaultEntrypoint: 'count', defaultState: { count: 0 } })
      .build();
    const notLoaded = invalid(/await app\.ready\(\) first/, /initializeFrom/);
    assert.throws(() => app.state, notLoaded);
    assert.throws(() => app.sequenceId, notLoaded);
    assert.throws(() => app.position, notLoaded);
    assert.throws(() => app.nextAction(), notLoaded);
    await app.ready();
    assert.equal(app.state.get('count'), 5);
    assert.equal(app.sequenceId, 2);
    assert.equal(app.position, 'count');
    assert.equal(app.nextAction(), 'count');
    // Without initializeFrom there is nothing to wait for.
    const plain = counter().withState({ count: 0 }).withEntrypoint('count').build();
    assert.equal(plain.state.get('count'), 0);
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
