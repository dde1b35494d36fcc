/**
 * The store conformance suite: one set of cases that every run store passes (memory,
 * SQLite, PostgreSQL, …), through the {@link Store} contract only. A new store is proven
 * by calling {@link describeStoreConformance} from its test file.
 *
 * A SQL store may be shared by every case, by other test files and by earlier test runs,
 * so each case works on fresh run and application ids of its own (random UUIDs) and
 * never assumes the store is empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isWeftError, toWire, type WeftError } from '../core/errors.ts';
import type { TaskFailEvent } from '../core/events.ts';
import type { Store, TaskRecord } from '../core/store.ts';
import { describeArtifactCases } from './store-conformance-artifacts.ts';
import { describeKeyCases } from './store-conformance-keys.ts';
import { describeLeaseCases } from './store-conformance-lease.ts';
import { describeResumeReadCases } from './store-conformance-resume.ts';
import {
  assertCheckpoint,
  assertNewestFirst,
  assertRecords,
  assertTime,
  checkpoint,
  comparable,
  completedRecord,
  failedRecord,
  freshId,
  rejectionOf,
  sampleError,
  sampleEvents,
  sampleValues,
  startEvent,
} from './store-conformance-support.ts';

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions {
  /**
   * Whether a store made by `makeStore` reads back what an earlier, closed one wrote (a
   * SQL store on the same database), which adds a case that writes a run with one store,
   * closes it and reads the run back with a new one.
   * @default false
   */
  readonly persistent?: boolean;
  /**
   * How many records the large batch case writes in one `recordTasks` call.
   * @default 10_000
   */
  readonly largeBatch?: number;
  /**
   * Time limit of each case, in milliseconds, so that a hang fails the case rather than
   * the whole run.
   * @default 30_000
   */
  readonly timeoutMs?: number;
}

