/**
 * The reads of a bounded resume decode only what they return: streamTasks with
 * `outputs: false` decodes no output, and findCompleted decodes the outputs of the keys
 * it found, not the run's. Counted through the store's serializer, in every store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  defaultSerializer,
  MemoryStore,
  type Serializer,
  type Store,
  type TaskRecord,
} from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { freshPostgresSchema } from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-store-stream-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('stream');

/** The default serializer, counting the outputs it decodes (outputs here are numbers). */
function counting(): { serializer: Serializer; decoded: () => number } {
  let outputs = 0;
  const serializer: Serializer = {
    encode: (value, key) => defaultSerializer.encode(value, key),
    decode: (text) => {
      const value = defaultSerializer.decode(text);
      if (typeof value === 'number') outputs++;
      return value;
    },
  };
  return { serializer, decoded: () => outputs };
}

const stores: Array<[string, (serializer: Serializer) => Promise<Store> | Store]> = [
  ['memory', (serializer) => new MemoryStore({ serializer })],
  ['sqlite', (serializer) => SqliteStore.open(join(folder, 'stream.db'), { serializer })],
  ['postgres', (serializer) => PostgresStore.open(schema.url, { serializer })],
];

for (const [name, open] of stores) {
  describe(`${name}: resume reads decode only what they return`, () => {
    it('streamTasks without outputs decodes none; findCompleted only those found', async () => {
      const { serializer, decoded } = counting();
      const store = await open(serializer);
      try {
        const runId = `stream-${process.pid}-${Date.now()}`;
        await store.openRun(runId);
        const records: TaskRecord[] = Array.from({ length: 3_000 }, (_, i) => ({
          key: `k/${i}`,
          task: 't',
          status: 'completed',
          attempts: 1,
          startedAt: 1,
          durationMs: 1,
          output: i,
        }));
        await store.recordTasks(runId, records);
        let seen = 0;
        for await (const record of store.streamTasks(runId, { outputs: false })) {
          assert.equal(record.output, undefined);
          seen++;
        }
        assert.equal(seen, 3_000);
        assert.equal(decoded(), 0, 'no output decoded');
        const found = await store.findCompleted(runId, ['k/5', 'k/2999', 'k/none']);
        assert.equal(found.size, 2);
        assert.equal(decoded(), 2, 'two outputs decoded');
        for await (const _ of store.streamTasks(runId)) seen++;
        assert.equal(decoded(), 3_002);
      } finally {
        await store.close();
      }
    });
  });
}
