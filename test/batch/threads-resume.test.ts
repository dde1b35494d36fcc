/**
 * Target `threads` in a recorded run: every item is a task recorded under
 * `<scope>/<method>/<i>`, so running again with the same run id skips the items that
 * finished and runs only those that failed.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryStore, threads, withRun } from 'weftjs';
import { calls } from './support/conventions.ts';
import { Probe } from './support/remote-batches.ts';
import { Workdir } from './support/remote-resume.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

describe('target threads in a recorded run', () => {
  it('a second run with the same run id skips the finished items', async () => {
    const work = new Workdir([2]);
    const store = new MemoryStore();
    try {
      const run = () =>
        withRun({ store, runId: 'batch-threads-resume' }, () =>
          calls(new Probe([1, 2, 3, 4])).logged(work.dir, { executor }),
        );
      const first = await run();
      assert.deepEqual([first[0], first[1], first[3]], [10, 20, 40]);
      assert.ok(first[2] instanceof Error);
      assert.equal(first[2].message, 'item 2 was told to fail');
      assert.deepEqual(work.executed(), [0, 1, 2, 3]);

      work.heal(2);
      assert.deepEqual(await run(), [10, 20, 30, 40]);
      assert.deepEqual(work.executed(), [0, 1, 2, 2, 3]);
      const keys = (await store.completedOutputs('batch-threads-resume')).keys();
      assert.deepEqual(
        [...keys].sort(),
        [0, 1, 2, 3].map((i) => `batch-threads-resume/logged/${i}`),
      );
    } finally {
      work.remove();
      await store.close();
    }
  });
});
