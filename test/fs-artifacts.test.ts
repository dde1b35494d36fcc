/** The SQLite store keeps artifacts as files beside the database, one per key. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteStore } from '../src/stores/sqlite.ts';

describe('SQLite artifacts on the filesystem', () => {
  it('writes each artifact as a file in a folder per run, and reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-artifacts-'));
    const store = await SqliteStore.open(join(dir, 'weft.db'));
    try {
      await store.openRun('r/1');
      const keys = ['flow/Shard/foo/0', '../../escape', '.', 'x'.repeat(500)];
      for (const [i, key] of keys.entries())
        await store.putArtifact('r/1', key, new Uint8Array([i, 1, 2]));
      // Everything stays inside the run's folder: no key reaches outside it.
      assert.deepEqual(readdirSync(dir).sort(), [
        'artifacts',
        'weft.db',
        'weft.db-shm',
        'weft.db-wal',
      ]);
      const runFolder = join(dir, 'artifacts', 'r%2F1');
      assert.equal(readdirSync(runFolder).length, keys.length);
      // Capitals escaped too, so that a file system ignoring case keeps 'Shard' and 'shard' apart.
      assert.deepEqual([...readFileSync(join(runFolder, 'flow%2F%53hard%2Ffoo%2F0'))], [0, 1, 2]);
      for (const [i, key] of keys.entries()) {
        assert.deepEqual([...((await store.getArtifact('r/1', key)) ?? [])], [i, 1, 2]);
      }
      assert.equal(await store.getArtifact('r/1', 'missing'), undefined);
      await store.putArtifact('r/1', 'x', new Uint8Array([9]));
      assert.deepEqual([...((await store.getArtifact('r/1', 'x')) ?? [])], [9]);
    } finally {
      await store.close();
    }
  });

  it('keeps artifacts in the database when asked to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-artifacts-'));
    const store = await SqliteStore.open(join(dir, 'weft.db'), { artifactsDir: null });
    try {
      await store.openRun('r');
      await store.putArtifact('r', 'k', new Uint8Array([7]));
      assert.deepEqual([...((await store.getArtifact('r', 'k')) ?? [])], [7]);
      assert.equal(existsSync(join(dir, 'artifacts')), false);
    } finally {
      await store.close();
    }
  });
});
