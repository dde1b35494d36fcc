/**
 * Store conformance, artifacts: bytes round-trip whatever their size, a later write
 * replaces an earlier one, and artifactKeys lists what a run holds without reading it —
 * each key once, exactly as stored, only the run's own, by prefix, a page at a time.
 * Artifacts written with task records (`TaskRecord.artifacts`) are stored in the records'
 * write: both or neither, refused together when an artifact cannot be stored or the
 * owner no longer holds the run, whatever their keys and sizes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import type { ArtifactWrite, Store, TaskRecord } from '../core/store.ts';
import { oddKeys } from './store-conformance-keys.ts';
import {
  type CaseOptions,
  completedRecord,
  freshId,
  rejectionOf,
} from './store-conformance-support.ts';

/** More keys than a store lists in one page. */
const many = 1_500;

/** A completed record of `key` that hands `artifacts` to the store with it. */
function withArtifacts(key: string, artifacts: readonly ArtifactWrite[]): TaskRecord {
  return { ...completedRecord(key, `output of ${key}`), artifacts };
}

/** Every key `artifactKeys` yields, sorted by code unit. */
export async function listedKeys(store: Store, runId: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.artifactKeys(runId, prefix)) keys.push(key);
  return keys.sort();
}

/** Declares the artifact cases on the suite's store. */
export function describeArtifactCases(store: () => Store, caseOptions: CaseOptions): void {
  const openFreshRun = async (label: string): Promise<string> => {
    const id = freshId(label);
    await store().openRun(id);
    return id;
  };

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

/** More keys than any store reads in one statement of getArtifacts. */
const manyRead = 2_500;

/**
 * `getArtifacts`, where the store has it: each key answered as getArtifact answers it, in
 * the order asked, whatever the keys, the sizes and the count.
 */
function describeBatchedReadCases(
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

/** Artifacts written with task records, in their write. */
function describeRecordedArtifactCases(
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
