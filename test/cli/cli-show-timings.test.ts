/**
 * `weft show` on a run whose tasks queued for one worker thread: each task's TOOK is its
 * own time and its wait is shown apart (WAITED), so the slowest tasks are the slow ones,
 * not the last ones in the queue.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { map, openStore, threads, withRun } from 'weftjs';
import { busy } from '../fixtures/timing-tasks.ts';
import { type WeftOptions, weft } from '../fixtures/weft-cli.ts';

const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'weft-cli-timings-')), 'weft.db')}`;
const inStore: WeftOptions = { env: { WEFT_STORE: url } };

/** Milliseconds from a cell such as `31 ms`, `4.20 ms` or `1.2 s`. */
function ms(cell: string): number {
  const [value, unit] = cell.trim().split(' ');
  return Number(value) * (unit === 's' ? 1000 : 1);
}

describe('weft show on threads', () => {
  before(async () => {
    const store = await openStore(url);
    const pool = threads({ workers: 1 });
    try {
      // The thread is started first, so that the waits are the queue's, not its start-up's.
      await map([1], busy, { executor: pool });
      // One long task among short ones, handed over at once to a single worker.
      await withRun({ store, runId: 'queued' }, () =>
        map([20, 20, 20, 600, 20, 20], busy, { executor: pool, concurrency: 6 }),
      );
    } finally {
      await pool.close();
      await store.close();
    }
  });

  it('lists the long task first, each with its own time and its wait apart', async () => {
    const { code, stdout, stderr } = await weft(['show', 'queued'], inStore);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    const header = lines.findIndex((line) =>
      /^\s*KEY\s+TASK\s+STATUS\s+TRIES\s+STARTED\s+TOOK\s+WAITED\s*$/.test(line),
    );
    assert.ok(header >= 0, stdout);
    const rows = lines.slice(header + 1, header + 7).map((line) => {
      const cells = line.trim().split(/\s{2,}/);
      return { key: cells[0]!, took: ms(cells.at(-2)!), waited: ms(cells.at(-1)!) };
    });
    // The task of item 3 did thirty times the work of the others: it is the slowest, though
    // items 4 and 5 waited longer.
    assert.match(rows[0]!.key, /\/3$/, stdout);
    assert.ok(rows[0]!.took >= 600, stdout);
    for (const row of rows) assert.ok(Number.isFinite(row.waited), stdout);
    // The cells are rounded (to a tenth of a second past one); the records hold the waits.
    const store = await openStore(url);
    try {
      const waits = new Map(
        (await store.listTasks('queued')).map((task) => [
          Number(task.key.split('/').at(-1)),
          task.queuedMs ?? Number.NaN,
        ]),
      );
      assert.ok(waits.get(5)! > waits.get(3)! && waits.get(3)! > waits.get(0)!, stdout);
    } finally {
      await store.close();
    }
  });
});
