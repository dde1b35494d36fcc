/**
 * Target `mpc` in a recorded run (on SQLite): every item is a task recorded under
 * `<scope>/<method>/<i>`, so running again with the same run id skips the items that
 * finished, in the function's child processes as well.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { processes, withRun } from 'weftjs';
import { SqliteStore } from 'weftjs/sqlite';
import { calls } from './support/conventions.ts';
import { Jobs } from './support/remote-mpc.ts';
import { Workdir } from './support/remote-resume.ts';

const executor = processes({ workers: 2 });
after(() => executor.close());

describe('target mpc in a recorded run', () => {
  it('a second run with the same run id skips the finished items', async () => {
    const work = new Workdir([1, 3]);
    const store = await SqliteStore.open(join(work.dir, 'weft.db'));
    try {
      const run = () =>
        withRun({ store, runId: 'batch-mpc-resume' }, () =>
          calls(new Jobs([0, 1, 2, 3])).logged(work.dir, { executor }),
        );
      const first = await run();
      assert.deepEqual([first[0], first[2]], [0, 20]);
      assert.ok(first[1] instanceof Error && first[3] instanceof Error);
      assert.deepEqual(work.executed(), [0, 1, 2, 3]);

      work.heal(1);
      const second = await run();
      assert.deepEqual(second.slice(0, 3), [0, 10, 20]);
      assert.equal(second[3].message, 'item 3 was told to fail');
      assert.deepEqual(work.executed(), [0, 1, 1, 2, 3, 3]);
    } finally {
      await store.close();
      work.remove();
    }
  });
});
