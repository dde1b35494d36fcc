/**
 * A disk that fills up under the SQLite store's folder of large artifacts (a tiny tmpfs
 * where this machine allows, otherwise a read-only folder: see full-disk.ts): a flow whose
 * values are files fails with a StoreError naming the file and what to do, records no
 * task whose file is not there, loses nothing recorded before, and completes on a re-run
 * once there is room.
 */
import assert from 'node:assert/strict';
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncPool, isWeftError } from 'weftjs';
import { Flow, ForEach, Parameter } from 'weftjs/flow';
import { SqliteStore } from 'weftjs/sqlite';
import { fullDisk } from './full-disk.ts';
import { scratch } from './harness.ts';

const dir = scratch('blobs');
const disk = fullDisk(join(dir, 'disk'));
after(() => disk.dispose());
const executor = asyncPool({ concurrency: 4 });
after(() => executor.close());

const items = [0, 1, 2, 3, 4, 5];
/** Changed before each run: its values are other bytes, so new files. */
let round = 0;
const flow = new Flow('BlobDiskFull', { executor });
const Items = flow.layer('Items', (self) => self.shard({ x: items }));
const Big = flow.layer(
  'Big',
  { foreach: new ForEach({ parameters: [new Parameter({ layer: Items, attribute: 'x' })] }) },
  // 200 KB a task, other bytes in each round: over the threshold, so one file each.
  (self, items) => self.set({ text: `${round}:${items.x}`.padEnd(200_000, String(items.x)) }),
  [Items],
);

/** The first StoreError along an error's causes. */
function storeErrorIn(error: unknown): Error | undefined {
  for (let at = error; at instanceof Error; at = at.cause) {
    if (isWeftError(at, 'WEFT_STORE')) return at;
  }
  return undefined;
}

describe('a full disk under the SQLite store’s artifact files', { timeout: 120_000 }, () => {
  it('fails the run with a StoreError naming the file; nothing recorded is lost; a re-run completes once there is room', async (t) => {
    t.diagnostic(`the disk fills by: ${disk.method}`);
    const file = join(dir, 'weft.db');
    const store = await SqliteStore.open(file, { artifactsDir: disk.path });
    try {
      const first = await flow.run({ store, runId: 'before' });
      const before = await (await first.layer(Big)).text.toArray();

      round++;
      disk.fill();
      const error = await flow.run({ store, runId: 'full' }).then(
        () => assert.fail('the run succeeded on a full disk'),
        (error: unknown) => error,
      );
      const stored = storeErrorIn(error);
      assert.ok(stored, `a StoreError: ${error}`);
      t.diagnostic(stored.message);
      assert.ok(stored.message.includes(disk.path), `names the file: ${stored.message}`);
      assert.match(stored.message, /disk is not full|writable/, 'says what to do');
      const recorded = (await store.listTasks('full')).filter(
        (record) => record.task === 'Big' && record.status === 'completed',
      );
      assert.equal(recorded.length, 0, 'no task recorded without its file');

      disk.free();
      if (disk.method === 'read-only') {
        // free() gives files back their modes; the blob folders need theirs to be entered.
        for (const name of readdirSync(disk.path)) chmodSync(join(disk.path, name), 0o755);
      }
      round++;
      const again = await flow.run({ store, runId: 'before' });
      assert.deepEqual(await (await again.layer(Big)).text.toArray(), before, 'nothing lost');
      const rerun = await flow.run({ store, runId: 'full' });
      const texts = (await (await rerun.layer(Big)).text.toArray()) as string[];
      assert.deepEqual(
        texts.map((text) => text.length),
        items.map(() => 200_000),
      );
    } finally {
      await store.close();
    }
  });
});
