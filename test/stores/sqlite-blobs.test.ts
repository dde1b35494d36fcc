/**
 * The SQLite store keeps small artifacts in the database and those over its threshold as
 * files named by the SHA-256 of their bytes (`blobs/ab/abcdef…` beside the database),
 * written before the transaction that names them: identical values are stored once, a
 * file gone reads as missing (and is not listed, so a flow's re-run writes it again), and
 * a file damaged in place is replaced when the value is written again.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { asyncPool, isWeftError, type TaskRecord } from 'weftjs';
import { Flow, ForEach, Parameter } from 'weftjs/flow';
import { SqliteStore } from 'weftjs/sqlite';
import { sqliteDialect } from '../../src/stores/sql/dialect.ts';
import { createMetaTable, migrations } from '../../src/stores/sql/migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-blobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A fresh database file, in a folder of its own (its blobs beside it). */
function fresh(): { file: string; blobs: string } {
  const folder = join(dir, `store-${++files}`);
  return { file: join(folder, 'weft.db'), blobs: join(folder, 'blobs') };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `size` bytes that differ with `seed`. */
function bytes(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);
}

function record(key: string, artifacts: TaskRecord['artifacts']): TaskRecord {
  const base = { key, task: 't', status: 'completed', attempts: 1, startedAt: 1, durationMs: 1 };
  return { ...base, output: key, artifacts } as TaskRecord;
}

async function listed(store: SqliteStore, runId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.artifactKeys(runId)) keys.push(key);
  return keys.sort();
}

