/**
 * Store conformance, batched artifact reads (`getArtifacts`, where the store has it):
 * each key answered as getArtifact answers it, in the order asked, whatever the keys, the
 * sizes and the count.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it, type TestContext } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { oddKeys } from './store-conformance-keys.ts';
import {
  type CaseOptions,
  freshId,
  rejectionOf,
  withArtifacts,
} from './store-conformance-support.ts';

/** More keys than any store reads in one statement of getArtifacts. */
const manyRead = 2_500;

/**
 * `getArtifacts`, where the store has it: each key answered as getArtifact answers it, in
 * the order asked, whatever the keys, the sizes and the count.
 */
export function describeBatchedReadCases(
  store: () => Store,
  caseOptions: CaseOptions,
  openFreshRun: (label: string) => Promise<string>,
): void {
  /** The store's batched read, or undefined (the case is then skipped, saying why). */
  const batched = (t: TestContext) => {
    const s = store();
    if (s.getArtifacts === undefined) t.skip('the store has no getArtifacts (it is optional)');
    return s.getArtifacts?.bind(s);
  };
  /** Answers as plain bytes, undefined kept, for comparing. */
  const plain = (answers: readonly (Uint8Array | undefined)[]) =>
    answers.map((answer) => answer && new Uint8Array(answer));

  it(
    'getArtifacts answers in the order asked, undefined for keys not held',
    caseOptions,
    async (t) => {
      const getArtifacts = batched(t);
      if (!getArtifacts) return;
      const runId = await openFreshRun('get-many');
      const other = await openFreshRun('get-many-other');
      await store().putArtifact(runId, 'a/1', Uint8Array.of(1));
      await store().putArtifact(runId, 'a/2', Uint8Array.of(2));
      await store().putArtifact(runId, 'empty', new Uint8Array(0));
      await store().putArtifact(other, 'only-other', Uint8Array.of(3));
      const asked = ['a/2', 'missing', 'a/1', 'only-other', 'a/2', 'empty'];
      const answers = await getArtifacts(runId, asked);
      assert.equal(answers.length, asked.length);
      assert.ok(answers[0] instanceof Uint8Array, 'bytes come back as a Uint8Array');
      assert.deepStrictEqual(plain(answers), [
        Uint8Array.of(2),
        undefined,
        Uint8Array.of(1),
        undefined,
        Uint8Array.of(2),
        new Uint8Array(0),
      ]);
      assert.deepEqual(await getArtifacts(runId, []), []);
      assert.deepEqual(await getArtifacts(freshId('no-run'), ['a/1', 'a/2']), [
        undefined,
        undefined,
      ]);
      // Copies: changing what came back changes nothing stored.
      answers[0]![0] = 9;
      assert.deepStrictEqual(plain(await getArtifacts(runId, ['a/2'])), [Uint8Array.of(2)]);
    },
  );

  it(
    'getArtifacts reads odd keys exactly: NUL, lone surrogates, __proto__, long keys',
    caseOptions,
    async (t) => {
      const getArtifacts = batched(t);
      if (!getArtifacts) return;
      const runId = await openFreshRun('get-many-odd');
      const keys = Object.values(oddKeys());
      const bytesOf = (i: number) => Uint8Array.of(i % 256, Math.floor(i / 256));
      // Every other key stored: its neighbours in the list must not answer for it.
      const stored = keys.filter((_, i) => i % 2 === 0);
      await store().recordTasks(runId, [
        withArtifacts(
          'odd',
          stored.map((key) => ({ key, data: bytesOf(keys.indexOf(key)) })),
        ),
      ]);
      const expected = keys.map((_, i) => (i % 2 === 0 ? bytesOf(i) : undefined));
      assert.deepStrictEqual(plain(await getArtifacts(runId, keys)), expected);
      assert.deepStrictEqual(
        plain(await getArtifacts(runId, keys.slice().reverse())),
        expected.slice().reverse(),
      );
      for (const [i, key] of keys.entries()) {
        const one = await store().getArtifact(runId, key);
        assert.deepStrictEqual(one && new Uint8Array(one), expected[i], 'as getArtifact reads it');
      }
    },
  );

  it('getArtifacts reads large values beside small ones', caseOptions, async (t) => {
    const getArtifacts = batched(t);
    if (!getArtifacts) return;
    const runId = await openFreshRun('get-many-large');
    const large = new Uint8Array(randomBytes(200 * 1024));
    const mega = new Uint8Array(randomBytes(1024 * 1024));
    await store().recordTasks(runId, [
      withArtifacts('large', [
        { key: 'large', data: large },
        { key: 'small', data: Uint8Array.of(5) },
      ]),
    ]);
    await store().putArtifact(runId, 'mega', mega);
    assert.deepStrictEqual(
      plain(await getArtifacts(runId, ['mega', 'small', 'missing', 'large', 'mega'])),
      [mega, Uint8Array.of(5), undefined, large, mega],
    );
  });

  it(
    `getArtifacts reads ${manyRead.toLocaleString('en')} keys, more than a statement`,
    caseOptions,
    async (t) => {
      const getArtifacts = batched(t);
      if (!getArtifacts) return;
      const runId = await openFreshRun('get-many-count');
      const keys = Array.from({ length: manyRead }, (_, i) => `many/${i}`);
      // Every seventh key is not stored: misses in every statement.
      await store().recordTasks(runId, [
        withArtifacts(
          'many',
          keys.filter((_, i) => i % 7 !== 3).map((key) => ({ key, data: Buffer.from(key) })),
        ),
      ]);
      const answers = await getArtifacts(runId, keys);
      assert.equal(answers.length, manyRead);
      for (const [i, key] of keys.entries()) {
        const answer = answers[i];
        if (i % 7 === 3) assert.equal(answer, undefined, key);
        else assert.equal(answer && Buffer.from(answer).toString(), key, key);
      }
    },
  );

  it('getArtifacts refuses keys that are not non-empty strings', caseOptions, async (t) => {
    const getArtifacts = batched(t);
    if (!getArtifacts) return;
    const runId = await openFreshRun('get-many-invalid');
    for (const keys of ['a/1', ['a/1', ''], ['a/1', 7]] as unknown as string[][]) {
      const error = await rejectionOf(getArtifacts(runId, keys));
      assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
    }
  });
}
