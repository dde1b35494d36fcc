/**
 * Failures and limits of parallel actions: a failing task fails the action naming it,
 * aborts its running siblings and starts nothing more, the parent waits for them; bounded
 * concurrency; one abort signal per step; messages naming the action.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { isWeftError, ValidationError } from 'weftjs';
import { action, childAppId, MemoryTracker, ParallelTaskError, type Tracker } from 'weftjs/app';
import { simpleSingleFnSubgraph } from '../fixtures/app-burr.ts';
import { deferred, Gate, whenAborted } from '../fixtures/app-parallel-sync.ts';
import { inputs3, OneActionOverNumbers, outputsOf, parentApp } from './support/parallel.ts';

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
