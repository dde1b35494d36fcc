/**
 * Task records written on a store's writer thread: the records a run writes are all there
 * when its map resolves, the store's errors come back as their own classes, closing waits
 * for the writes under way, and a store nobody closed does not keep the process alive.
 * Also the event bus's per-type interest, which keeps a run's own event listener from
 * making every task build start and end events.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { EventBus, map, RunBusyError, StoreError, type TaskRecord, task, withRun } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { freshPostgresSchema } from '../fixtures/services.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-writer-thread-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('writer');
const run = promisify(execFile);

const double = task('writer-thread:double', (x: number) => x * 2);

function record(key: string, output: unknown): TaskRecord {
  return { key, task: 't', status: 'completed', attempts: 1, startedAt: 1, durationMs: 2, output };
}

const stores = {
  sqlite: () => SqliteStore.open(join(folder, 'store.db')),
  postgres: () => PostgresStore.open(schema.url),
};

for (const [kind, open] of Object.entries(stores)) {
  describe(`${kind} writer thread`, () => {
    it('a recorded map has every record written when it resolves', async () => {
      const store = await open();
      try {
        const items = Array.from({ length: 5000 }, (_, i) => i);
        const out = await withRun({ store, runId: `all-${kind}` }, () =>
          map(items, double, { concurrency: 16 }),
        );
        assert.equal(out[4999], 9998);
        assert.equal(await store.countCompleted(`all-${kind}`), 5000);
        const found = await store.findCompleted(`all-${kind}`, [
          'all-' + kind + '/map:writer-thread:double/4321',
        ]);
        assert.deepEqual([...found.values()], [8642]);
      } finally {
        await store.close();
      }
    });

    it("brings the store's errors back as their own classes", async () => {
      const store = await open();
      try {
        await store.openRun(`fenced-${kind}`, {}, { owner: 'a' });
        const refused = await store.recordTasks(`fenced-${kind}`, [record('k', 1)], 'b').then(
          () => undefined,
          (error: unknown) => error,
        );
        assert.ok(refused instanceof RunBusyError, `got ${String(refused)}`);
        assert.equal(refused.owner, 'a');
        assert.equal(refused.runId, `fenced-${kind}`);
        const missing = await store.recordTasks(`no-such-run-${kind}`, [record('k', 1)]).then(
          () => undefined,
          (error: unknown) => error,
        );
        assert.ok(missing instanceof Error);
        assert.equal((missing as { code?: string }).code, 'WEFT_STORE');
        assert.match((missing as Error).message, /does not exist/);
      } finally {
        await store.close();
      }
    });

    it('close waits for the writes under way, and later writes are refused', async () => {
      const store = await open();
      await store.openRun(`closing-${kind}`);
      const writes = Array.from({ length: 20 }, (_, i) =>
        store.recordTasks(`closing-${kind}`, [record(`k${i}`, i)]),
      );
      await store.close();
      await Promise.all(writes);
      const reopened = await open();
      try {
        assert.equal(await reopened.countCompleted(`closing-${kind}`), 20);
      } finally {
        await reopened.close();
      }
      await assert.rejects(store.recordTasks(`closing-${kind}`, [record('late', 1)]), {
        code: 'WEFT_STORE',
      });
    });
  });
}

describe('a store nobody closed', () => {
  it('lets the process exit once its writes are done', async () => {
    const file = join(folder, 'unclosed.db');
    const script = join(import.meta.dirname, '..', 'fixtures', 'writer-unclosed.ts');
    const { stdout } = await run(
      process.execPath,
      ['--conditions=weft-source', '--import', 'tsx', script, file],
      { cwd: process.cwd(), timeout: 30_000 },
    );
    assert.equal(stdout.trim(), '[2,3,4]');
    const store = await SqliteStore.open(file);
    try {
      assert.equal(await store.countCompleted('unclosed'), 3);
    } finally {
      await store.close();
    }
  });
});

describe('EventBus.listens', () => {
  it('tells which event types a listener would receive', () => {
    const bus = new EventBus();
    assert.equal(bus.listens('task:end'), false);
    const offFail = bus.on('task:fail', () => {});
    assert.equal(bus.listens('task:fail'), true);
    assert.equal(bus.listens('task:end'), false);
    const offAll = bus.on(() => {});
    assert.equal(bus.listens('task:end'), true);
    offAll();
    offAll();
    assert.equal(bus.listens('task:end'), false);
    offFail();
    assert.equal(bus.listens('task:fail'), false);
    assert.equal(bus.active, false);
  });

  it('forgets a typed listener that threw', () => {
    const bus = new EventBus();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      bus.on('map:start', () => {
        throw new Error('boom');
      });
      assert.equal(bus.listens('map:start'), true);
      bus.emit({ type: 'map:start', time: 0, scope: 's', task: 't', total: 1, label: 't' });
      assert.equal(bus.listens('map:start'), false);
      assert.equal(bus.active, false);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('inside a run, tasks make no start or end events unless someone listens', async () => {
    const store = await SqliteStore.open(join(folder, 'events.db'));
    try {
      const seen: string[] = [];
      let built = 0;
      // Counts every event built and sent, whoever listens.
      const counting = new (class extends EventBus {
        override emit(event: Parameters<EventBus['emit']>[0]): void {
          built++;
          super.emit(event);
        }
      })();
      counting.on('map:end', (event) => seen.push(event.type));
      await withRun({ store, runId: 'quiet', events: counting }, () => map([1, 2, 3, 4], double));
      assert.deepEqual(seen, ['map:end']);
      // map:start and map:end only: no task:start or task:end was built for anyone.
      assert.equal(built, 2);
    } finally {
      await store.close();
    }
  });
});

describe('a SQLite writer thread that fails', () => {
  it('fails the writes under way with a StoreError, and the next write starts a new thread', async () => {
    const file = join(folder, 'locked.db');
    const store = await SqliteStore.open(file, { busyTimeoutMs: 50 });
    const holder = new Database(file);
    try {
      await store.openRun('locked');
      // Another connection holds the write lock while the writer thread opens.
      holder.prepare('BEGIN IMMEDIATE').run();
      const refused = await store.recordTasks('locked', [record('a', 1)]).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof StoreError, `got ${String(refused)}`);
      holder.prepare('COMMIT').run();
      await store.recordTasks('locked', [record('b', 2)]);
      assert.deepEqual([...(await store.findCompleted('locked', ['a', 'b'])).keys()], ['b']);
    } finally {
      holder.close();
      await store.close();
    }
  });

  it('refuses writes asked once close began, and closes the thread it had', async () => {
    const store = await SqliteStore.open(join(folder, 'closing-race.db'));
    await store.openRun('race');
    await store.recordTasks('race', [record('first', 1)]);
    const closing = store.close();
    await assert.rejects(store.recordTasks('race', [record('late', 2)]), { code: 'WEFT_STORE' });
    await closing;
    const reopened = await SqliteStore.open(join(folder, 'closing-race.db'));
    try {
      assert.deepEqual(
        [...(await reopened.findCompleted('race', ['first', 'late'])).keys()],
        ['first'],
      );
    } finally {
      await reopened.close();
    }
  });
});
