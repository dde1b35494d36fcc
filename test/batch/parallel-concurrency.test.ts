/**
 * How many items of a call run at once, measured by gates the test releases: `nWorkers`
 * caps async calls (by default at the number of cores), `for` runs one at a time; and
 * how a signal stops a call.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { Batch, inbatchParallel } from 'weftjs/batch';
import { setBatchContext } from '../../src/batch/batch.ts';
import { calls, Gates, turn } from './support/conventions.ts';

let gates = new Gates();

class Held extends Batch {
  inits = 0;

  @inbatchParallel({ init: 'indices', target: 'async' })
  async held(i: number) {
    return gates.enter(i, i);
  }

  /** Not an async function: target async awaits the promise it returns. */
  @inbatchParallel({ init: 'counted', target: 'a', post: 'keep' })
  promised(i: number) {
    return gates.enter(i, i);
  }

  /** The decorator's own cap, which a call's nWorkers overrides. */
  @inbatchParallel({ init: 'indices', target: 'async', nWorkers: 1, post: 'keep' })
  capped(i: number) {
    return gates.enter(i, i);
  }

  @inbatchParallel({ init: 'indices', target: 'f', post: 'keep' })
  looped(i: number) {
    return gates.enter(i, i);
  }

  counted() {
    this.inits++;
    return this.indices;
  }

  keep(results: unknown[]) {
    return results;
  }
}

const items = (count: number) => calls(new Held(new Array(count).fill(0)));

describe('nWorkers', () => {
  for (const cap of [1, 2, 3]) {
    it(`caps an async call at ${cap} items at once`, async () => {
      gates = new Gates();
      const call = items(6).held({ nWorkers: cap });
      await gates.drain(6, cap);
      await call;
      assert.equal(gates.peak, cap);
      assert.equal(gates.ended.length, 6);
    });
  }

  it('caps a method that returns promises on target async, as an async one', async () => {
    gates = new Gates();
    const call = items(5).promised({ nWorkers: 2 });
    await gates.drain(5, 2);
    assert.deepEqual(await call, [0, 1, 2, 3, 4]);
    assert.equal(gates.peak, 2);
  });

  it('defaults to the number of cores', async () => {
    gates = new Gates();
    const cores = availableParallelism();
    const count = cores + 2;
    const call = items(count).held();
    await gates.drain(count, cores);
    await call;
    assert.equal(gates.peak, cores);
  });

  it("given to the decorator, caps every call that gives none, and a call's own wins", async () => {
    gates = new Gates();
    // One at a time, under the default of one per core.
    let call = items(5).capped();
    await gates.drain(5, 1);
    assert.deepEqual(await call, [0, 1, 2, 3, 4]);
    assert.equal(gates.peak, 1);
    gates = new Gates();
    call = items(5).capped({ nWorkers: 3 });
    await gates.drain(5, 3);
    await call;
    assert.equal(gates.peak, 3);
  });

  it('given to the decorator, must be a whole number ≥ 1, and never reaches init or post', () => {
    assert.throws(
      () => inbatchParallel({ init: 'indices', nWorkers: 0 }),
      /inbatchParallel: nWorkers must be a whole number ≥ 1/,
    );
    let seen: unknown;
    const method = inbatchParallel(
      {
        init: 'indices',
        target: 'for',
        nWorkers: 2,
        flag: true,
        post: (_r: unknown[], named: unknown) => (seen = named),
      },
      function noop() {},
    );
    return method.call(new Batch([1])).then(() => assert.deepEqual(seen, { flag: true }));
  });

  it('may be Infinity: every item at once', async () => {
    gates = new Gates();
    const count = availableParallelism() + 3;
    const call = items(count).held({ nWorkers: Number.POSITIVE_INFINITY });
    await gates.whenStarted(count);
    assert.equal(gates.active, count);
    for (let i = 0; i < count; i++) gates.release(i);
    await call;
  });

  it('does not make target for run more than one item at once', async () => {
    gates = new Gates();
    const call = items(4).looped({ nWorkers: 4 });
    await gates.drain(4, 1);
    assert.deepEqual(await call, [0, 1, 2, 3]);
    assert.equal(gates.peak, 1);
    assert.deepEqual(gates.started, [0, 1, 2, 3]);
  });
});

describe('signal', () => {
  it('stops new items; the call rejects with its reason', async () => {
    gates = new Gates();
    const controller = new AbortController();
    const reason = new Error('stop now');
    const call = items(4).held({ nWorkers: 1, signal: controller.signal });
    await gates.whenStarted(1);
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
    // The item running when the call stopped finishes; no other starts.
    gates.release(0);
    while (gates.ended.length === 0) await turn();
    await turn();
    assert.deepEqual(gates.started, [0]);
  });

  it('already aborted: the call rejects with its reason before the init runs', async () => {
    gates = new Gates();
    const batch = items(3);
    const reason = new Error('too late');
    await assert.rejects(
      batch.promised({ signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    assert.equal(batch.inits, 0);
    assert.deepEqual(gates.started, []);
  });

  it("of the batch's context stops the call when the call gives none", async () => {
    gates = new Gates();
    const controller = new AbortController();
    const batch = items(3);
    setBatchContext(batch, { signal: controller.signal });
    const call = batch.held({ nWorkers: 1 });
    await gates.whenStarted(1);
    controller.abort();
    await assert.rejects(call, { name: 'AbortError' });
    gates.release(0);
    await turn();
    assert.deepEqual(gates.started, [0]);
  });

  it("given to the call, wins over the batch's context", async () => {
    gates = new Gates();
    const batch = items(2);
    setBatchContext(batch, { signal: AbortSignal.abort() });
    const call = batch.held({ signal: new AbortController().signal });
    await gates.drain(2, 2);
    await call;
  });
});