/**
 * Declares the store conformance suite with `node:test`: one `describe` block named after
 * the store, which makes one store with `makeStore` before its cases and closes it after
 * them (the `close()` and persistence cases make and close their own).
 *
 * The cases cover runs (open, reopen, finish, get, list newest first with a limit); the
 * lease (one owner at a time, expiry, take-over, renewal, races); the reads of a bounded
 * resume (findCompleted, countCompleted, streamTasks); exact keys (lone surrogates, NUL,
 * very long keys, keys equal after normalization, names of Object.prototype, keys that
 * look like a store's escapes, in task records, artifacts and checkpoints); task
 * records (batch writes, replacement of a key in its first place, field and value round
 * trips through every type the serializer supports, queue waits, snapshots, a large batch, concurrent
 * writes, and an output that cannot be stored, which rejects with `WEFT_SERIALIZATION`
 * naming its key and writes nothing of its batch); checkpoints (latest or by sequence id,
 * partitions); artifacts (binary round trips from zero bytes to 1 MB, replacement, the
 * keys listed, by prefix and a page at a time);
 * events (append order, round trip with errors); isolation between runs; input
 * validation; and `close()`.
 *
 * @param name Shown in the test report, e.g. 'sqlite'.
 * @param makeStore Makes a new store object on each call (several may share one
 *   database); called once for the suite, once for the `close()` case, and twice more for
 *   the persistence case.
 * @param options See {@link StoreConformanceOptions}.
 * @example
 * import { describeStoreConformance } from 'weftjs/testing';
 * describeStoreConformance('sqlite', () => openSqliteStore(file), { persistent: true });
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<Store> | Store,
  options: StoreConformanceOptions = {},
): void {
  const caseOptions = { timeout: options.timeoutMs ?? 30_000 } as const;
  const largeBatch = options.largeBatch ?? 10_000;

  describe(`store conformance: ${name}`, () => {
    let made: Store | undefined;
    const store = (): Store => {
      assert.ok(made, 'the store is made in before()');
      return made;
    };
    /** Opens a run with a fresh id, so that cases sharing a database never meet. */
    const openFreshRun = async (label: string): Promise<string> => {
      const id = freshId(label);
      await store().openRun(id);
      return id;
    };

    before(async () => {
      made = await makeStore();
    });
    after(async () => {
      await made?.close();
    });

    describe('runs', () => {
      it('openRun creates a run: running, attempts 1, meta as given', caseOptions, async () => {
        const id = freshId('create');
        const meta = { file: 'flows/etl.ts', workers: 4, nested: { tags: ['a', 1, true, null] } };
        const calledAt = Date.now();
        const opened = await store().openRun(id, meta);
        assert.equal(opened.id, id);
        assert.equal(opened.status, 'running');
        assert.equal(opened.attempts, 1);
        assert.deepEqual(opened.meta, meta);
        assert.equal(opened.error, undefined);
        assertTime(opened.createdAt, calledAt);
        assert.ok(opened.updatedAt >= opened.createdAt, 'updatedAt is not before createdAt');
        assert.deepEqual(await store().getRun(id), opened);
        assert.equal(typeof store().kind, 'string');
        assert.equal(typeof store().location, 'string');
      });

      it(
        'opening an id again reopens the run: attempts + 1, running, meta merged, no error',
        caseOptions,
        async () => {
          const id = freshId('reopen');
          const first = await store().openRun(id, { a: 1, b: 1 });
          await store().finishRun(id, 'failed', toWire(new Error('first attempt broke')));
          const second = await store().openRun(id, { b: 2, c: 3 });
          assert.equal(second.attempts, 2);
          assert.equal(second.status, 'running');
          assert.deepEqual(second.meta, { a: 1, b: 2, c: 3 });
          assert.equal(second.error, undefined);
          assert.equal(second.createdAt, first.createdAt);
          assert.ok(second.updatedAt >= first.updatedAt, 'updatedAt moves forward');
          assert.deepEqual(await store().getRun(id), second);
          const third = await store().openRun(id);
          assert.equal(third.attempts, 3);
          assert.deepEqual(third.meta, { a: 1, b: 2, c: 3 });
        },
      );

      it(
        'finishRun records the status, and the error that ended the run',
        caseOptions,
        async () => {
          const completed = await openFreshRun('completed');
          const failed = await openFreshRun('failed');
          const interrupted = await openFreshRun('interrupted');
          const wire = toWire(sampleError());
          await store().finishRun(completed, 'completed');
          await store().finishRun(failed, 'failed', wire);
          await store().finishRun(interrupted, 'interrupted');

          const done = await store().getRun(completed);
          assert.ok(done, 'the completed run is found');
          assert.equal(done.status, 'completed');
          assert.equal(done.error, undefined);
          assert.equal(done.attempts, 1);
          assert.ok(done.updatedAt >= done.createdAt, 'updatedAt is not before createdAt');
          const broken = await store().getRun(failed);
          assert.equal(broken?.status, 'failed');
          assert.deepEqual(broken?.error, wire);
          assert.equal((await store().getRun(interrupted))?.status, 'interrupted');
        },
      );

      it('getRun of an unknown id returns undefined', caseOptions, async () => {
        assert.equal(await store().getRun(freshId('unknown')), undefined);
      });

      it('listRuns lists runs newest first', caseOptions, async () => {
        const ids = [await openFreshRun('old'), await openFreshRun('mid')];
        ids.push(await openFreshRun('new'));
        const listed = await store().listRuns({ limit: 500 });
        const ours = listed.filter((run) => ids.includes(run.id)).map((run) => run.id);
        assert.deepEqual(ours, [...ids].reverse());
        assertNewestFirst(listed.map((run) => run.createdAt));
      });

      it('listRuns returns at most limit runs, 50 by default', caseOptions, async () => {
        for (let i = 0; i < 51; i++) await openFreshRun(`many-${i}`);
        const newest = await store().getRun(await openFreshRun('newest'));
        assert.equal((await store().listRuns()).length, 50);
        const two = await store().listRuns({ limit: 2 });
        assert.equal(two.length, 2);
        assertNewestFirst(two.map((run) => run.createdAt));
        // Another writer sharing the database may have opened a run since, never an older one.
        const [first] = await store().listRuns({ limit: 1 });
        assert.ok(first && newest && first.createdAt >= newest.createdAt, 'limit 1 is the newest');
        assert.deepEqual(await store().listRuns({ limit: 0 }), []);
      });
    });

    describe('task records', () => {
      it(
        'recordTasks writes a batch; listTasks returns every field, in recorded order',
        caseOptions,
        async () => {
          const runId = await openFreshRun('batch');
          const records: TaskRecord[] = [
            completedRecord('map:square/0', 0),
            completedRecord('map:square/1', { squared: 1, at: new Date(1_700_000_000_000) }),
            failedRecord('map:square/2', toWire(sampleError())),
            completedRecord('map:square/3', 9),
          ];
          await store().recordTasks(runId, records);
          assertRecords(await store().listTasks(runId), records);
        },
      );

      it(
        'queuedMs round-trips, reads back 0 when a record leaves it out, and is replaced with the record',
        caseOptions,
        async () => {
          const runId = await openFreshRun('queued');
          const waited = { ...completedRecord('waited', 1), queuedMs: 250.125 };
          const unsaid = completedRecord('unsaid', 2);
          assert.equal(unsaid.queuedMs, undefined);
          await store().recordTasks(runId, [waited, unsaid]);
          const listed = await store().listTasks(runId);
          assert.deepEqual(
            listed.map((record) => record.queuedMs),
            [250.125, 0],
          );
          const again = { ...completedRecord('waited', 3), queuedMs: 0.5 };
          await store().recordTasks(runId, [again]);
          assertRecords(await store().listTasks(runId), [again, unsaid]);
        },
      );

      it(
        'a later record of a key replaces the earlier one, keeping its first place',
        caseOptions,
        async () => {
          const runId = await openFreshRun('replace');
          await store().recordTasks(runId, [
            failedRecord('a', toWire(new Error('a broke'))),
            completedRecord('b', 'b'),
          ]);
          await store().recordTasks(runId, [completedRecord('c', 'c')]);
          const resumed = { ...completedRecord('a', 'a at last'), attempts: 3 };
          await store().recordTasks(runId, [resumed]);
          const listed = await store().listTasks(runId);
          assertRecords(listed, [resumed, completedRecord('b', 'b'), completedRecord('c', 'c')]);
          assert.equal(listed[0]?.error, undefined, 'the replaced failure leaves no error');
          assert.deepEqual(
            await store().completedOutputs(runId),
            new Map([
              ['a', 'a at last'],
              ['b', 'b'],
              ['c', 'c'],
            ]),
          );
        },
      );

      it('completedOutputs returns the outputs of completed tasks only', caseOptions, async () => {
        const runId = await openFreshRun('completed-only');
        await store().recordTasks(runId, [
          completedRecord('one', 1),
          failedRecord('two', toWire(new Error('two broke'))),
          completedRecord('three', undefined),
        ]);
        const outputs = await store().completedOutputs(runId);
        assert.deepEqual([...outputs.keys()], ['one', 'three']);
        assert.equal(outputs.get('one'), 1);
        assert.ok(outputs.has('three'), 'an undefined output is still an output');
        assert.equal(outputs.get('three'), undefined);
      });

      it('outputs of every supported type round-trip', caseOptions, async () => {
        const runId = await openFreshRun('types');
        const samples = sampleValues();
        await store().recordTasks(
          runId,
          Object.entries(samples).map(([label, value]) => completedRecord(label, value)),
        );
        const outputs = await store().completedOutputs(runId);
        assert.deepEqual([...outputs.keys()], Object.keys(samples));
        for (const [label, value] of Object.entries(samples)) {
          assert.deepStrictEqual(comparable(outputs.get(label)), comparable(value), label);
        }
        const error = outputs.get('error');
        assert.ok(error instanceof Error, 'an Error comes back as an Error instance');
        assert.ok(error.cause instanceof Error, 'its cause comes back as an Error instance');
        const listed = await store().listTasks(runId);
        const nested = listed.find((record) => record.key === 'nested');
        assert.deepStrictEqual(comparable(nested?.output), comparable(samples.nested));
      });

      it('a stored output is a snapshot of the value when recorded', caseOptions, async () => {
        const runId = await openFreshRun('snapshot');
        const output = { list: [1, 2], map: new Map([['k', 'v']]) };
        await store().recordTasks(runId, [completedRecord('snap', output)]);
        output.list.push(3);
        output.map.set('k', 'changed');
        assert.deepStrictEqual((await store().completedOutputs(runId)).get('snap'), {
          list: [1, 2],
          map: new Map([['k', 'v']]),
        });
      });

      it(
        `a batch of ${largeBatch.toLocaleString('en')} records is written in one call`,
        caseOptions,
        async () => {
          const runId = await openFreshRun('large');
          const records = Array.from({ length: largeBatch }, (_, i) =>
            i % 10 === 9
              ? failedRecord(`map:big/${i}`, toWire(new Error(`item ${i} broke`)))
              : completedRecord(`map:big/${i}`, { i, squared: i * i }),
          );
          await store().recordTasks(runId, records);
          const listed = await store().listTasks(runId);
          assert.equal(listed.length, largeBatch);
          assert.deepEqual(
            listed.map((record) => record.key),
            records.map((record) => record.key),
          );
          const outputs = await store().completedOutputs(runId);
          assert.equal(outputs.size, largeBatch - Math.floor(largeBatch / 10));
          assert.deepEqual(outputs.get('map:big/8'), { i: 8, squared: 64 });
          assert.equal(outputs.has('map:big/9'), false);
        },
      );

      it(
        'an output that cannot be stored rejects with WEFT_SERIALIZATION naming its key, ' +
          'and nothing of its batch is written',
        caseOptions,
        async () => {
          const runId = await openFreshRun('unstorable');
          await store().recordTasks(runId, [completedRecord('map:square/0', 0)]);
          const recorded = await store().listTasks(runId);
          class Connection {
            readonly host = '127.0.0.1';
          }
          for (const bad of [{ fn: () => 1 }, { at: [new Connection()] }]) {
            const error = await rejectionOf(
              store().recordTasks(runId, [
                completedRecord('map:square/0', 'replacement'),
                completedRecord('map:square/1', 1),
                completedRecord('map:square/3', bad),
                completedRecord('map:square/4', 16),
              ]),
            );
            assert.ok(isWeftError(error, 'WEFT_SERIALIZATION'), `WEFT_SERIALIZATION: ${error}`);
            assert.match((error as Error).message, /map:square\/3/);
            assertRecords(await store().listTasks(runId), recorded);
            assert.deepEqual(await store().completedOutputs(runId), new Map([['map:square/0', 0]]));
          }
        },
      );

      it('concurrent recordTasks calls on one run all land', caseOptions, async () => {
        const runId = await openFreshRun('concurrent');
        await Promise.all(
          Array.from({ length: 20 }, (_, batch) =>
            store().recordTasks(
              runId,
              Array.from({ length: 5 }, (_, i) => completedRecord(`k/${batch}/${i}`, batch * i)),
            ),
          ),
        );
        const outputs = await store().completedOutputs(runId);
        assert.equal(outputs.size, 100);
        assert.equal(outputs.get('k/7/3'), 21);
      });

      it('a run without records lists no tasks and no outputs', caseOptions, async () => {
        const runId = await openFreshRun('empty');
        assert.deepEqual(await store().listTasks(runId), []);
        assert.equal((await store().completedOutputs(runId)).size, 0);
        await store().recordTasks(runId, []);
        assert.deepEqual(await store().listTasks(runId), []);
      });
    });

    describeLeaseCases(store, makeStore, { ...caseOptions, shared: options.persistent ?? false });
    describeResumeReadCases(store, caseOptions);
    describeKeyCases(store, caseOptions);

    describe('checkpoints', () => {
      it(
        'loadCheckpoint returns the highest sequence id, or the one asked for',
        caseOptions,
        async () => {
          const appId = freshId('app');
          const saved = [0, 2, 1].map((sequenceId) => checkpoint(appId, '', sequenceId));
          for (const one of saved) await store().saveCheckpoint(one);
          assertCheckpoint(await store().loadCheckpoint(appId), saved[1]!);
          assertCheckpoint(await store().loadCheckpoint(appId, ''), saved[1]!);
          assertCheckpoint(await store().loadCheckpoint(appId, '', 1), saved[2]!);
          assertCheckpoint(await store().loadCheckpoint(appId, '', 0), saved[0]!);
          assert.equal(await store().loadCheckpoint(appId, '', 7), undefined);
        },
      );

      it('partition keys keep checkpoints apart', caseOptions, async () => {
        const appId = freshId('app');
        const none = checkpoint(appId, '', 5);
        const alice = checkpoint(appId, 'alice', 1);
        const bob = checkpoint(appId, 'bob', 3);
        for (const one of [none, alice, bob]) await store().saveCheckpoint(one);
        assertCheckpoint(await store().loadCheckpoint(appId), none);
        assertCheckpoint(await store().loadCheckpoint(appId, 'alice'), alice);
        assertCheckpoint(await store().loadCheckpoint(appId, 'bob'), bob);
        assert.equal(await store().loadCheckpoint(appId, 'carol'), undefined);
        assert.equal(await store().loadCheckpoint(appId, 'alice', 3), undefined);
      });

      it('an unknown application has no checkpoint', caseOptions, async () => {
        assert.equal(await store().loadCheckpoint(freshId('nobody')), undefined);
      });
    });

    describeArtifactCases(store, caseOptions);

    describe('events', () => {
      it('events come back in the order appended, across calls', caseOptions, async () => {
        const runId = await openFreshRun('events-order');
        const events = Array.from({ length: 25 }, (_, i) => startEvent(`map:e/${i}`, i));
        await store().appendEvents(runId, events.slice(0, 10));
        await store().appendEvents(runId, []);
        await store().appendEvents(runId, events.slice(10));
        assert.deepEqual(await store().listEvents(runId), events);
      });

      it('events of every kind round-trip, errors included', caseOptions, async () => {
        const runId = await openFreshRun('events-kinds');
        const events = sampleEvents();
        await store().appendEvents(runId, events);
        const listed = await store().listEvents(runId);
        assert.deepStrictEqual(comparable(listed), comparable(events));
        const failure = listed.find((event): event is TaskFailEvent => event.type === 'task:fail');
        assert.ok(failure?.error instanceof Error, 'the error of task:fail is an Error');
        assert.equal((failure.error as WeftError).code, 'WEFT_TASK_FAILED');
      });

      it('a run without events lists none', caseOptions, async () => {
        assert.deepEqual(await store().listEvents(await openFreshRun('no-events')), []);
      });
    });

    describe('isolation', () => {
      it('runs do not see each other’s tasks, events or artifacts', caseOptions, async () => {
        const a = await openFreshRun('iso-a');
        const b = await openFreshRun('iso-b');
        await store().recordTasks(a, [completedRecord('same/key', 'from a')]);
        await store().recordTasks(b, [completedRecord('same/key', 'from b')]);
        await store().appendEvents(a, [startEvent('same/key', 0)]);
        await store().putArtifact(a, 'same', Uint8Array.of(1));
        await store().putArtifact(b, 'same', Uint8Array.of(2));
        assert.deepEqual(await store().completedOutputs(a), new Map([['same/key', 'from a']]));
        assert.deepEqual(await store().completedOutputs(b), new Map([['same/key', 'from b']]));
        assert.equal((await store().listTasks(b)).length, 1);
        assert.equal((await store().listEvents(a)).length, 1);
        assert.deepEqual(await store().listEvents(b), []);
        assert.deepEqual([...((await store().getArtifact(b, 'same')) ?? [])], [2]);
        await store().finishRun(a, 'completed');
        assert.equal((await store().getRun(b))?.status, 'running');
      });
    });

    describe('validation', () => {
      it('an empty run id is refused with a weft error', caseOptions, async () => {
        const attempts: Array<() => Promise<unknown>> = [
          () => store().openRun(''),
          () => store().recordTasks('', [completedRecord('k', 1)]),
          () => store().appendEvents('', [startEvent('k', 0)]),
          () => store().putArtifact('', 'k', Uint8Array.of(1)),
        ];
        for (const attempt of attempts) {
          const error = await rejectionOf(Promise.resolve().then(attempt));
          assert.ok(isWeftError(error), `a weft error, not ${error}`);
        }
      });

      it(
        'a queuedMs that is not a number ≥ 0 is refused, naming the key',
        caseOptions,
        async () => {
          const runId = await openFreshRun('bad-queued');
          for (const queuedMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown]) {
            const record = { ...completedRecord('late', 1), queuedMs } as TaskRecord;
            const error = await rejectionOf(store().recordTasks(runId, [record]));
            assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
            assert.match((error as Error).message, /'late'.*queuedMs/);
          }
          assert.deepEqual(await store().listTasks(runId), []);
        },
      );
    });

    describe('close()', () => {
      it('operations after close() reject with a StoreError', caseOptions, async () => {
        const closing = await makeStore();
        const runId = freshId('closed');
        await closing.openRun(runId);
        await closing.close();
        const operations: Record<string, () => Promise<unknown>> = {
          openRun: () => closing.openRun(runId),
          renewLease: () => closing.renewLease(runId, 'owner', 1_000),
          finishRun: () => closing.finishRun(runId, 'completed'),
          getRun: () => closing.getRun(runId),
          listRuns: () => closing.listRuns(),
          recordTasks: () => closing.recordTasks(runId, [completedRecord('k', 1)]),
          completedOutputs: () => closing.completedOutputs(runId),
          listTasks: () => closing.listTasks(runId),
          findCompleted: () => closing.findCompleted(runId, ['k']),
          countCompleted: () => closing.countCompleted(runId),
          streamTasks: async () => {
            for await (const _ of closing.streamTasks(runId)) assert.fail('nothing to read');
          },
          saveCheckpoint: () => closing.saveCheckpoint(checkpoint(freshId('app'), '', 0)),
          loadCheckpoint: () => closing.loadCheckpoint(freshId('app')),
          putArtifact: () => closing.putArtifact(runId, 'k', Uint8Array.of(1)),
          getArtifact: () => closing.getArtifact(runId, 'k'),
          artifactKeys: async () => {
            for await (const _ of closing.artifactKeys(runId)) assert.fail('nothing to list');
          },
          appendEvents: () => closing.appendEvents(runId, [startEvent('k', 0)]),
          listEvents: () => closing.listEvents(runId),
        };
        for (const [operation, call] of Object.entries(operations)) {
          const error = await rejectionOf(Promise.resolve().then(call), operation);
          assert.ok(isWeftError(error), `${operation}: a weft error, not ${error}`);
          assert.equal((error as Error).name, 'StoreError', operation);
        }
        await closing.close();
      });
    });

    if (options.persistent) {
      describe('persistence', () => {
        it('a new store reads back what a closed one wrote', caseOptions, async () => {
          const runId = freshId('persist');
          const appId = freshId('persist-app');
          const saved = checkpoint(appId, 'p', 4);
          // Made once: an Error's stack names its caller, so two calls would differ.
          const output = sampleValues().nested;
          const events = sampleEvents();
          const writer = await makeStore();
          try {
            // One owner for both: the writer is closed without finishing the run.
            await writer.openRun(runId, { note: 'first' }, { owner: 'persist-owner' });
            await writer.recordTasks(runId, [
              completedRecord('kept', output),
              failedRecord('lost', toWire(new Error('lost'))),
            ]);
            await writer.saveCheckpoint(saved);
            await writer.putArtifact(runId, 'bytes', Uint8Array.of(4, 5, 6));
            await writer.appendEvents(runId, events);
          } finally {
            await writer.close();
          }
          const reader = await makeStore();
          try {
            const resumed = await reader.openRun(runId, {}, { owner: 'persist-owner' });
            assert.equal(resumed.attempts, 2);
            assert.deepEqual(resumed.meta, { note: 'first' });
            const outputs = await reader.completedOutputs(runId);
            assert.deepEqual([...outputs.keys()], ['kept']);
            assert.deepStrictEqual(comparable(outputs.get('kept')), comparable(output));
            assertCheckpoint(await reader.loadCheckpoint(appId, 'p'), saved);
            assert.deepEqual([...((await reader.getArtifact(runId, 'bytes')) ?? [])], [4, 5, 6]);
            assert.deepStrictEqual(comparable(await reader.listEvents(runId)), comparable(events));
          } finally {
            await reader.close();
          }
        });
      });
    }
  });
}
