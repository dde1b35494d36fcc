/**
 * A resumed run returns the values of the first run, on every store and executor: what
 * the stores keep (Buffer, objects without a prototype, errors with their class and
 * code…) comes back as it was, in this thread and from workers; what they cannot keep (a
 * class instance, an array with extra properties) is refused when first stored, with an
 * error naming the key and the type, and refused again on resume.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  EventBus,
  type Executor,
  isWeftError,
  MemoryStore,
  map,
  processes,
  type Store,
  threads,
  withRun,
} from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { freshPostgresSchema } from '../fixtures/services.ts';
import { kept, makeSample, refused, type SampleName, sample } from '../fixtures/values-tasks.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-values-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const schema = freshPostgresSchema('values');

const stores: Record<string, () => Promise<Store>> = {
  memory: async () => new MemoryStore(),
  sqlite: () => SqliteStore.open(join(folder, 'values.db')),
  postgres: () => PostgresStore.open(schema.url),
};

// One pool of each kind for the whole file: starting workers is most of a case's time.
const executors: Record<string, Executor | undefined> = {
  'this thread': undefined,
  threads: threads({ workers: 1 }),
  processes: processes({ workers: 1 }),
};
after(() => Promise.all(Object.values(executors).map((executor) => executor?.close())));

const keptNames = Object.keys(kept) as SampleName[];
const refusedNames = Object.keys(refused) as SampleName[];
let runs = 0;

/** Buffers found inside a value, by path, so that a test can say which one changed. */
function buffersIn(value: unknown, path = 'value', found: string[] = []): string[] {
  if (Buffer.isBuffer(value)) found.push(path);
  else if (value instanceof Map) {
    for (const [key, entry] of value) {
      buffersIn(key, `${path}.keys()`, found);
      buffersIn(entry, `${path}.get(${String(key)})`, found);
    }
  } else if (value instanceof Set) {
    for (const entry of value) buffersIn(entry, `${path}.values()`, found);
  } else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const [key, entry] of Object.entries(value)) buffersIn(entry, `${path}.${key}`, found);
  }
  return found;
}

for (const [storeName, openStore] of Object.entries(stores)) {
  describe(`values on the ${storeName} store`, () => {
    let store: Store;
    after(() => store?.close());

    for (const [executorName, executor] of Object.entries(executors)) {
      it(`${executorName}: a resumed run returns the values of the first run`, async () => {
        store ??= await openStore();
        const runId = `kept-${storeName}-${++runs}`;
        const first = await withRun({ store, runId }, () => map(keptNames, sample, { executor }));
        keptNames.forEach((name, i) => {
          assert.deepStrictEqual(first[i], makeSample(name), `${name}, first run`);
          assert.deepEqual(buffersIn(first[i]), buffersIn(makeSample(name)), `${name}, first run`);
        });

        const bus = new EventBus();
        let resumed = 0;
        bus.on('task:end', (event) => {
          if (event.resumed) resumed++;
        });
        const again = await withRun({ store, runId, events: bus }, () =>
          map(keptNames, sample, { executor }),
        );
        assert.equal(resumed, keptNames.length, 'every output came from the store');
        keptNames.forEach((name, i) => {
          assert.deepStrictEqual(again[i], first[i], `${name}, resumed`);
          assert.deepEqual(buffersIn(again[i]), buffersIn(first[i]), `${name}, resumed`);
        });
      });

      it(`${executorName}: a value the store cannot keep is refused, naming the key and the type`, async () => {
        store ??= await openStore();
        const runId = `refused-${storeName}-${++runs}`;
        const run = () =>
          withRun({ store, runId }, () =>
            map(refusedNames, sample, { executor, onError: 'collect' }),
          );
        for (const attempt of ['first run', 'resume']) {
          const outcomes = await run();
          refusedNames.forEach((name, i) => {
            const error = outcomes[i];
            const what = `${name}, ${attempt}: ${String(error)}`;
            assert.ok(
              isWeftError(error, 'WEFT_SERIALIZATION') || isWeftError(error, 'WEFT_NOT_CLONEABLE'),
              what,
            );
            const message = (error as Error).message;
            assert.match(message, new RegExp(`${runId}/map:values:sample[^ ]*/${i}\\b`), what);
            assert.match(message, /an instance of class \w+|an array with extra properties/, what);
          });
        }
        const records = await store.listTasks(runId);
        assert.equal(records.filter((record) => record.status === 'completed').length, 0);
      });
    }
  });
}
