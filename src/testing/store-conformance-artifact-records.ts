/**
 * Store conformance, artifacts written with task records (`TaskRecord.artifacts`): stored
 * in the records' write, both or neither, refused together when an artifact cannot be
 * stored or the owner no longer holds the run, whatever their keys and sizes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import type { ArtifactWrite, Store } from '../core/store.ts';
import { oddKeys } from './store-conformance-keys.ts';
import {
  type CaseOptions,
  completedRecord,
  freshId,
  listedKeys,
  rejectionOf,
  withArtifacts,
} from './store-conformance-support.ts';

/** Artifacts written with task records, in their write. */
export function describeRecordedArtifactCases(
  store: () => Store,
  caseOptions: CaseOptions,
  openFreshRun: (label: string) => Promise<string>,
): void {
  it(
    'artifacts written with task records round-trip, the last write of a key winning',
    caseOptions,
    async () => {
      const runId = await openFreshRun('recorded-artifacts');
      const large = new Uint8Array(randomBytes(200 * 1024));
      const given = Uint8Array.of(1, 2, 3);
      await store().recordTasks(runId, [
        withArtifacts('t/0', [
          { key: 'flow/L/0/x', data: given },
          { key: 'flow/L/0/empty', data: new Uint8Array(0) },
          { key: 'flow/L/0/large', data: large },
        ]),
        withArtifacts('t/1', [
          { key: 'flow/L/1/x', data: Buffer.from('pooled') },
          { key: 'flow/L/0/x', data: Uint8Array.of(4) },
        ]),
        completedRecord('t/2', 'no artifacts'),
      ]);
      // What is stored is what the records held when given.
      given[0] = 9;
      const read = async (key: string) =>
        new Uint8Array((await store().getArtifact(runId, key)) ?? [9]);
      assert.deepStrictEqual(await read('flow/L/0/x'), Uint8Array.of(4), 'the last write wins');
      assert.deepStrictEqual(await read('flow/L/0/empty'), new Uint8Array(0));
      assert.deepStrictEqual(await read('flow/L/0/large'), large);
      assert.deepStrictEqual(await read('flow/L/1/x'), new Uint8Array(Buffer.from('pooled')));
      assert.deepEqual(await listedKeys(store(), runId, 'flow/L/'), [
        'flow/L/0/empty',
        'flow/L/0/large',
        'flow/L/0/x',
        'flow/L/1/x',
      ]);
      const tasks = await store().listTasks(runId);
      assert.deepEqual(
        tasks.map((task) => [task.key, task.output, 'artifacts' in task]),
        [
          ['t/0', 'output of t/0', false],
          ['t/1', 'output of t/1', false],
          ['t/2', 'no artifacts', false],
        ],
        'records read back without their artifacts',
      );
      // Written again with other bytes, as a task that runs again does.
      const smaller = Uint8Array.of(7);
      await store().recordTasks(runId, [
        withArtifacts('t/0', [{ key: 'flow/L/0/large', data: smaller }]),
      ]);
      assert.deepStrictEqual(await read('flow/L/0/large'), smaller);
    },
  );

  it(
    'an artifact that cannot be stored refuses its whole write, naming the artifact and its task',
    caseOptions,
    async () => {
      const runId = await openFreshRun('recorded-artifacts-refused');
      for (const [label, bad] of [
        ['bytes that are not a Uint8Array', { key: 'flow/bad', data: [1, 2] }],
        ['an empty key', { key: '', data: Uint8Array.of(1) }],
      ] as const) {
        const error = await rejectionOf(
          store().recordTasks(runId, [
            withArtifacts('fine', [
              { key: 'flow/fine', data: new Uint8Array(randomBytes(100_000)) },
            ]),
            withArtifacts('refused', [
              { key: 'flow/ok', data: Uint8Array.of(1) },
              bad as unknown as ArtifactWrite,
            ]),
          ]),
          label,
        );
        assert.ok(
          isWeftError(error, 'WEFT_SERIALIZATION'),
          `${label}: WEFT_SERIALIZATION, got ${error}`,
        );
        const { message } = error as Error;
        assert.match(message, /'refused'/, `${label}: names the task`);
        if (bad.key !== '') assert.match(message, /'flow\/bad'/, `${label}: names the artifact`);
        assert.deepEqual(await store().listTasks(runId), [], `${label}: no record written`);
        assert.deepEqual(await listedKeys(store(), runId), [], `${label}: no artifact written`);
        assert.equal(await store().getArtifact(runId, 'flow/fine'), undefined, label);
      }
    },
  );

  it(
    'a write fenced by an owner who no longer holds the run writes neither records nor artifacts',
    caseOptions,
    async () => {
      const runId = freshId('recorded-artifacts-fenced');
      await store().openRun(runId, {}, { owner: 'holder' });
      const error = await rejectionOf(
        store().recordTasks(
          runId,
          [
            withArtifacts('t', [
              { key: 'small', data: Uint8Array.of(1) },
              { key: 'large', data: new Uint8Array(randomBytes(100_000)) },
            ]),
          ],
          'taken-over',
        ),
      );
      assert.ok(isWeftError(error, 'WEFT_RUN_BUSY'), `WEFT_RUN_BUSY, got ${error}`);
      assert.deepEqual(await store().listTasks(runId), []);
      assert.deepEqual(await listedKeys(store(), runId), []);
      await store().recordTasks(
        runId,
        [withArtifacts('t', [{ key: 'small', data: Uint8Array.of(2) }])],
        'holder',
      );
      assert.deepEqual([...((await store().getArtifact(runId, 'small')) ?? [])], [2]);
    },
  );

  it('artifacts written with task records keep every key apart', caseOptions, async () => {
    const runId = await openFreshRun('recorded-artifacts-keys');
    const keys = Object.values(oddKeys());
    await store().recordTasks(
      runId,
      keys.map((key, i) => withArtifacts(`task ${i}`, [{ key, data: Uint8Array.of(i % 256, 7) }])),
    );
    for (const [i, key] of keys.entries()) {
      const data = await store().getArtifact(runId, key);
      assert.deepEqual([...(data ?? [])], [i % 256, 7], JSON.stringify(key.slice(0, 40)));
    }
    assert.deepEqual(await listedKeys(store(), runId), keys.slice().sort());
  });
}
