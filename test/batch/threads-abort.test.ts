/**
 * Target `threads` and abort: a call's signal rejects the call with its reason and starts
 * no later item. A worker that was inside an item of an aborted call, before it had asked
 * for the call's batch, is not lost to the pool: it stops waiting, so a later call uses
 * every worker, and a script that did this still ends by itself.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setDefaultExecutorFactory, threads } from 'weftjs';
import { shared } from 'weftjs/batch';
import { defaultExecutor } from '../../src/executors/from-env.ts';
import { calls } from './support/conventions.ts';
import { Probe, Rendezvous } from './support/remote-batches.ts';
import { runScript } from './support/remote-exit.ts';
import { Gated, GateKeeper } from './support/remote-gated.ts';
import { Turnstile } from './support/remote-turnstile.ts';

const pool = threads({ workers: 2 });
after(async () => {
  setDefaultExecutorFactory(defaultExecutor);
  await pool.close();
});

describe('target threads: abort', () => {
  it("rejects with the signal's reason, and later items never start", async () => {
    const turnstile = Turnstile.of(3);
    const controller = new AbortController();
    const reason = new Error('stopped by the test');
    const call = calls(turnstile).pass(10_000, {
      executor: pool,
      nWorkers: 1,
      signal: controller.signal,
    });
    await turnstile.whenEntered(1);
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
    turnstile.release();
    // Anything the call had sent would have started before this call's items.
    await calls(new Probe([1, 2])).where(1, { executor: pool });
    assert.equal(turnstile.entered, 1);
  });

  it('frees a worker that was inside an item before it asked for the batch', async () => {
    // Weft's own pool path (items carry only the call's id), on a pool of two workers.
    setDefaultExecutorFactory(() => pool);
    const gate = new GateKeeper();
    try {
      const controller = new AbortController();
      const reason = new Error('stopped while a worker imports');
      const call = calls(new Gated([1])).value({ signal: controller.signal });
      await gate.waiting;
      controller.abort(reason);
      await assert.rejects(call, (error) => error === reason);
      // Both workers take an item, also the one whose import is still held: the two
      // items meet inside the method.
      const batch = new Rendezvous(shared(new Int32Array(2)));
      const results = await calls(batch).meet(10_000);
      for (const result of results) assert.equal(typeof result, 'number', String(result));
      assert.notEqual(results[0], results[1]);
    } finally {
      // Let go, the held worker asks for the ended call's batch and is told it ended.
      gate.open();
      gate.close();
      setDefaultExecutorFactory(defaultExecutor);
    }
  });

  it('a script that aborts such a call ends by itself', async () => {
    const ended = await runScript('remote-abort-script.ts', [], 30_000);
    assert.equal(ended.timedOut, false, 'the script was still running after 30 s');
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout.trim(), 'stopped by the script');
  });
});
