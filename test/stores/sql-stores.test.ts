/**
 * The SQL stores: both pass the store conformance suite (SQLite on a file in a temporary
 * folder, PostgreSQL in a schema of this file's own), plus what only a database shows:
 * data kept across opens, WAL mode, idempotent and concurrent migrations, real processes
 * writing one database at once, and drivers loaded only when used.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore, type Store, type TaskRecord } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { describeStoreConformance } from 'weftjs/testing';
import { latestVersion } from '../../src/stores/sql/migrations.ts';
import { freshPostgresSchema, queryPostgres, withSchema } from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-sql-stores-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('sql');
const caseOptions = { timeout: 60_000 } as const;

describeStoreConformance('sqlite', () => SqliteStore.open(join(folder, 'conformance.db')), {
  persistent: true,
});
describeStoreConformance('postgres', () => PostgresStore.open(schema.url), { persistent: true });
// The same contract with task records written on the calling thread, not a writer thread.
describeStoreConformance(
  'sqlite, writes on the calling thread',
  () => SqliteStore.open(join(folder, 'conformance-here.db'), { writerThread: false }),
  { persistent: true },
);
const hereSchema = freshPostgresSchema('sql_here');
describeStoreConformance(
  'postgres, writes on the calling thread',
  () => PostgresStore.open(hereSchema.url, { writerThread: false }),
  { persistent: true },
);

function record(key: string, output: unknown): TaskRecord {
  return { key, task: 't', status: 'completed', attempts: 1, startedAt: 1, durationMs: 2, output };
}

/** Opens, uses and closes a store, whatever `use` does. */
async function withStore<T>(open: Promise<Store>, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await open;
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

describe('better-sqlite3', () => {
  it('its native binding loads', () => {
    const db = new Database(':memory:');
    try {
      const { version } = db.prepare('SELECT sqlite_version() AS version').get() as {
        version: string;
      };
      assert.match(version, /^3\.\d+\.\d+$/);
    } finally {
      db.close();
    }
  });
});

describe('SqliteStore', () => {
  it('creates the file and its folders, and names it in location', caseOptions, async () => {
    const file = join(folder, 'deep', 'er', 'new.db');
    await withStore(SqliteStore.open(file), async (store) => {
      assert.equal(store.kind, 'sqlite');
      assert.equal(store.location, file);
      assert.ok(existsSync(file));
    });
  });

  it('reopening the file keeps runs, tasks, checkpoints and artifacts', caseOptions, async () => {
    const file = join(folder, 'reopen.db');
    await withStore(SqliteStore.open(file), async (store) => {
      await store.openRun('kept', { note: 'first' });
      await store.recordTasks('kept', [record('a', new Map([[1, 2n]]))]);
      await store.putArtifact('kept', 'bytes', Uint8Array.of(7, 8));
      await store.finishRun('kept', 'interrupted');
    });
    await withStore(SqliteStore.open(file), async (store) => {
      assert.equal((await store.getRun('kept'))?.status, 'interrupted');
      assert.deepEqual(await store.completedOutputs('kept'), new Map([['a', new Map([[1, 2n]])]]));
      assert.deepEqual([...((await store.getArtifact('kept', 'bytes')) ?? [])], [7, 8]);
      assert.equal((await store.openRun('kept')).attempts, 2);
    });
  });

  it('puts the file in WAL mode', caseOptions, async () => {
    const file = join(folder, 'wal.db');
    await withStore(SqliteStore.open(file), async () => {
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        db.close();
      }
    });
  });

  it('migrates once: opening again changes nothing', caseOptions, async () => {
    const file = join(folder, 'twice.db');
    await (await SqliteStore.open(file)).close();
    const before = sqliteSchema(file);
    await withStore(SqliteStore.open(file), async (store) => {
      await store.openRun('after-second-open');
    });
    assert.deepEqual(sqliteSchema(file), before);
    assert.equal(before.version, String(latestVersion));
    assert.deepEqual(before.tables, [
      'artifacts',
      'checkpoints',
      'events',
      'runs',
      'tasks',
      'weft_meta',
    ]);
  });

  it('a batch that repeats a key keeps its last record, at its first place', caseOptions, () =>
    repeatedKeys(SqliteStore.open(join(folder, 'repeat.db'))),
  );

  it('records 100,000 tasks in one call', caseOptions, () =>
    hundredThousand(SqliteStore.open(join(folder, 'large.db'))),
  );

  it('two processes creating and writing one file at once lose nothing', caseOptions, async () => {
    const file = join(folder, 'shared.db');
    await twoWriters(`sqlite:${file}`, () => SqliteStore.open(file));
  });
});

