/**
 * On weft's own thread pools a call's items carry only its id; a worker asks for the
 * batch once on the process's broadcast channel, and the thread running the call answers
 * it alone. A worker asking after the call ended is told so, by the copy of weft that
 * made the call only, and a worker that holds a call's batch is told when the call ends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError } from 'weftjs';
import { packState, unpackState } from '../../src/batch/batch-transport.ts';
import type * as CallChannel from '../../src/batch/call-channel.ts';
import { askForCall, holdCall, newCallId, offerCall } from '../../src/batch/call-channel.ts';

const ignore = () => {};

/** Resolves the first time `onEnd` runs. */
function ending(): { onEnd(): void; ended: Promise<void> } {
  let onEnd!: () => void;
  const ended = new Promise<void>((resolve) => {
    onEnd = resolve;
  });
  return { onEnd, ended };
}

describe('call channel', () => {
  it('answers a worker asking for a call it offers, with its shared memory shared', async () => {
    const memory = new Float64Array(new SharedArrayBuffer(16));
    const id = newCallId();
    const offer = offerCall(id, packState({ memory, note: 'copied' }));
    try {
      const state = unpackState(await askForCall(id, ignore)) as {
        memory: Float64Array;
        note: string;
      };
      assert.equal(state.note, 'copied');
      state.memory[1] = 42;
      assert.equal(memory[1], 42);
    } finally {
      offer.withdraw();
    }
  });

  it('keeps calls apart: each ask gets its own call', async () => {
    const ids = [1, 2, 3].map(() => newCallId());
    const offers = ids.map((id, n) => offerCall(id, packState({ n })));
    try {
      const answers = await Promise.all(
        [2, 0, 1].map(async (n) => unpackState(await askForCall(ids[n]!, ignore))),
      );
      assert.deepEqual(answers, [{ n: 2 }, { n: 0 }, { n: 1 }]);
    } finally {
      for (const offer of offers) offer.withdraw();
    }
  });

  it('tells a worker asking for a call that ended that it ended', async () => {
    const id = newCallId();
    offerCall(id, packState({})).withdraw();
    await assert.rejects(askForCall(id, ignore), (error: Error) => {
      assert.ok(isWeftError(error, 'WEFT_BATCH_CALL_ENDED'), String(error));
      assert.match(
        error.message,
        /ended \(it was aborted or stopped\) before this worker got its batch/,
      );
      return true;
    });
  });

  it('tells the workers that asked for a call, or hold it, when it ends', async () => {
    const asked = newCallId();
    const held = newCallId();
    const offers = [offerCall(asked, packState({})), offerCall(held, packState({}))];
    const askedEnds = ending();
    const heldEnds = ending();
    // The channels do not keep a process alive (a worker's pool does): this test does.
    const alive = setInterval(() => {}, 60_000);
    try {
      await askForCall(asked, askedEnds.onEnd);
      holdCall(held, heldEnds.onEnd);
      // The caller handles a worker's messages in order: once this ask is answered, the
      // hold sent before it is registered, and the end reaches the holder as a holder.
      const check = newCallId();
      const checkOffer = offerCall(check, packState({}));
      await askForCall(check, () => {});
      checkOffer.withdraw();
      for (const offer of offers) offer.withdraw();
      await Promise.all([askedEnds.ended, heldEnds.ended]);
      // A worker that holds a call already ended is told at once.
      const late = ending();
      holdCall(held, late.onEnd);
      await late.ended;
    } finally {
      clearInterval(alive);
    }
  });

  it('answers only for its own calls: another copy of weft in the thread leaves them alone', async () => {
    // This copy listens first, so it would answer first.
    const own = offerCall(newCallId(), packState({}));
    // The same file under another URL: a second copy of the module, as when a thread
    // loads weft's sources and its build.
    const copy = new URL('../../src/batch/call-channel.ts?another-copy', import.meta.url);
    const other = (await import(copy.href)) as typeof CallChannel;
    const id = other.newCallId();
    const offer = other.offerCall(id, packState({ from: 'the other copy' }));
    try {
      for (let round = 0; round < 3; round++) {
        assert.deepEqual(unpackState(await askForCall(id, ignore)), {
          from: 'the other copy',
        });
      }
    } finally {
      offer.withdraw();
      own.withdraw();
    }
  });
});
