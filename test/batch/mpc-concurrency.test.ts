/**
 * Target `mpc` and the call's options: `nWorkers` caps how many items are inside their
 * function at once in the child processes, as counted by a socket the items report to,
 * and how many the pool is handed; a signal rejects the call with its reason, and the
 * items not yet started never start.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { processes } from 'weftjs';
import { calls } from './support/conventions.ts';
import { Recording } from './support/remote-executors.ts';
import { Jobs } from './support/remote-mpc.ts';
import { Door, DoorJobs } from './support/remote-turnstile.ts';

const executor = processes({ workers: 2 });
after(() => executor.close());

let door: Door;
let port: number;
beforeEach(async () => {
  door = new Door();
  port = await door.open();
});
afterEach(() => door.close());

describe('target mpc: nWorkers and signal', () => {
  it('nWorkers 1 on a pool of two processes: one item inside at a time', async () => {
    const recording = new Recording(executor);
    const call = calls(DoorJobs.of(3)).pass(port, { executor: recording, nWorkers: 1 });
    for (let k = 1; k <= 3; k++) {
      await door.whenEntered(k);
      // While an item is inside, the next one is not even handed to the pool.
      assert.equal(recording.seen.length, k);
      door.release();
    }
    assert.deepEqual(await call, [0, 1, 2]);
    assert.equal(door.peak, 1);
  });

  it('a signal rejects the call with its reason, and later items never start', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped by the test');
    const call = calls(DoorJobs.of(3)).pass(port, {
      executor,
      nWorkers: 1,
      signal: controller.signal,
    });
    await door.whenEntered(1);
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
    door.release();
    // Anything the call had sent would have started before this call's items.
    await calls(new Jobs([1, 2])).byTask(1, { executor });
    assert.equal(door.entered, 1);
  });
});
