/**
 * On weft's own thread pools a call's items carry only its id; a worker asks for the
 * batch once on the process's broadcast channel, and the thread running the call answers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packState, unpackState } from '../../src/batch/batch-transport.ts';
import { askForCall, offerCall } from '../../src/batch/call-channel.ts';

describe('call channel', () => {
  it('answers a worker asking for a call it offers, with its shared memory shared', async () => {
    const memory = new Float64Array(new SharedArrayBuffer(16));
    const offer = offerCall('test:1', packState({ memory, note: 'copied' }));
    try {
      const state = unpackState(await askForCall('test:1')) as {
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
    const offers = [1, 2, 3].map((n) => offerCall(`test:many:${n}`, packState({ n })));
    try {
      const answers = await Promise.all(
        [3, 1, 2].map(async (n) => unpackState(await askForCall(`test:many:${n}`))),
      );
      assert.deepEqual(answers, [{ n: 3 }, { n: 1 }, { n: 2 }]);
    } finally {
      for (const offer of offers) offer.withdraw();
    }
  });
});
