/**
 * Store conformance, task records: written in batches, a later record of a key replacing
 * the earlier one in its first place, every field and every supported value read back,
 * a large batch and concurrent writes; an output that cannot be stored refuses its whole
 * batch, and records with bad fields or an empty run id are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWeftError, toWire } from '../core/errors.ts';
import type { Store, TaskRecord } from '../core/store.ts';
import {
  assertRecords,
  type CaseOptions,
  comparable,
  completedRecord,
  failedRecord,
  freshRunOpener,
  rejectionOf,
  sampleError,
  sampleValues,
  startEvent,
} from './store-conformance-support.ts';

/** Declares the cases on writing and reading task records. */
export function describeTaskRecordCases(
  store: () => Store,
  caseOptions: CaseOptions,
  largeBatch: number,
): void {
  const openFreshRun = freshRunOpener(store);

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
}

/** Declares the cases on input a store refuses. */
export function describeValidationCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = freshRunOpener(store);

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

    it('a queuedMs that is not a number ≥ 0 is refused, naming the key', caseOptions, async () => {
      const runId = await openFreshRun('bad-queued');
      for (const queuedMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown]) {
        const record = { ...completedRecord('late', 1), queuedMs } as TaskRecord;
        const error = await rejectionOf(store().recordTasks(runId, [record]));
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
        assert.match((error as Error).message, /'late'.*queuedMs/);
      }
      assert.deepEqual(await store().listTasks(runId), []);
    });
  });
}
