/**
 * A resumed run returns the values of the first run, or the value was refused when first
 * stored: an error returned as a value keeps its fields, also ones that are not
 * primitive; a Map with extra properties is refused, naming the key, the path and the
 * field. A task that fails with an error whose fields cannot be stored is still recorded
 * as failed: a failed task runs again on resume, its error is not returned as a value.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EventBus, isWeftError, MemoryStore, map, type Store, task, withRun } from 'weftjs';
import { SqliteStore } from 'weftjs/sqlite';

const folder = mkdtempSync(join(tmpdir(), 'weft-values-errors-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function makeValue(name: string): unknown {
  if (name === 'validation') {
    const error = new Error('invalid');
    return Object.defineProperty(error, 'issues', { value: [{ path: ['a'], code: 'too_big' }] });
  }
  if (name === 'http') {
    return Object.assign(new Error('http'), { status: 404, response: { body: { why: 'gone' } } });
  }
  if (name === 'many') return new AggregateError([new Error('one'), new Error('two')], 'many');
  if (name === 'counted') return Object.assign(new Map([['a', 1]]), { total: 1 });
  // Thrown, not returned: its fields cannot be stored, its task is recorded failed.
  throw Object.assign(new Error('broke'), { retry: () => 1, self: {} });
}

const valued = task('valuesErrors:value', (name: string) => makeValue(name));
const names = ['validation', 'http', 'many', 'counted', 'throws'];

const stores: Record<string, () => Promise<Store>> = {
  memory: async () => new MemoryStore(),
  sqlite: () => SqliteStore.open(join(folder, 'values.db')),
};

for (const [storeName, openStore] of Object.entries(stores)) {
  describe(`errors as values on the ${storeName} store`, () => {
    it('come back whole on resume; what would change is refused; failures are recorded', async () => {
      const store = await openStore();
      try {
        const runId = `errors-${storeName}`;
        const run = (events?: EventBus) =>
          withRun({ store, runId, events }, () => map(names, valued, { onError: 'collect' }));
        const first = await run();
        const bus = new EventBus();
        let resumed = 0;
        bus.on('task:end', (event) => {
          if (event.resumed) resumed++;
        });
        const again = await run(bus);
        assert.equal(resumed, 3, 'the three errors came from the store');
        for (const [i, name] of ['validation', 'http', 'many'].entries()) {
          assert.deepStrictEqual(again[i], first[i], name);
          assert.deepStrictEqual(again[i], makeValue(name), name);
        }
        assert.deepStrictEqual((again[0] as { issues: unknown }).issues, [
          { path: ['a'], code: 'too_big' },
        ]);
        assert.ok(again[2] instanceof AggregateError);
        assert.equal((again[2] as AggregateError).errors.length, 2);
        for (const outcomes of [first, again]) {
          const refused = outcomes[3] as Error;
          assert.ok(isWeftError(refused, 'WEFT_SERIALIZATION'), String(refused));
          assert.match(refused.message, /map:valuesErrors:value[^ ]*\/3\b/);
          assert.match(
            refused.message,
            /the value itself is a Map with extra properties \(total\)/,
          );
          assert.match(String((outcomes[4] as Error).message), /broke/);
        }
        const records = await store.listTasks(runId);
        const failed = records.filter((record) => record.status === 'failed');
        assert.equal(failed.length, 2, 'the refused Map and the thrown error');
        assert.ok(failed.some((record) => record.error?.message === 'broke'));
      } finally {
        await store.close();
      }
    });
  });
}
