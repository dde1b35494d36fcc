/**
 * Keys round-trip exactly in the SQL stores and as artifact files (the conformance suite
 * covers every store; these are the reproductions and what only a database or a folder
 * shows): titles cut mid-emoji that PostgreSQL made into one row, a batch that failed on
 * them, a key too long for PostgreSQL's index, long keys a database already held before
 * keys were digested, and artifact file names that a file system ignoring case would merge.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Store, TaskRecord } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { fileName } from '../../src/stores/fs-artifact-names.ts';
import { FsArtifacts } from '../../src/stores/fs-artifacts.ts';
import { postgresDialect } from '../../src/stores/sql/dialect.ts';
import { escapeKey, keyFromStored, storedKey } from '../../src/stores/sql/key-codec.ts';
import { createMetaTable, migrations } from '../../src/stores/sql/migrations.ts';
import { oddKeys } from '../../src/testing/store-conformance-keys.ts';
import { freshPostgresSchema, queryPostgres, withSchema } from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-store-keys-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('keys');

function record(key: string, output: unknown): TaskRecord {
  return {
    key,
    task: 'summarize',
    status: 'completed',
    attempts: 1,
    startedAt: 1,
    durationMs: 2,
    output,
  };
}

async function listed(keys: AsyncIterable<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const key of keys) found.push(key);
  return found;
}

async function withStore<T>(open: Promise<Store>, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await open;
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Titles whose first 8 UTF-16 units end inside an emoji, as `itemKey: (d) => d.title.slice(0, 8)` cuts them. */
const titles = ['Crisis 😀 at sea', 'Crisis \uFFFD ahead'];
const cut = titles.map((title) => title.slice(0, 8));

const stores: Array<[string, () => Promise<Store>]> = [
  ['PostgreSQL', () => PostgresStore.open(schema.url)],
  ['SQLite', () => SqliteStore.open(join(folder, 'keys.db'))],
];

for (const [name, open] of stores) {
  describe(`${name}: keys cut mid-emoji`, () => {
    it('two keys that differ by a lone surrogate resume to their own outputs', async () => {
      assert.equal(cut[0], 'Crisis \uD83D');
      assert.equal(cut[1], 'Crisis \uFFFD');
      const runId = `cut-${randomBytes(4).toString('hex')}`;
      await withStore(open(), async (store) => {
        await store.openRun(runId);
        await store.recordTasks(runId, [record(cut[0]!, 'summary of C')]);
        await store.recordTasks(runId, [record(cut[1]!, 'summary of A')]);
      });
      await withStore(open(), async (store) => {
        const resumed = await store.findCompleted(runId, cut);
        assert.deepEqual(
          cut.map((key) => resumed.get(key)),
          ['summary of C', 'summary of A'],
        );
        assert.deepEqual(
          (await store.listTasks(runId)).map((task) => task.key),
          cut,
        );
      });
    });

    it('one batch holding both keys is written whole', async () => {
      const runId = `cut-batch-${randomBytes(4).toString('hex')}`;
      await withStore(open(), async (store) => {
        await store.openRun(runId);
        await store.recordTasks(runId, [
          record(cut[0]!, 'summary of C'),
          record(cut[1]!, 'summary of A'),
          record('Crisis \uDE00', 'summary of a low half'),
        ]);
        assert.equal(await store.countCompleted(runId), 3);
        assert.deepEqual(
          [...(await store.completedOutputs(runId)).values()],
          ['summary of C', 'summary of A', 'summary of a low half'],
        );
      });
    });
  });
}

