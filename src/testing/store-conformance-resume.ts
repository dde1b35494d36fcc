/**
 * Store conformance, the reads of a bounded resume: findCompleted looks up the keys a
 * resumed run reaches, countCompleted counts, and streamTasks reads a run of any size a
 * page at a time, in the order first recorded, with or without outputs.
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
  freshId,
  freshRunOpener,
  rejectionOf,
} from './store-conformance-support.ts';

/** More records than a store reads in one page or looks up in one statement. */
const many = 2_500;

/** Declares the resume read cases on the suite's store. */
export function describeResumeReadCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = freshRunOpener(store);

  describe('resume reads', () => {
    it(
      'findCompleted returns the outputs of the completed keys asked for, only',
      caseOptions,
      async () => {
        const runId = await openFreshRun('find');
        await store().recordTasks(runId, [
          completedRecord('done', { value: 1 }),
          failedRecord('broke', toWire(new Error('broke'))),
          completedRecord('nothing', undefined),
          completedRecord('other', 'not asked'),
        ]);
        const found = await store().findCompleted(runId, [
          'done',
          'broke',
          'nothing',
          'never-ran',
          'done',
        ]);
        assert.deepEqual([...found.keys()].sort(), ['done', 'nothing']);
        assert.deepEqual(found.get('done'), { value: 1 });
        assert.ok(found.has('nothing'), 'an undefined output is still an output');
        assert.equal((await store().findCompleted(runId, [])).size, 0);
        assert.equal((await store().findCompleted(freshId('no-run'), ['done'])).size, 0);
      },
    );

    it(
      `findCompleted answers for ${many.toLocaleString('en')} keys at once`,
      caseOptions,
      async () => {
        const runId = await openFreshRun('find-many');
        const records = Array.from({ length: many }, (_, i) =>
          i % 3 === 0
            ? failedRecord(`map:many/${i}`, toWire(new Error(`item ${i} broke`)))
            : completedRecord(`map:many/${i}`, i),
        );
        await store().recordTasks(runId, records);
        const asked = [...records.map((record) => record.key), 'map:many/absent'].reverse();
        const found = await store().findCompleted(runId, asked);
        const expected = records.filter((record) => record.status === 'completed');
        assert.equal(found.size, expected.length);
        for (const record of expected) assert.equal(found.get(record.key), record.output);
      },
    );

    it(
      'countCompleted counts completed tasks, a failure replaced by a success included',
      caseOptions,
      async () => {
        const runId = await openFreshRun('count');
        assert.equal(await store().countCompleted(runId), 0);
        await store().recordTasks(runId, [
          completedRecord('a', 1),
          failedRecord('b', toWire(new Error('b broke'))),
          completedRecord('c', 3),
        ]);
        assert.equal(await store().countCompleted(runId), 2);
        await store().recordTasks(runId, [completedRecord('b', 2), completedRecord('a', 'again')]);
        assert.equal(await store().countCompleted(runId), 3);
        assert.equal(await store().countCompleted(freshId('no-run')), 0);
      },
    );

    it(
      `streamTasks reads ${many.toLocaleString('en')} records in the order first recorded`,
      caseOptions,
      async () => {
        const runId = await openFreshRun('stream');
        const records = Array.from({ length: many }, (_, i) =>
          i % 7 === 3
            ? failedRecord(`map:s/${i}`, toWire(new Error(`item ${i} broke`)))
            : completedRecord(`map:s/${i}`, { i, tags: new Set([i]) }),
        );
        await store().recordTasks(runId, records.slice(0, 1_200));
        await store().recordTasks(runId, records.slice(1_200));
        // A key recorded again keeps its first place.
        const replaced = { ...completedRecord('map:s/3', 'resumed'), attempts: 2 };
        await store().recordTasks(runId, [replaced]);
        const expected = records.map((record) => (record.key === 'map:s/3' ? replaced : record));
        assertRecords(await collect(store().streamTasks(runId)), expected);
        assertRecords(await collect(store().streamTasks(runId, { outputs: true })), expected);
        assert.deepEqual(await collect(store().streamTasks(freshId('no-run'))), []);
      },
    );

    it(
      'streamTasks with outputs: false leaves the outputs out, and nothing else',
      caseOptions,
      async () => {
        const runId = await openFreshRun('stream-heads');
        const error = toWire(new Error('broke'));
        const records = [
          completedRecord('a', { big: 'x'.repeat(1_000) }),
          failedRecord('b', error),
        ];
        await store().recordTasks(runId, records);
        const heads = await collect(store().streamTasks(runId, { outputs: false }));
        assert.deepEqual(
          heads.map((record) => 'output' in record && record.output !== undefined),
          [false, false],
        );
        const withoutOutput = ({ output: _, ...rest }: TaskRecord) => rest;
        assert.deepStrictEqual(
          comparable(heads.map(withoutOutput)),
          comparable((await store().listTasks(runId)).map(withoutOutput)),
        );
      },
    );

    it('streamTasks reaches records written while it reads', caseOptions, async () => {
      const runId = await openFreshRun('stream-live');
      const records = Array.from({ length: many }, (_, i) => completedRecord(`k/${i}`, i));
      await store().recordTasks(runId, records);
      const keys: string[] = [];
      for await (const record of store().streamTasks(runId)) {
        if (keys.length === 0) await store().recordTasks(runId, [completedRecord('late', 'l')]);
        keys.push(record.key);
      }
      assert.deepEqual(keys, [...records.map((record) => record.key), 'late']);
    });

    it('findCompleted refuses keys that are not strings', caseOptions, async () => {
      const runId = await openFreshRun('find-bad');
      for (const keys of ['k', [''], [1], [null]] as unknown[]) {
        const error = await rejectionOf(store().findCompleted(runId, keys as string[]));
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
      }
    });
  });
}

async function collect(records: AsyncIterable<TaskRecord>): Promise<TaskRecord[]> {
  const all: TaskRecord[] = [];
  for await (const record of records) all.push(record);
  return all;
}