/** Every blob file under `blobs`, by name. */
function blobFiles(blobs: string): string[] {
  if (!existsSync(blobs)) return [];
  return readdirSync(blobs, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

/** The `data` length and `blob` of an artifact's row, read by a connection of its own. */
function row(file: string, runId: string, key: string) {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare('SELECT length(data) AS bytes, blob FROM artifacts WHERE run_id = ? AND key = ?')
      .get(runId, key) as { bytes: number; blob: string | null } | undefined;
  } finally {
    db.close();
  }
}

describe('SQLite artifacts: small ones in the database, large ones as files', () => {
  it('a value over 64 KiB is a file named by its SHA-256; identical values share it', async () => {
    const { file, blobs } = fresh();
    const store = await SqliteStore.open(file);
    try {
      await store.openRun('a');
      await store.openRun('b');
      const large = bytes(64 * 1024 + 1, 1);
      const exactly = bytes(64 * 1024, 2);
      await store.recordTasks('a', [
        record('t/0', [
          { key: 'large', data: large },
          { key: 'small', data: Uint8Array.of(1, 2) },
          { key: 'at the threshold', data: exactly },
        ]),
        record('t/1', [{ key: 'same again', data: large }]),
      ]);
      await store.putArtifact('b', 'other run', large);
      const name = sha256(large);
      assert.equal(store.artifactsLocation, blobs);
      assert.deepEqual(blobFiles(blobs), [name], 'one file, for the one value over the threshold');
      assert.deepEqual(readFileSync(join(blobs, name.slice(0, 2), name)), Buffer.from(large));
      assert.deepEqual(row(file, 'a', 'large'), { bytes: 0, blob: name });
      assert.deepEqual(row(file, 'a', 'small'), { bytes: 2, blob: null });
      assert.deepEqual(row(file, 'a', 'at the threshold'), { bytes: 64 * 1024, blob: null });
      for (const [runId, key] of [
        ['a', 'large'],
        ['a', 'same again'],
        ['b', 'other run'],
      ] as const) {
        assert.deepEqual(await store.getArtifact(runId, key), large, `${runId} ${key}`);
      }
      assert.deepEqual(await store.getArtifact('a', 'at the threshold'), exactly);
      assert.deepEqual(await listed(store, 'a'), [
        'at the threshold',
        'large',
        'same again',
        'small',
      ]);
      // Replaced by a small value: the row holds it, the file stays for the rows that name it.
      await store.putArtifact('a', 'large', Uint8Array.of(9));
      assert.deepEqual(await store.getArtifact('a', 'large'), Uint8Array.of(9));
      assert.deepEqual(row(file, 'a', 'large'), { bytes: 1, blob: null });
      assert.deepEqual(await store.getArtifact('b', 'other run'), large);
    } finally {
      await store.close();
    }
  });

  it('blobThresholdBytes and artifactsDir choose the size and the folder; null keeps everything in the database', async () => {
    const { file, blobs } = fresh();
    const elsewhere = join(dir, `elsewhere-${files}`);
    let store = await SqliteStore.open(file, { artifactsDir: elsewhere, blobThresholdBytes: 10 });
    try {
      await store.openRun('r');
      await store.putArtifact('r', 'ten', bytes(10, 3));
      await store.putArtifact('r', 'eleven', bytes(11, 3));
      assert.deepEqual(blobFiles(elsewhere), [sha256(bytes(11, 3))]);
      assert.equal(store.artifactsLocation, elsewhere);
    } finally {
      await store.close();
    }
    store = await SqliteStore.open(file, { artifactsDir: null });
    try {
      assert.equal(store.artifactsLocation, undefined);
      const mega = bytes(1024 * 1024, 4);
      await store.putArtifact('r', 'mega', mega);
      assert.deepEqual(row(file, 'r', 'mega'), { bytes: mega.length, blob: null });
      assert.deepEqual(await store.getArtifact('r', 'mega'), mega);
      assert.equal(existsSync(blobs), false, 'no file written');
    } finally {
      await store.close();
    }
    await assert.rejects(
      SqliteStore.open(file, { blobThresholdBytes: -1 }),
      (error: unknown) =>
        isWeftError(error, 'WEFT_VALIDATION') && /blobThresholdBytes/.test(String(error)),
    );
  });

  it('a file gone reads as missing and is not listed; writing the value again restores it', async () => {
    const { file, blobs } = fresh();
    const store = await SqliteStore.open(file);
    try {
      await store.openRun('r');
      const large = bytes(100_000, 5);
      await store.putArtifact('r', 'large', large);
      await store.putArtifact('r', 'small', Uint8Array.of(1));
      const name = sha256(large);
      rmSync(join(blobs, name.slice(0, 2), name));
      assert.equal(await store.getArtifact('r', 'large'), undefined);
      assert.deepEqual(await listed(store, 'r'), ['small']);
      await store.putArtifact('r', 'large', large);
      assert.deepEqual(await store.getArtifact('r', 'large'), large);
      assert.deepEqual(await listed(store, 'r'), ['large', 'small']);
    } finally {
      await store.close();
    }
  });

  it('a file damaged in place is replaced when its value is written again', async () => {
    const { file, blobs } = fresh();
    const store = await SqliteStore.open(file);
    try {
      await store.openRun('r');
      const large = bytes(100_000, 6);
      const path = join(blobs, sha256(large).slice(0, 2), sha256(large));
      await store.putArtifact('r', 'large', large);
      for (const damage of [Buffer.alloc(large.length), Buffer.from(large).subarray(1)]) {
        writeFileSync(path, damage);
        assert.deepEqual(await store.getArtifact('r', 'large'), new Uint8Array(damage));
        await store.putArtifact('r', 'again', large);
        assert.deepEqual(readFileSync(path), Buffer.from(large));
      }
    } finally {
      await store.close();
    }
  });

  it('a write fenced out, or to a store opened for reading, writes no file', async () => {
    const { file, blobs } = fresh();
    const store = await SqliteStore.open(file);
    try {
      await store.openRun('r', {}, { owner: 'holder' });
      await assert.rejects(
        store.recordTasks('r', [record('t', [{ key: 'k', data: bytes(70_000, 7) }])], 'other'),
        (error: unknown) => isWeftError(error, 'WEFT_RUN_BUSY'),
      );
      await assert.rejects(
        store.recordTasks('never', [record('t', [{ key: 'k', data: bytes(70_000, 7) }])]),
        /does not exist/,
      );
      assert.deepEqual(blobFiles(blobs), []);
      assert.deepEqual(await store.listTasks('r'), []);
    } finally {
      await store.close();
    }
    const reader = await SqliteStore.openExisting(file);
    assert.ok(reader);
    try {
      await assert.rejects(reader.putArtifact('r', 'k', bytes(70_000, 8)), /reading only/);
      assert.deepEqual(blobFiles(blobs), []);
    } finally {
      await reader.close();
    }
  });

  it('writes keep the order they were asked in, large or small', async () => {
    const { file } = fresh();
    const store = await SqliteStore.open(file);
    try {
      await store.openRun('r');
      // The large write waits for its file; the small one asked after it must not win first.
      await Promise.all([
        store.putArtifact('r', 'k', bytes(80_000, 9)),
        store.recordTasks('r', [record('t', [{ key: 'k', data: Uint8Array.of(1) }])]),
        store.putArtifact('r', 'j', Uint8Array.of(2)),
        store.putArtifact('r', 'j', bytes(90_000, 10)),
      ]);
      assert.deepEqual(await store.getArtifact('r', 'k'), Uint8Array.of(1));
      assert.deepEqual(await store.getArtifact('r', 'j'), bytes(90_000, 10));
    } finally {
      await store.close();
    }
  });
});

describe('a database of schema version 5, whose artifacts were rows of a table with a rowid', () => {
  it('keeps every artifact when migrated, and lists and reads them as before', async () => {
    const file = join(dir, 'v5.db');
    const db = new Database(file);
    try {
      for (const sql of [
        createMetaTable,
        ...migrations.filter((m) => m.version <= 5).flatMap((m) => m.statements(sqliteDialect)),
        "INSERT INTO weft_meta (name, value) VALUES ('schema_version', '5')",
        "INSERT INTO runs (id, status, created_at, updated_at, attempts, meta) VALUES ('old', 'completed', 1, 2, 1, '[{}]')",
        "INSERT INTO artifacts (run_id, key, data) VALUES ('old', 'a/0', X'0102'), ('old', 'a/1', X'')",
        // A key with a NUL, stored escaped.
        "INSERT INTO artifacts (run_id, key, data) VALUES ('old', '\uFFFF~nul%0000key', X'03')",
      ]) {
        db.prepare(sql).run();
      }
    } finally {
      db.close();
    }
    const store = await SqliteStore.open(file);
    try {
      assert.deepEqual(await store.getArtifact('old', 'a/0'), Uint8Array.of(1, 2));
      assert.deepEqual(await store.getArtifact('old', 'a/1'), new Uint8Array(0));
      assert.deepEqual(await store.getArtifact('old', 'nul\0key'), Uint8Array.of(3));
      assert.deepEqual(await listed(store, 'old'), ['a/0', 'a/1', 'nul\0key']);
      await store.putArtifact('old', 'a/0', bytes(70_000, 11));
      assert.deepEqual(await store.getArtifact('old', 'a/0'), bytes(70_000, 11));
    } finally {
      await store.close();
    }
  });
});

describe('a flow whose values are files', () => {
  const executor = asyncPool({ concurrency: 4 });
  after(() => executor.close());

  /** Shard → ForEach Big (each task sets a 100 KB string) → Sizes; counts executions. */
  function bigFlow(label: string) {
    const ran: number[] = [];
    const flow = new Flow(`Blobs${label}`, { executor });
    const Shard = flow.layer('Shard', (self) => self.shard({ x: [0, 1, 2, 3] }));
    const Big = flow.layer(
      'Big',
      { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'x' })] }) },
      (self, shard) => {
        ran.push(self.index);
        self.set({ text: String(shard.x).repeat(100_000) });
      },
      [Shard],
    );
    return { flow, Big, ran };
  }

  it('a file lost is recomputed by the re-run; one damaged is found when read and repaired by the next', async () => {
    const { file, blobs } = fresh();
    const { flow, Big, ran } = bigFlow('Repair');
    const store = await SqliteStore.open(file);
    try {
      let result = await flow.run({ store, runId: 'r' });
      assert.deepEqual(ran.splice(0).sort(), [0, 1, 2, 3]);
      assert.equal(blobFiles(blobs).length, 4);
      const blobOf = (task: number) => {
        const { blob } = row(file, 'r', `${flow.name}/Big/${task}/text`)!;
        return join(blobs, blob!.slice(0, 2), blob!);
      };
      rmSync(blobOf(1));
      writeFileSync(blobOf(2), Buffer.alloc(readFileSync(blobOf(2)).length));
      result = await flow.run({ store, runId: 'r' });
      assert.deepEqual(ran.splice(0), [1], 'the lost file is found by listing');
      const text = (await result.layer(Big)).text;
      assert.equal(((await text.at(1)) as string).length, 100_000);
      await assert.rejects(text.at(2), (error: unknown) =>
        isWeftError(error, 'WEFT_ARTIFACT_DAMAGED'),
      );
      result = await flow.run({ store, runId: 'r' });
      assert.deepEqual(ran.splice(0), [2], 'the damaged one was marked when read');
      assert.equal(await (await result.layer(Big)).text.at(2), '2'.repeat(100_000));
    } finally {
      await store.close();
    }
  });
});