describe('PostgreSQL: keys longer than its index takes', () => {
  it('a 20,000-byte random key is recorded, found and replaced', async () => {
    const key = randomBytes(15_000).toString('base64');
    const runId = `long-${randomBytes(4).toString('hex')}`;
    await withStore(PostgresStore.open(schema.url), async (store) => {
      await store.openRun(runId);
      await store.recordTasks(runId, [record(key, 1), record(`${key}!`, 2)]);
      await store.recordTasks(runId, [record(key, 3)]);
      assert.deepEqual([...(await store.findCompleted(runId, [key]))], [[key, 3]]);
      assert.deepEqual(
        (await store.listTasks(runId)).map((task) => task.key),
        [key, `${key}!`],
      );
      await store.putArtifact(runId, key, Uint8Array.of(7));
      assert.deepEqual([...((await store.getArtifact(runId, key)) ?? [])], [7]);
      await store.putArtifact(runId, `${key}!`, Uint8Array.of(8));
      await store.putArtifact(runId, key, Uint8Array.of(9));
      assert.deepEqual((await listed(store.artifactKeys(runId))).sort(), [key, `${key}!`]);
      assert.deepEqual(
        (await listed(store.artifactKeys(runId, key.slice(0, 3_000)))).sort(),
        [key, `${key}!`].sort(),
      );
    });
  });

  it('long keys a database held before version 4 still resume, and are not recorded twice', async () => {
    const name = `${schema.name}_v3`;
    // Compressible, so that PostgreSQL's index took it before keys were digested.
    const long = 'k'.repeat(5_000);
    const app = 'a'.repeat(3_000);
    try {
      const statements = [
        createMetaTable,
        ...migrations.filter((m) => m.version <= 3).flatMap((m) => m.statements(postgresDialect)),
        "INSERT INTO weft_meta (name, value) VALUES ('schema_version', '3')",
        "INSERT INTO runs (id, status, created_at, updated_at, attempts, meta) VALUES ('old', 'failed', 1, 2, 1, '[{}]')",
        `INSERT INTO tasks (run_id, key, task, status, attempts, started_at, duration_ms, output) VALUES ('old', '${long}', 't', 'completed', 1, 1, 1, '[4]')`,
        `INSERT INTO artifacts (run_id, key, data) VALUES ('old', '${long}', '\\x0102')`,
        `INSERT INTO checkpoints (app_id, partition_key, sequence_id, position, state, status, created_at) VALUES ('${app}', '${long}', 1, 'p', '[{}]', 'completed', 1)`,
      ];
      await queryPostgres(
        `CREATE SCHEMA ${name}; SET search_path TO ${name}; ${statements.join('; ')}`,
      );
      await withStore(PostgresStore.open(withSchema(schema.url, name)), async (store) => {
        assert.deepEqual([...(await store.findCompleted('old', [long]))], [[long, 4]]);
        assert.deepEqual([...((await store.getArtifact('old', long)) ?? [])], [1, 2]);
        // Version 4 kept only the digest of such an artifact key: it cannot be listed (a
        // flow's re-run recomputes what it holds); written again, it is.
        assert.deepEqual(await listed(store.artifactKeys('old')), []);
        await store.putArtifact('old', long, Uint8Array.of(3));
        assert.deepEqual(await listed(store.artifactKeys('old')), [long]);
        assert.equal((await store.loadCheckpoint(app, long))?.position, 'p');
        await store.recordTasks('old', [record(long, 5)]);
        const tasks = await store.listTasks('old');
        assert.deepEqual(
          tasks.map((task) => [task.key, task.output]),
          [[long, 5]],
        );
      });
    } finally {
      await queryPostgres(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    }
  });
});

describe('the key codec', () => {
  it('keeps plain keys as they are, so older databases keep resuming', () => {
    for (const key of [
      'map:square/0',
      'run-7/step:3:queryAll/task:4/gpt_4_answer',
      'café',
      '😀',
      '',
    ]) {
      assert.equal(storedKey(key, 1024), key);
    }
  });

  it('is one to one over the odd keys, and reads each back', () => {
    const keys = Object.values(oddKeys());
    for (const maxBytes of [Number.POSITIVE_INFINITY, 1024]) {
      const stored = keys.map((key) => storedKey(key, maxBytes));
      assert.equal(new Set(stored).size, keys.length, `distinct with maxBytes ${maxBytes}`);
      for (const text of stored) {
        const utf8 = Buffer.from(text, 'utf8').toString('utf8');
        assert.ok(utf8 === text && !text.includes('\0'), 'storable');
        assert.ok(Buffer.byteLength(text) <= maxBytes, 'short enough');
      }
    }
    for (const key of keys) assert.ok(keyFromStored(escapeKey(key)) === key);
  });
});

describe('artifact file names', () => {
  it('stay distinct where a file system ignores case, and reach outside no folder', () => {
    const keys = [
      ...Object.values(oddKeys()),
      'A',
      'a',
      'Shard/X',
      'shard/x',
      'CON',
      'con',
      'nul',
      'x*y',
    ];
    const names = keys.map(fileName);
    assert.equal(new Set(names.map((name) => name.toLowerCase())).size, keys.length);
    for (const name of names) {
      assert.ok(name.length <= 200, name);
      assert.match(name, /^([a-z0-9\-_~'()!]|%[0-9A-F]{2})+$/);
      assert.doesNotMatch(name, /^(con|prn|aux|nul|com\d|lpt\d)$/i);
    }
  });

  it('a shortened name is no name of a key written in full', async () => {
    const long = `flow/L/0/x/${'a'.repeat(300)}`;
    // The key whose name, unshortened, is the long key's shortened name, were it plain `~`.
    const short = decodeURIComponent(fileName(long).replace('%7E', '~'));
    assert.ok(short.length <= 200);
    assert.notEqual(fileName(short), fileName(long));
    const files = new FsArtifacts(join(folder, 'shortened-artifacts'));
    await files.put('r', long, Uint8Array.of(1));
    assert.equal(await files.get('r', short), undefined);
    await files.put('r', short, Uint8Array.of(2));
    assert.deepEqual([...((await files.get('r', long)) ?? [])], [1]);
    assert.deepEqual((await listed(files.keys('r', ''))).sort(), [long, short].sort());
  });

  it("an earlier weft's file is not read once this weft wrote the key", async () => {
    const dir = join(folder, 'stale-artifacts');
    mkdirSync(join(dir, 'nightly'), { recursive: true });
    writeFileSync(join(dir, 'nightly', 'flow%2FShard%2F0'), Uint8Array.of(5));
    const files = new FsArtifacts(dir);
    await files.put('nightly', 'flow/Shard/0', Uint8Array.of(6));
    // The new file deleted (found damaged): the artifact is missing, not the older bytes.
    rmSync(join(dir, 'nightly', fileName('flow/Shard/0')));
    assert.equal(await files.get('nightly', 'flow/Shard/0'), undefined);
    assert.deepEqual(await listed(files.keys('nightly', '')), []);
  });

  it('an artifact an earlier weft named with capitals is still read', async () => {
    const dir = join(folder, 'artifacts');
    // As an earlier weft named them: percent-encoded, capitals kept.
    mkdirSync(join(dir, 'Nightly'), { recursive: true });
    writeFileSync(join(dir, 'Nightly', 'flow%2FShard%2Ffoo%2F0'), Uint8Array.of(5));
    const files = new FsArtifacts(dir);
    assert.deepEqual([...((await files.get('Nightly', 'flow/Shard/foo/0')) ?? [])], [5]);
    await files.put('Nightly', 'flow/Shard/foo/0', Uint8Array.of(6));
    assert.deepEqual([...((await files.get('Nightly', 'flow/Shard/foo/0')) ?? [])], [6]);
    assert.ok(readdirSync(join(dir, '%4Eightly')).includes('flow%2F%53hard%2Ffoo%2F0'));
    // Listed once, whichever of its two files a read finds.
    assert.deepEqual(await listed(files.keys('Nightly', '')), ['flow/Shard/foo/0']);
  });

  it("an earlier weft's files are listed where they are read", async () => {
    const dir = join(folder, 'listed-artifacts');
    // The run's folder is named alike by both; its files were named with capitals.
    mkdirSync(join(dir, 'nightly'), { recursive: true });
    writeFileSync(join(dir, 'nightly', 'flow%2FShard%2F0'), Uint8Array.of(5));
    writeFileSync(join(dir, 'nightly', 'flow%2FShard%2F1'), Uint8Array.of(5));
    const files = new FsArtifacts(dir);
    await files.put('nightly', 'flow/Shard/1', Uint8Array.of(6));
    await files.put('nightly', 'flow/shard/2', Uint8Array.of(6));
    const keys = ['flow/Shard/0', 'flow/Shard/1', 'flow/shard/2'];
    assert.deepEqual((await listed(files.keys('nightly', ''))).sort(), keys);
    assert.deepEqual((await listed(files.keys('nightly', 'flow/S'))).sort(), keys.slice(0, 2));
    for (const key of keys) assert.ok(await files.get('nightly', key), key);
  });
});
