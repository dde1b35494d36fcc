/**
 * Tasks that hand artifacts to their record (`withArtifacts`): on every store the
 * artifacts are there exactly when the task's record is, a task whose artifact the store
 * refuses fails alone (its group's other records are written), and PostgreSQL writes a
 * group larger than one statement takes in one transaction.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  asyncPool,
  isWeftError,
  MemoryStore,
  map,
  type Store,
  type TaskRecord,
  task,
  withRun,
} from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { withArtifacts } from '../../src/core/staged.ts';
import type { ArtifactWrite } from '../../src/core/store.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-record-artifacts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const schema = freshPostgresSchema('recordartifacts');
const executor = asyncPool({ concurrency: 8 });
after(() => executor.close());

const stores: [string, () => Promise<Store>][] = [
  ['memory', async () => new MemoryStore()],
  ['sqlite', () => SqliteStore.open(join(dir, 'weft.db'))],
  ['postgres', () => PostgresStore.open(schema.url)],
];

/** Item 3's artifact is refused: its bytes are not bytes. */
const staging = task('test:recordArtifacts', (i: number) =>
  withArtifacts(i * 10, [
    {
      key: `item/${i}`,
      data: (i === 3 ? [i] : Uint8Array.of(i)) as unknown as Uint8Array,
    },
    // Over the SQLite store's threshold: a file, written before the record.
    { key: `item/${i}/large`, data: new Uint8Array(70_000).fill(i) },
  ]),
);

for (const [name, open] of stores) {
  describe(`tasks hand artifacts to their record: ${name}`, () => {
    it('each task recorded with its artifacts; the one refused fails alone', async () => {
      const store = await open();
      const runId = `staged-${name}-${process.pid}`;
      try {
        const outcomes = await withRun({ store, runId }, () =>
          map([0, 1, 2, 3, 4, 5], staging, { executor, onError: 'collect' }),
        );
        assert.deepEqual(
          outcomes.map((outcome) => (outcome instanceof Error ? 'failed' : outcome)),
          [0, 10, 20, 'failed', 40, 50],
        );
        const refused = outcomes[3] as Error & { cause?: unknown };
        const cause = isWeftError(refused, 'WEFT_SERIALIZATION') ? refused : refused.cause;
        assert.ok(isWeftError(cause, 'WEFT_SERIALIZATION'), `refused as unstorable: ${refused}`);
        assert.match((cause as Error).message, /'item\/3'/);
        const records = await store.listTasks(runId);
        const completed = records.filter((record) => record.status === 'completed');
        assert.equal(completed.length, 5);
        for (const i of [0, 1, 2, 4, 5]) {
          assert.deepEqual([...((await store.getArtifact(runId, `item/${i}`)) ?? [])], [i]);
          const large = await store.getArtifact(runId, `item/${i}/large`);
          assert.equal(large?.length, 70_000);
          assert.equal(large?.[69_999], i);
        }
        assert.equal(await store.getArtifact(runId, 'item/3'), undefined);
        assert.equal(await store.getArtifact(runId, 'item/3/large'), undefined);
      } finally {
        await store.close();
      }
    });
  });
}

describe('PostgreSQL: a group of artifacts larger than one statement', () => {
  it('goes in with its records in one transaction, and is refused with them', async () => {
    const store = await PostgresStore.open(schema.url);
    const runId = `many-${process.pid}`;
    try {
      await store.openRun(runId, {}, { owner: 'holder' });
      // More artifacts than one statement takes, and more bytes (17 MiB).
      const artifacts: ArtifactWrite[] = Array.from({ length: 5_000 }, (_, i) => ({
        key: `many/${i}`,
        data: Uint8Array.of(i % 256),
      }));
      for (let i = 0; i < 17; i++) {
        artifacts.push({ key: `mega/${i}`, data: new Uint8Array(1024 * 1024).fill(i) });
      }
      const record: TaskRecord = {
        key: 't',
        task: 't',
        status: 'completed',
        attempts: 1,
        startedAt: 1,
        durationMs: 1,
        output: 1,
        artifacts,
      };
      await assert.rejects(store.recordTasks(runId, [record], 'other'), (error: unknown) =>
        isWeftError(error, 'WEFT_RUN_BUSY'),
      );
      assert.equal(await store.getArtifact(runId, 'many/0'), undefined);
      await store.recordTasks(runId, [record], 'holder');
      let listed = 0;
      for await (const _ of store.artifactKeys(runId)) listed++;
      assert.equal(listed, 5_017);
      assert.deepEqual([...((await store.getArtifact(runId, 'many/4999')) ?? [])], [4999 % 256]);
      assert.equal((await store.getArtifact(runId, 'mega/16'))?.[1024 * 1024 - 1], 16);
      assert.equal((await store.listTasks(runId)).length, 1);
    } finally {
      await store.close();
    }
  });
});
