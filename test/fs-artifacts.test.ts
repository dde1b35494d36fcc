/** The SQLite store keeps artifacts as files beside the database, one per key. */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
      // One file per key, and beside the name shortened for length, the file of its key.
      const files = readdirSync(runFolder);
      assert.equal(files.length, keys.length + 1);
      assert.equal(files.filter((file) => file.endsWith('.key')).length, 1);
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

  it('lists the keys from the file names, and only the files of keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-artifacts-'));
    const store = await SqliteStore.open(join(dir, 'weft.db'));
    const listed = async (prefix?: string) => {
      const keys: string[] = [];
      for await (const key of store.artifactKeys('r', prefix)) keys.push(key);
      return keys.sort();
    };
    try {
      await store.openRun('r');
      const long = `${'y'.repeat(300)}/Long`;
      const keys = ['flow/Shard/0', 'con', 'a.b', long, `${long}!`];
      for (const key of keys) await store.putArtifact('r', key, Uint8Array.of(1));
      const runFolder = join(dir, 'artifacts', 'r');
      // What a write cut short leaves, and a key file whose artifact was never written.
      writeFileSync(join(runFolder, 'flow%2F%53hard%2F0.123-abcd.tmp'), 'half');
      writeFileSync(join(runFolder, `${'z'.repeat(133)}%7E${'0'.repeat(64)}.key`), 'zzz');
      mkdirSync(join(runFolder, 'folder'));
      assert.deepEqual(await listed(), keys.slice().sort());
      // By prefix, whether the names start with the prefix's name or not (a device's
      // name escaped, a name shortened for length).
      for (const prefix of [
        'co',
        'c',
        'flow/S',
        'flow/s',
        'a.',
        'y',
        long.slice(0, 250),
        long,
        'z',
      ]) {
        const expected = keys.filter((key) => key.startsWith(prefix)).sort();
        assert.deepEqual(await listed(prefix), expected, `prefix ${prefix.slice(0, 20)}`);
      }
      // A shortened name whose key file is lost cannot be named: it is not listed.
      const keyFiles = readdirSync(runFolder).filter((file) => /^y+.*\.key$/.test(file));
      assert.equal(keyFiles.length, 2);
      rmSync(join(runFolder, keyFiles[0]!));
      assert.equal((await listed()).length, keys.length - 1);
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
      const keys: string[] = [];
      for await (const key of store.artifactKeys('r')) keys.push(key);
      assert.deepEqual(keys, ['k']);
      assert.equal(existsSync(join(dir, 'artifacts')), false);
    } finally {
      await store.close();
    }
  });
});
