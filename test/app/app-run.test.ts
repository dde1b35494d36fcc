/**
 * Driving an application (`weftjs/app`): run, step and iterate, halts, runtime inputs,
 * sequence ids, one caller at a time, and abort signals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationBuilder, action, expr, type Inputs } from 'weftjs/app';
import { abc, deferred, invalid, mark } from './support/app.ts';

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
