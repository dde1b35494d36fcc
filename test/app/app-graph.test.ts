/**
 * Graphs of actions (`weftjs/app`): graph and builder validation, and transitions with
 * `when`, `expr`, `Condition` and `defaultTransition`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, State } from 'weftjs';
import {
  ApplicationBuilder,
  action,
  Condition,
  defaultTransition,
  expr,
  GraphBuilder,
  StorePersister,
  when,
} from 'weftjs/app';
import { abc, increment, invalid, mark } from './support/app.ts';

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