describe('PostgresStore', () => {
  it('hides the password in location, and keeps the schema', caseOptions, async () => {
    const url = new URL(schema.url);
    url.password = 'not-needed-with-trust';
    await withStore(PostgresStore.open(url.toString()), async (store) => {
      assert.equal(store.kind, 'postgres');
      assert.doesNotMatch(store.location, /not-needed-with-trust/);
      assert.match(store.location, /:\*\*\*@127\.0\.0\.1:5432\/test\?schema=weft_test_sql_/);
    });
  });

  it(
    'migrates once, also when several stores open a fresh schema at once',
    caseOptions,
    async () => {
      const name = `${schema.name}_concurrent`;
      const url = withSchema(schema.url, name);
      try {
        const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(url)));
        await Promise.all(stores.map((store) => store.close()));
        await (await PostgresStore.open(url)).close();
        const { rows } = await queryPostgres(
          `SELECT name, value FROM ${name}.weft_meta ORDER BY name`,
        );
        assert.deepEqual(rows, [{ name: 'schema_version', value: String(latestVersion) }]);
        const tables = await queryPostgres(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
          [name],
        );
        assert.deepEqual(
          tables.rows.map((row) => row.table_name),
          ['artifacts', 'checkpoints', 'events', 'runs', 'tasks', 'weft_meta'],
        );
      } finally {
        await queryPostgres(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      }
    },
  );

  it('a batch that repeats a key keeps its last record, at its first place', caseOptions, () =>
    repeatedKeys(PostgresStore.open(schema.url)),
  );

  it('records 100,000 tasks in one call', caseOptions, () =>
    hundredThousand(PostgresStore.open(schema.url)),
  );

  it(
    'two processes creating and writing 2 × 5,000 records to one run at once lose nothing',
    caseOptions,
    async () => {
      const name = `${schema.name}_writers`;
      const url = withSchema(schema.url, name);
      try {
        await twoWriters(url, () => PostgresStore.open(url));
      } finally {
        await queryPostgres(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      }
    },
  );
});

