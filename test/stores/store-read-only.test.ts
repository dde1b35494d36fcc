/**
 * Opening a PostgreSQL store to read it (`openExistingStore`, what `weft runs` and
 * `weft show` do) creates nothing: no schema, no table, no column, no migration; it refuses
 * writes; and it reads tables an older weft wrote as they are.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store, TaskRecord } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { openExistingStore } from '../../src/stores/open.ts';
import { postgresDialect } from '../../src/stores/sql/dialect.ts';
import { createMetaTable, latestVersion, migrations } from '../../src/stores/sql/migrations.ts';
import { freshPostgresSchema, queryPostgres, withSchema } from '../fixtures/services.ts';

const schema = freshPostgresSchema('read_only');

/** The schema's tables and columns, its weft version, and whether it exists at all. */
async function shape(name: string): Promise<unknown> {
  const exists = await queryPostgres('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
  const columns = await queryPostgres(
    'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 ' +
      'ORDER BY table_name, column_name',
    [name],
  );
  const tables = await queryPostgres(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
    [name],
  );
  const version = tables.rows.some((row) => row.table_name === 'weft_meta')
    ? (await queryPostgres(`SELECT value FROM ${name}.weft_meta`)).rows
    : [];
  return { exists: exists.rowCount, tables: tables.rows, columns: columns.rows, version };
}

async function readOnly<T>(url: string, use: (store: Store | undefined) => Promise<T>): Promise<T> {
  const { store } = await openExistingStore(url);
  try {
    return await use(store);
  } finally {
    await store?.close();
  }
}

describe('a PostgreSQL store opened for reading', () => {
  it('creates no schema where there is none', async () => {
    const name = `${schema.name}_none`;
    const before = await shape(name);
    await readOnly(withSchema(schema.url, name), async (store) => assert.equal(store, undefined));
    assert.deepEqual(await shape(name), before);
  });

  it('creates no table in an empty schema', async () => {
    const name = `${schema.name}_empty`;
    try {
      await queryPostgres(`CREATE SCHEMA ${name}`);
      const before = await shape(name);
      await readOnly(withSchema(schema.url, name), async (store) => assert.equal(store, undefined));
      assert.deepEqual(await shape(name), before);
    } finally {
      await queryPostgres(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    }
  });

  it('reads a store and changes nothing in it; writes are refused', async () => {
    const writer = await PostgresStore.open(schema.url);
    try {
      await writer.openRun('kept', { note: 'written' }, { owner: 'writer' });
      await writer.recordTasks('kept', [record('k', 1)]);
    } finally {
      await writer.close();
    }
    const before = await shape(schema.name);
    await readOnly(schema.url, async (store) => {
      assert.ok(store);
      assert.deepEqual((await store.getRun('kept'))?.meta, { note: 'written' });
      assert.deepEqual(
        (await store.listTasks('kept')).map((task) => task.output),
        [1],
      );
      const writes: Array<[string, () => Promise<unknown>]> = [
        ['openRun', () => store.openRun('other')],
        ['recordTasks', () => store.recordTasks('kept', [record('x', 2)])],
        ['finishRun', () => store.finishRun('kept', 'completed')],
        ['renewLease', () => store.renewLease('kept', 'writer', 1_000)],
        ['putArtifact', () => store.putArtifact('kept', 'a', Uint8Array.of(1))],
      ];
      for (const [what, write] of writes) {
        await assert.rejects(write(), { name: 'StoreError', message: /reading only/ }, what);
      }
    });
    assert.deepEqual(await shape(schema.name), before);
  });

  for (const version of Array.from({ length: latestVersion - 1 }, (_, i) => i + 1)) {
    it(`reads a schema of version ${version} as it is, without upgrading it`, async () => {
      const name = `${schema.name}_v${version}`;
      try {
        const statements = [
          createMetaTable,
          ...migrations
            .filter((m) => m.version <= version)
            .flatMap((m) => m.statements(postgresDialect)),
          `INSERT INTO weft_meta (name, value) VALUES ('schema_version', '${version}')`,
          "INSERT INTO runs (id, status, created_at, updated_at, attempts, meta) VALUES ('old', 'completed', 1, 2, 1, '[{}]')",
          "INSERT INTO tasks (run_id, key, task, status, attempts, started_at, duration_ms, output) VALUES ('old', 'old/0', 'square', 'completed', 1, 1700000000000, 12.5, '[4]')",
          "INSERT INTO artifacts (run_id, key, data) VALUES ('old', 'old/a', '\\x01')",
        ];
        await queryPostgres(
          `CREATE SCHEMA ${name}; SET search_path TO ${name}; ${statements.join('; ')}`,
        );
        const before = await shape(name);
        await readOnly(withSchema(schema.url, name), async (store) => {
          assert.ok(store, 'the store is found');
          const run = await store.getRun('old');
          assert.equal(run?.status, 'completed');
          assert.equal(run?.owner, undefined);
          assert.deepEqual(
            (await store.listRuns()).map((one) => one.id),
            ['old'],
          );
          const tasks = await store.listTasks('old');
          assert.deepEqual(
            tasks.map((task) => [task.key, task.queuedMs, task.output]),
            [['old/0', 0, 4]],
          );
          const streamed: TaskRecord[] = [];
          for await (const task of store.streamTasks('old', { outputs: false })) {
            streamed.push(task);
          }
          assert.deepEqual(
            streamed.map((task) => task.key),
            ['old/0'],
          );
          assert.deepEqual([...(await store.completedOutputs('old'))], [['old/0', 4]]);
          const artifacts: string[] = [];
          for await (const key of store.artifactKeys('old')) artifacts.push(key);
          assert.deepEqual(artifacts, ['old/a']);
          // A viewer's queries read it too, without the indexes of version 7.
          assert.deepEqual(
            (await store.listRuns({ status: 'completed', search: 'OLD' })).map((one) => one.id),
            ['old'],
          );
          const queries = store.queries;
          assert.ok(queries);
          assert.equal(await queries.countRuns({ status: 'completed' }), 1);
          assert.deepEqual(
            await queries.countTasks(['old']),
            new Map([['old', { completed: 1, failed: 0 }]]),
          );
          assert.deepEqual(await queries.countTasksByPrefix('old', ['old/', 'new/']), [
            { completed: 1, failed: 0 },
            { completed: 0, failed: 0 },
          ]);
          const page = await queries.taskPage('old', { keyPrefix: 'old/', status: 'completed' });
          assert.deepEqual(
            page.tasks.map((task) => [task.key, task.queuedMs, task.output]),
            [['old/0', 0, undefined]],
          );
          assert.equal((await queries.summarizeTasks('old'))[0]?.maxMs, 12.5);
        });
        assert.deepEqual(await shape(name), before);
      } finally {
        await queryPostgres(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      }
    });
  }
});

function record(key: string, output: unknown): TaskRecord {
  return { key, task: 't', status: 'completed', attempts: 1, startedAt: 1, durationMs: 2, output };
}
