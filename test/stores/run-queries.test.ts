/**
 * What the SQL stores answer a viewer of runs beyond the shared suite, compared with the
 * memory store's answers: counts under a prefix when a run has more failed tasks than
 * are counted from their keys (then each prefix is a range of keys), and pages under a
 * prefix holding more records than SQLite reads by key range (then it walks the run in
 * order); and a key that PostgreSQL keeps by its digest, counted under no prefix but the
 * empty one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemoryStore, type Store, type TaskRecord } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { maxFailedKeys } from '../../src/stores/sql/run-answers.ts';
import { fewUnderPrefix } from '../../src/stores/sqlite-queries.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-run-queries-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('run_queries');

const stores: [string, () => Promise<Store>][] = [
  ['sqlite', () => SqliteStore.open(join(folder, 'queries.db'))],
  ['postgres', () => PostgresStore.open(schema.url)],
];

function record(key: string, status: TaskRecord['status']): TaskRecord {
  return { key, task: 't', status, attempts: 1, startedAt: 1, durationMs: 1, output: 1 };
}

const scopes = ['map:a', 'map:a%', 'map:a\u0000', 'map:\uD83D', '\uFFFFmap', 'map:b'];
const prefixes = [
  '',
  'map:a',
  'map:a/',
  'map:a%/',
  'map:a\u0000/',
  'map:\uD83D',
  '\uFFFF',
  'map:b/',
];

for (const [name, open] of stores) {
  describe(`${name}: counts under a prefix`, () => {
    it(`with more than ${maxFailedKeys} failed tasks, agree with the memory store`, async () => {
      const records = Array.from({ length: maxFailedKeys + 1500 }, (_, i) =>
        record(`${scopes[i % scopes.length]}/${i}`, i % 7 === 0 ? 'completed' : 'failed'),
      );
      const store = await open();
      const memory = new MemoryStore();
      try {
        for (const each of [store, memory]) {
          await each.openRun('many-failed');
          await each.recordTasks('many-failed', records);
        }
        const expected = await memory.queries.countTasksByPrefix('many-failed', prefixes);
        assert.ok(expected[0]!.failed > maxFailedKeys);
        assert.deepEqual(
          await store.queries?.countTasksByPrefix('many-failed', prefixes),
          expected,
        );
      } finally {
        await store.close();
        await memory.close();
      }
    });

    it(`pages under a prefix of more than ${fewUnderPrefix} records agree with the memory store`, async () => {
      // A large fan-out, and a small one recorded in the middle of it and after it.
      const records = Array.from({ length: fewUnderPrefix + 500 }, (_, i) =>
        record(
          i % 1000 === 999 ? `map:small/${i}` : `map:big/${i}`,
          i % 11 ? 'completed' : 'failed',
        ),
      );
      records.push(
        ...Array.from({ length: 30 }, (_, i) => record(`map:small/end-${i}`, 'completed')),
      );
      const store = await open();
      const memory = new MemoryStore();
      const pages = async (from: Store, keyPrefix: string, status?: 'failed') => {
        const keys: string[] = [];
        let after: number | undefined;
        do {
          const page = await from.queries!.taskPage('big-fan-out', {
            keyPrefix,
            limit: 1000,
            ...(status ? { status } : {}),
            ...(after === undefined ? {} : { after }),
          });
          keys.push(...page.tasks.map((task) => task.key));
          after = page.next;
        } while (after !== undefined);
        return keys;
      };
      try {
        for (const each of [store, memory]) {
          await each.openRun('big-fan-out');
          await each.recordTasks('big-fan-out', records);
        }
        for (const prefix of ['map:big/', 'map:small/', 'map:']) {
          const expected = await pages(memory, prefix);
          assert.ok(expected.length > 0);
          assert.deepEqual(await pages(store, prefix), expected, prefix);
        }
        assert.deepEqual(
          await pages(store, 'map:big/', 'failed'),
          await pages(memory, 'map:big/', 'failed'),
        );
      } finally {
        await store.close();
        await memory.close();
      }
    });

    it('a key too long for an index is counted under its prefix unless kept by digest', async () => {
      const long = `map:long/${'x'.repeat(3000)}`;
      const store = await open();
      try {
        await store.openRun('long-key');
        await store.recordTasks('long-key', [
          record(long, 'failed'),
          record('map:long/1', 'completed'),
        ]);
        const counts = await store.queries?.countTasksByPrefix('long-key', ['', 'map:long/']);
        const digested = name === 'postgres';
        assert.deepEqual(counts, [
          { completed: 1, failed: 1 },
          { completed: 1, failed: digested ? 0 : 1 },
        ]);
        const page = await store.queries?.taskPage('long-key', { keyPrefix: 'map:long/' });
        assert.deepEqual(
          page?.tasks.map((task) => task.key),
          digested ? ['map:long/1'] : [long, 'map:long/1'],
        );
        // Read whole, it is the key it was.
        assert.equal((await store.queries?.taskPage('long-key'))?.tasks[0]?.key, long);
      } finally {
        await store.close();
      }
    });
  });
}