describe('openStore', () => {
  it('opens each accepted form', caseOptions, async () => {
    const file = join(folder, 'forms.db');
    for (const url of [`sqlite:${file}`, `sqlite://${file}`, file]) {
      await withStore(openStore(url), async (store) => {
        assert.equal(store.kind, 'sqlite', url);
        assert.equal(store.location, file, url);
      });
    }
    await withStore(openStore('memory:'), async (store) => assert.equal(store.kind, 'memory'));
    for (const url of [schema.url, schema.url.replace(/^postgres:/, 'postgresql:')]) {
      await withStore(openStore(url), async (store) => assert.equal(store.kind, 'postgres'));
    }
  });

  it('defaults to .weft/weft.db under the working directory', caseOptions, async () => {
    const cwd = mkdtempSync(join(folder, 'cwd-'));
    const probe = `
      import { openStore } from ${JSON.stringify(fileURLToPath(new URL('../../src/stores/open.ts', import.meta.url)))};
      const urls = [undefined, '', 'sqlite:', 'sqlite:relative/x.db', 'here.db'];
      const found = [];
      for (const url of urls) { const s = await openStore(url); found.push(s.location); await s.close(); }
      process.stdout.write(JSON.stringify(found));`;
    const child = spawn(
      process.execPath,
      // tsx by its own URL: the child's working directory has no node_modules.
      [
        '--conditions=weft-source',
        '--import',
        import.meta.resolve('tsx'),
        '--input-type=module',
        '-e',
        probe,
      ],
      { cwd, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const output = collect(child);
    assert.equal(await exitCode(child), 0);
    const weftDb = join(cwd, '.weft', 'weft.db');
    assert.deepEqual(JSON.parse(await output), [
      weftDb,
      weftDb,
      weftDb,
      join(cwd, 'relative', 'x.db'),
      join(cwd, 'here.db'),
    ]);
  });

  it('loads better-sqlite3 and pg only when their store is opened', caseOptions, async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=weft-source', '--import', 'tsx', fixture('sql-lazy-drivers.ts')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const output = collect(child);
    assert.equal(await exitCode(child), 0);
    assert.deepEqual(JSON.parse(await output), {
      afterImport: { sqlite: false, pg: false },
      afterMemory: { sqlite: false, pg: false },
      afterSqlite: { sqlite: true, pg: false },
    });
  });
});

async function repeatedKeys(open: Promise<Store>): Promise<void> {
  await withStore(open, async (store) => {
    const runId = `repeat-${process.pid}-${Date.now()}`;
    await store.openRun(runId);
    await store.recordTasks(runId, [
      record('a', 'first a'),
      record('b', 'b'),
      record('a', 'last a'),
      record('c', 'c'),
    ]);
    const outputs = await store.completedOutputs(runId);
    assert.deepEqual(
      [...outputs],
      [
        ['a', 'last a'],
        ['b', 'b'],
        ['c', 'c'],
      ],
    );
  });
}

async function hundredThousand(open: Promise<Store>): Promise<void> {
  await withStore(open, async (store) => {
    const runId = `large-${process.pid}-${Date.now()}`;
    await store.openRun(runId);
    const records = Array.from({ length: 100_000 }, (_, i) => record(`map:big/${i}`, i));
    await store.recordTasks(runId, records);
    const outputs = await store.completedOutputs(runId);
    assert.equal(outputs.size, 100_000);
    assert.equal(outputs.get('map:big/99999'), 99_999);
    assert.equal([...outputs.keys()][50_000], 'map:big/50000');
  });
}

/**
 * Two child processes open a new store and run at the same moment (so both migrate and
 * both open the run), then each records 5,000 tasks in batches of 100, started on the same
 * word; every record must be there after.
 */
async function twoWriters(url: string, open: () => Promise<Store>): Promise<void> {
  const runId = `two-writers-${process.pid}-${Date.now()}`;
  const writers = ['left', 'right'].map((prefix) =>
    spawn(
      process.execPath,
      [
        '--conditions=weft-source',
        '--import',
        'tsx',
        fixture('sql-writer.ts'),
        url,
        runId,
        prefix,
        '5000',
        '100',
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  );
  const exits = writers.map(exitCode);
  await Promise.all(writers.map(firstLine));
  for (const writer of writers) writer.stdin?.write('go\n');
  assert.deepEqual(await Promise.all(exits), [0, 0]);
  await withStore(open(), async (store) => {
    assert.equal((await store.getRun(runId))?.attempts, 2, 'each writer opened the run once');
    const tasks = await store.listTasks(runId);
    assert.equal(tasks.length, 10_000);
    const keys = new Set(tasks.map((task) => task.key));
    for (const prefix of ['left', 'right']) {
      for (let i = 0; i < 5000; i++) assert.ok(keys.has(`${prefix}/${i}`), `${prefix}/${i}`);
    }
    const outputs = await store.completedOutputs(runId);
    assert.deepEqual(outputs.get('right/4999'), { writer: 'right', i: 4999 });
  });
}

function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function firstLine(child: ChildProcess): Promise<string> {
  assert.ok(child.stdout);
  for await (const line of createInterface({ input: child.stdout })) return line;
  throw new Error('the child process exited before it said it was ready');
}

async function collect(child: ChildProcess): Promise<string> {
  assert.ok(child.stdout);
  let text = '';
  for await (const chunk of child.stdout) text += chunk;
  return text;
}

function sqliteSchema(file: string): { tables: string[]; version: string; sql: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string; sql: string | null; type: string }[];
    const meta = db.prepare("SELECT value FROM weft_meta WHERE name = 'schema_version'").get() as {
      value: string;
    };
    return {
      tables: (
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
          )
          .all() as { name: string }[]
      )
        .map((row) => row.name)
        .sort(),
      version: meta.value,
      sql: rows.map((row) => `${row.name}: ${row.sql}`),
    };
  } finally {
    db.close();
  }
}
