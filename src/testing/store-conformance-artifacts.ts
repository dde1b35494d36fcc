/**
 * Store conformance, artifacts: bytes round-trip whatever their size, a later write
 * replaces an earlier one, and artifactKeys lists what a run holds without reading it —
 * each key once, exactly as stored, only the run's own, by prefix, a page at a time.
 * Artifacts written with task records and batched reads have modules of their own.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { describeBatchedReadCases } from './store-conformance-artifact-reads.ts';
import { describeRecordedArtifactCases } from './store-conformance-artifact-records.ts';
import {
  type CaseOptions,
  freshId,
  freshRunOpener,
  listedKeys,
  rejectionOf,
} from './store-conformance-support.ts';

/** More keys than a store lists in one page. */
const many = 1_500;

/** Declares the artifact cases on the suite's store. */
export function describeArtifactCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = freshRunOpener(store);

  describe('artifacts', () => {
    it('bytes round-trip, from zero bytes to 1 MB', caseOptions, async () => {
      const runId = await openFreshRun('artifacts');
      const sizes = { empty: 0, one: 1, small: 1_000, mega: 1024 * 1024 };
      const written = new Map<string, Uint8Array>();
      for (const [key, size] of Object.entries(sizes)) {
        const data = new Uint8Array(randomBytes(size));
        written.set(key, data);
        await store().putArtifact(runId, key, data);
      }
      for (const [key, data] of written) {
        const read = await store().getArtifact(runId, key);
        assert.ok(read instanceof Uint8Array, `${key} comes back as a Uint8Array`);
        assert.equal(read.byteLength, data.byteLength, key);
        assert.deepStrictEqual(new Uint8Array(read), data, key);
      }
    });

    it('putArtifact replaces, and stores a copy of the bytes', caseOptions, async () => {
      const runId = await openFreshRun('artifact-replace');
      await store().putArtifact(runId, 'shard/0', Uint8Array.of(1, 2, 3));
      const replacement = Uint8Array.of(9, 8);
      await store().putArtifact(runId, 'shard/0', replacement);
      replacement[0] = 0;
      assert.deepStrictEqual(
        new Uint8Array((await store().getArtifact(runId, 'shard/0')) ?? []),
        Uint8Array.of(9, 8),
      );
      const pooled = Buffer.from('a small Buffer from the shared pool');
      await store().putArtifact(runId, 'buffer', pooled);
      assert.deepStrictEqual(
        new Uint8Array((await store().getArtifact(runId, 'buffer')) ?? []),
        new Uint8Array(pooled),
      );
    });

    it('an unknown artifact is undefined', caseOptions, async () => {
      const runId = await openFreshRun('artifact-unknown');
      assert.equal(await store().getArtifact(runId, 'nothing'), undefined);
      assert.equal(await store().getArtifact(freshId('no-run'), 'nothing'), undefined);
    });

    it("artifactKeys lists the run's own keys, each once", caseOptions, async () => {
      const runId = await openFreshRun('list');
      const other = await openFreshRun('list-other');
      assert.deepEqual(await listedKeys(store(), runId), [], 'none yet');
      for (const key of ['a/1', 'a/2', 'b/1', 'empty']) {
        await store().putArtifact(
          runId,
          key,
          key === 'empty' ? new Uint8Array(0) : Uint8Array.of(1),
        );
      }
      await store().putArtifact(runId, 'a/1', Uint8Array.of(2));
      await store().putArtifact(other, 'a/3', Uint8Array.of(3));
      assert.deepEqual(await listedKeys(store(), runId), ['a/1', 'a/2', 'b/1', 'empty']);
      assert.deepEqual(await listedKeys(store(), other), ['a/3']);
      assert.deepEqual(await listedKeys(store(), freshId('no-run')), []);
    });

    it('artifactKeys with a prefix lists the keys that start with it', caseOptions, async () => {
      const runId = await openFreshRun('list-prefix');
      const keys = [
        'flow/A/0/x',
        'flow/A/1/x',
        'flow/AB/0/x',
        'flow/a/0/x',
        'flow/A',
        '100%/x',
        '100a/x',
        'a_b',
        'axb',
        'caf\u00E9/1',
        'cafe\u0301/1',
      ];
      for (const key of keys) await store().putArtifact(runId, key, Uint8Array.of(1));
      const expect = (prefix: string) => keys.filter((key) => key.startsWith(prefix)).sort();
      for (const prefix of [
        'flow/A/',
        'flow/A',
        'flow/a',
        'flow/',
        'F',
        '100%',
        'a_',
        'caf',
        'caf\u00E9',
        'cafe',
        'a_b',
        'none',
        '',
      ]) {
        assert.deepEqual(
          await listedKeys(store(), runId, prefix),
          expect(prefix),
          `prefix ${prefix}`,
        );
      }
      assert.deepEqual(await listedKeys(store(), runId, undefined), keys.slice().sort());
    });

    it(
      `artifactKeys lists ${many.toLocaleString('en')} keys, more than a page`,
      caseOptions,
      async () => {
        const runId = await openFreshRun('list-many');
        const keys = Array.from({ length: many }, (_, i) => `many/${i}`);
        for (let start = 0; start < many; start += 50) {
          await Promise.all(
            keys
              .slice(start, start + 50)
              .map((key) => store().putArtifact(runId, key, Uint8Array.of(1))),
          );
        }
        await store().putArtifact(runId, 'other/0', Uint8Array.of(1));
        assert.deepEqual(await listedKeys(store(), runId, 'many/'), keys.slice().sort());
        assert.equal((await listedKeys(store(), runId)).length, many + 1);
      },
    );

    describeRecordedArtifactCases(store, caseOptions, openFreshRun);
    describeBatchedReadCases(store, caseOptions, openFreshRun);

    it(
      'artifactKeys refuses a prefix that is not a string, naming the run',
      caseOptions,
      async () => {
        const runId = await openFreshRun('list-invalid');
        const error = await rejectionOf(listedKeys(store(), runId, 7 as unknown as string));
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
        assert.match((error as Error).message, new RegExp(runId));
      },
    );
  });
}
