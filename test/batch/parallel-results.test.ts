/**
 * What a parallel call gives back: results in init order, whatever order items finish
 * in; each failed item's own error in its place for post; without post,
 * ParallelActionFailed once every item has run; with target for and debug, the first
 * error at once, later items never run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeftError } from 'weftjs';
import {
  anyActionFailed,
  Batch,
  inbatchParallel,
  ParallelActionFailed,
  ParallelItemError,
} from 'weftjs/batch';
import { calls, Gates, turn } from './support/conventions.ts';

/** The gates of the running test. */
let gates = new Gates();
/** The error each failing item throws, by item. */
let failures = new Map<number, unknown>();

class Gated extends Batch {
  ran: number[] = [];

  @inbatchParallel({ init: 'indices', target: 'async', post: 'keep' })
  kept(i: number) {
    return this.run(i);
  }

  @inbatchParallel({ init: 'indices', target: 'async' })
  unposted(i: number) {
    return this.run(i);
  }

  keep(results: unknown[]) {
    return results;
  }

  async run(i: number) {
    const value = await gates.enter(i, `r${i}`);
    this.ran.push(i);
    if (failures.has(i)) throw failures.get(i);
    return value;
  }
}

function fresh(failing: Record<number, unknown> = {}) {
  gates = new Gates();
  failures = new Map(Object.entries(failing).map(([item, error]) => [Number(item), error]));
}

describe('results', () => {
  it('come in init order although the items finish in reverse', async () => {
    fresh();
    const call = calls(new Gated([0, 0, 0, 0])).kept({ nWorkers: 4 });
    await gates.whenStarted(4);
    for (const item of [3, 2, 1, 0]) {
      gates.release(item);
      await turn();
    }
    assert.deepEqual(await call, ['r0', 'r1', 'r2', 'r3']);
    assert.deepEqual(gates.ended, [3, 2, 1, 0]);
  });

  it("reach post with each failed item's own error in its place", async () => {
    const broken = new Error('item 1 broke');
    fresh({ 1: broken, 3: new TypeError('item 3 broke') });
    const call = calls(new Gated([0, 0, 0, 0])).kept({ nWorkers: 4 });
    await gates.drain(4, 4);
    const results = await call;
    assert.equal(results.length, 4);
    assert.equal(results[0], 'r0');
    assert.equal(results[1], broken);
    assert.equal(results[2], 'r2');
    assert.ok(results[3] instanceof TypeError);
    assert.equal(anyActionFailed(results), true);
  });

  it('anyActionFailed is true only when some result is an Error', () => {
    assert.equal(anyActionFailed([]), false);
    assert.equal(anyActionFailed([1, 'a', null, { message: 'x' }]), false);
    assert.equal(anyActionFailed([1, new RangeError('x')]), true);
  });

  it('a thrown value that is no Error reaches post as an Error saying it', async () => {
    fresh({ 0: 'plain text' });
    const call = calls(new Gated([0])).kept();
    gates.release(0);
    const [result] = await call;
    assert.ok(result instanceof Error);
    assert.match(result.message, /plain text/);
  });
});

describe('ParallelActionFailed', () => {
  it('without post, is raised with one ParallelItemError per failed item, in init order', async () => {
    const first = new Error('two broke');
    const second = new Error('three broke');
    fresh({ 2: first, 3: second });
    const batch = calls(new Gated([0, 0, 0, 0, 0]));
    const call = batch.unposted({ nWorkers: 5 });
    await gates.whenStarted(5);
    // The later failure first: the errors still come in init order.
    for (const item of [3, 4, 2, 1, 0]) gates.release(item);
    const error = await call.then(
      () => assert.fail('the call should fail'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof ParallelActionFailed);
    assert.ok(error instanceof AggregateError);
    assert.equal(error.name, 'ParallelActionFailed');
    assert.equal(error.code, 'WEFT_PARALLEL_ACTION_FAILED');
    assert.equal(error.action, 'Gated.unposted');
    assert.equal(error.total, 5);
    assert.match(
      error.message,
      /Gated\.unposted: 2 of 5 items failed; the first, item 2: two broke/,
    );
    assert.equal(error.errors.length, 2);
    const [a, b] = error.errors;
    for (const [itemError, item, cause] of [
      [a, 2, first],
      [b, 3, second],
    ] as const) {
      assert.ok(itemError instanceof ParallelItemError);
      assert.ok(itemError instanceof WeftError);
      assert.equal(itemError.name, 'ParallelItemError');
      assert.equal(itemError.code, 'WEFT_PARALLEL_ITEM_FAILED');
      assert.equal(itemError.action, 'Gated.unposted');
      assert.equal(itemError.item, item);
      assert.equal(itemError.cause, cause);
      assert.match(
        itemError.message,
        new RegExp(`Gated\\.unposted failed on item ${item}: ${cause.message}`),
      );
    }
  });

  it('is raised only after every item has run', async () => {
    fresh({ 0: new Error('first broke') });
    const batch = calls(new Gated([0, 0, 0]));
    let settled = false;
    const call = batch.unposted({ nWorkers: 3 }).finally(() => {
      settled = true;
    });
    await gates.whenStarted(3);
    gates.release(0);
    // Item 0 failed; the call waits for the others.
    while (!gates.ended.includes(0)) await turn();
    await turn();
    assert.equal(settled, false);
    gates.release(1);
    await turn();
    assert.equal(settled, false);
    gates.release(2);
    await assert.rejects(call, ParallelActionFailed);
    assert.deepEqual(batch.ran.toSorted(), [0, 1, 2]);
  });
});

describe("target for's debug", () => {
  class Looped extends Batch {
    ran: number[] = [];

    @inbatchParallel({ init: 'indices', target: 'for', debug: true })
    debugged(i: number) {
      return this.step(i);
    }

    @inbatchParallel({ init: 'indices', target: 'for' })
    plain(i: number) {
      return this.step(i);
    }

    step(i: number) {
      this.ran.push(i);
      if (failures.has(i)) throw failures.get(i);
      return i;
    }
  }

  it('stops at the first error, which propagates as it is; later items never run', async () => {
    const broken = new RangeError('item 1 broke');
    fresh({ 1: broken, 3: new Error('never reached') });
    const batch = calls(new Looped([0, 0, 0, 0, 0]));
    await assert.rejects(batch.debugged(), (error) => error === broken);
    assert.deepEqual(batch.ran, [0, 1]);
  });

  it('without debug, every item runs one after another and the failures are gathered', async () => {
    fresh({ 1: new Error('item 1 broke'), 3: new Error('item 3 broke') });
    const batch = calls(new Looped([0, 0, 0, 0, 0]));
    await assert.rejects(batch.plain(), (error: ParallelActionFailed) => {
      assert.deepEqual(
        error.errors.map((itemError) => itemError.item),
        [1, 3],
      );
      return true;
    });
    assert.deepEqual(batch.ran, [0, 1, 2, 3, 4]);
  });
});
