/**
 * Artifacts an earlier weft kept as files beside a SQLite database, one per key (the
 * `artifacts` folder): the store keeps them in the database now, and still reads those
 * files, for the keys the database does not hold, so that runs written then read and
 * re-run as they did.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { asyncPool } from 'weftjs';
import { Flow, ForEach, Parameter } from 'weftjs/flow';
import { SqliteStore } from 'weftjs/sqlite';
import { FsArtifacts } from '../../src/stores/fs-artifacts.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-legacy-artifacts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function listed(store: SqliteStore, runId: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.artifactKeys(runId, prefix)) keys.push(key);
  return keys.sort();
}

/**
 * Moves a run's artifacts out of the database into the files an earlier weft wrote for
 * them, as a database written by that weft holds them.
 */
async function asEarlierWeft(file: string, runId: string): Promise<number> {
  const db = new Database(file);
  try {
    const rows = db.prepare('SELECT key, data FROM artifacts WHERE run_id = ?').all(runId) as {
      key: string;
      data: Buffer;
    }[];
    const files = new FsArtifacts(join(dir, 'artifacts'));
    for (const { key, data } of rows) await files.put(runId, key, data);
    db.prepare('DELETE FROM artifacts WHERE run_id = ?').run(runId);
    return rows.length;
  } finally {
    db.close();
  }
}

describe('artifacts an earlier weft kept as files beside the database', () => {
  it('are read and listed for the keys the database does not hold; a key written again is read from its row', async () => {
    const file = join(dir, 'keys.db');
    let store = await SqliteStore.open(file);
    await store.openRun('r/1');
    await store.putArtifact('r/1', 'kept/0', Uint8Array.of(1));
    await store.close();
    const files = new FsArtifacts(join(dir, 'artifacts'));
    for (const [i, key] of ['old/0', 'old/1', 'Old/Capital', 'x'.repeat(300)].entries()) {
      await files.put('r/1', key, Uint8Array.of(10 + i));
    }
    await files.put('r/1', 'kept/0', Uint8Array.of(99));

    store = await SqliteStore.open(file);
    try {
      assert.deepEqual([...((await store.getArtifact('r/1', 'old/1')) ?? [])], [11]);
      assert.deepEqual([...((await store.getArtifact('r/1', 'Old/Capital')) ?? [])], [12]);
      assert.deepEqual([...((await store.getArtifact('r/1', 'x'.repeat(300))) ?? [])], [13]);
      // The row wins over the earlier file of the same key, and the key is listed once.
      assert.deepEqual([...((await store.getArtifact('r/1', 'kept/0')) ?? [])], [1]);
      assert.deepEqual(await listed(store, 'r/1'), [
        'Old/Capital',
        'kept/0',
        'old/0',
        'old/1',
        'x'.repeat(300),
      ]);
      assert.deepEqual(await listed(store, 'r/1', 'old/'), ['old/0', 'old/1']);
      await store.putArtifact('r/1', 'old/0', Uint8Array.of(7));
      assert.deepEqual([...((await store.getArtifact('r/1', 'old/0')) ?? [])], [7]);
      assert.deepEqual(await listed(store, 'r/1', 'old/'), ['old/0', 'old/1']);
      assert.equal(await store.getArtifact('r/1', 'never'), undefined);
      // Nothing new is written as a file per key.
      assert.equal(existsSync(join(dir, 'artifacts', 'r%2F1', 'never')), false);
    } finally {
      await store.close();
    }
  });

  it('a flow run written then re-runs without executing anything, and reads its values', async () => {
    const file = join(dir, 'flow.db');
    const executor = asyncPool({ concurrency: 4 });
    let executed = 0;
    const flow = new Flow('LegacyArtifacts', { executor });
    const Shard = flow.layer('Shard', (self) => {
      executed++;
      self.shard({ x: [1, 2, 3] });
    });
    const Double = flow.layer(
      'Double',
      { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'x' })] }) },
      (self, shard) => {
        executed++;
        self.set({ y: shard.x * 2 });
      },
      [Shard],
    );
    try {
      let store = await SqliteStore.open(file);
      await flow.run({ store, runId: 'legacy' });
      await store.close();
      assert.equal(executed, 4);
      assert.equal(await asEarlierWeft(file, 'legacy'), 6);

      store = await SqliteStore.open(file);
      try {
        const result = await flow.run({ store, runId: 'legacy' });
        assert.equal(executed, 4, 'nothing ran again');
        assert.deepEqual(await (await result.layer(Double)).y.toArray(), [2, 4, 6]);
      } finally {
        await store.close();
      }
    } finally {
      await executor.close();
    }
  });
});
