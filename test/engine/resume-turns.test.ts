/**
 * A resume lets the event loop turn: with a store that answers at once, replaying stored
 * outputs never runs into the next turn, so a resume of millions of tasks would hold back
 * timers (the lease's renewals, progress) until it ended. Lookups send at most
 * `batchesPerTurn` batches in a turn.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, map, task, withRun } from 'weftjs';
import { batchesPerTurn, lookahead, lookupBatch } from '../../src/core/resume.ts';

const count = 3 * batchesPerTurn * lookupBatch;
let executed = 0;
const double = task('resume-turns:double', (i: number) => {
  executed++;
  return 2 * i;
});

/** What `read` counted between two turns of the event loop, from the call until `stop()`. */
function turns(read: () => number): { gaps: number[]; stop(): void } {
  const gaps: number[] = [];
  let last = read();
  let stopped = false;
  const turn = () => {
    if (stopped) return;
    gaps.push(read() - last);
    last = read();
    setImmediate(turn);
  };
  setImmediate(turn);
  return {
    gaps,
    stop: () => {
      stopped = true;
      gaps.push(read() - last);
    },
  };
}

describe('a resume lets the event loop turn', () => {
  for (const form of ['collected', 'streamed'] as const) {
    it(`${form}: timers run every few lookups, not once the resume is over`, async () => {
      const store = new MemoryStore();
      const items = Array.from({ length: count }, (_, i) => i);
      await withRun({ store, runId: form }, () => map(items, double));
      assert.equal(executed, count);
      executed = 0;
      let read = 0;
      let looked = 0;
      const seen = turns(() => looked);
      const counting = Object.create(store) as MemoryStore;
      counting.findCompleted = (runId, keys) => {
        looked += keys.length;
        return store.findCompleted(runId, keys);
      };
      try {
        await withRun({ store: counting, runId: form }, async () => {
          if (form === 'collected') {
            read = (await map(items, double)).length;
            return;
          }
          for await (const output of map(items, double)) assert.equal(output, 2 * read++);
        });
      } finally {
        seen.stop();
      }
      assert.equal(read, count);
      assert.equal(executed, 0);
      assert.equal(looked, count);
      // Keys looked up between two turns: a turn's batches, and those filled meanwhile.
      const most = Math.max(...seen.gaps);
      assert.ok(
        most <= batchesPerTurn * lookupBatch + lookahead,
        `${most} keys looked up in one turn (turns: ${seen.gaps.length})`,
      );
    });
  }
});
