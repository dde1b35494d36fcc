/**
 * Store conformance, exact keys: any string is a key, and reads back as itself, apart from
 * every other key. Lone surrogates (a title cut in the middle of an emoji), NUL, very long
 * keys, keys equal after Unicode normalization, names of Object.prototype, and keys that
 * look like a store's own escapes, for task records, artifacts (listed too, by prefix) and
 * checkpoints.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isWeftError, toWire } from '../core/errors.ts';
import type { Store, TaskRecord } from '../core/store.ts';
import {
  type CaseOptions,
  checkpoint,
  completedRecord,
  failedRecord,
  freshId,
  listedKeys,
  rejectionOf,
} from './store-conformance-support.ts';

/** A long key of random letters, which no database can compress to fit an index. */
function longKey(length: number, tail = ''): string {
  return randomBytes(length).toString('base64url').slice(0, length) + tail;
}

/**
 * Keys that a store must keep apart and read back exactly, by label. Made once per suite:
 * the long ones are random.
 */
export function oddKeys(): Record<string, string> {
  const long = longKey(10_000);
  return {
    'lone high surrogate': 'summary of A\uD83D',
    'lone low surrogate': 'summary of A\uDE00',
    'U+FFFD, what a database makes of a lone surrogate': 'summary of A\uFFFD',
    'a whole emoji': 'summary of A\uD83D\uDE00',
    'a surrogate pair reversed': 'summary of A\uDE00\uD83D',
    'two lone high surrogates': 'summary of A\uD83D\uD83D',
    NUL: 'nul\u0000key',
    'NUL alone': '\u0000',
    'without the NUL': 'nulkey',
    'NFC é': 'caf\u00E9',
    'NFD é': 'cafe\u0301',
    'NFKC ﬁ': 'o\uFB01ce',
    __proto__: '__proto__',
    constructor: 'constructor',
    prototype: 'prototype',
    hasOwnProperty: 'hasOwnProperty',
    toString: 'toString',
    'U+FFFF': '\uFFFF',
    'U+FFFF then text': '\uFFFFsummary of A',
    'an escape of the high surrogate': '\uFFFF~summary of A%D83D',
    'an escape of the NUL': '\uFFFF~nul%0000key',
    'a digest': `\uFFFF#${'0'.repeat(64)}`,
    percent: '%',
    'percent and hex': '%D83D',
    'case: upper': 'Key',
    'case: lower': 'key',
    'dot dot': '..',
    slash: 'a/b\\c',
    'spaces and controls': ' \t\r\n\u2028 ',
    'very long': long,
    'very long, one more character': `${long}x`,
    'very long, a lone surrogate at the end': `${long}\uD83D`,
    'very long, U+FFFD at the end': `${long}\uFFFD`,
    'very long, multi-byte': '\u00E9\u4E2D\uD83D\uDE00'.repeat(2_000),
  };
}

/** Declares the exact key cases on the suite's store. */
export function describeKeyCases(store: () => Store, caseOptions: CaseOptions): void {
  const keys = oddKeys();
  const labels = Object.keys(keys);
  const values = Object.values(keys);

  describe('exact keys', () => {
    it('the odd keys are distinct strings', () => {
      assert.equal(new Set(values).size, values.length);
    });

    it('task records keep every key apart and read it back exactly', caseOptions, async () => {
      const runId = freshId('keys');
      await store().openRun(runId);
      const records = values.map((key, i) =>
        i % 5 === 4
          ? failedRecord(key, toWire(new Error(labels[i])))
          : completedRecord(key, labels[i]),
      );
      await store().recordTasks(runId, records);
      const completed = records.filter((record) => record.status === 'completed');
      const expected = new Map(completed.map((record) => [record.key, record.output]));

      const listed = await store().listTasks(runId);
      assertKeys(
        listed.map((record) => record.key),
        values,
        'listTasks',
      );
      for (const record of listed) assert.equal(record.output, expected.get(record.key));
      const streamed: TaskRecord[] = [];
      for await (const record of store().streamTasks(runId)) streamed.push(record);
      assertKeys(
        streamed.map((record) => record.key),
        values,
        'streamTasks',
      );
      assertOutputs(await store().completedOutputs(runId), expected, 'completedOutputs');
      assertOutputs(await store().findCompleted(runId, values), expected, 'findCompleted');
      assert.equal(await store().countCompleted(runId), completed.length);
      for (const [i, key] of values.entries()) {
        const found = await store().findCompleted(runId, [key]);
        assert.deepEqual(
          [...found],
          expected.has(key) ? [[key, labels[i]]] : [],
          `findCompleted of ${labels[i]}`,
        );
      }
    });

    it('a key recorded again replaces its own record only', caseOptions, async () => {
      const runId = freshId('keys-again');
      await store().openRun(runId);
      await store().recordTasks(
        runId,
        values.map((key, i) => completedRecord(key, labels[i])),
      );
      // Both at once, in one batch: each key's own row, never another's.
      await store().recordTasks(runId, [
        completedRecord(keys['lone high surrogate']!, 'again, high'),
        completedRecord(keys['U+FFFD, what a database makes of a lone surrogate']!, 'again, FFFD'),
        completedRecord(keys['very long, a lone surrogate at the end']!, 'again, long'),
      ]);
      const outputs = await store().completedOutputs(runId);
      assert.equal(outputs.size, values.length);
      assert.equal(outputs.get(keys['lone high surrogate']!), 'again, high');
      assert.equal(outputs.get(keys['lone low surrogate']!), 'lone low surrogate');
      assert.equal(
        outputs.get(keys['U+FFFD, what a database makes of a lone surrogate']!),
        'again, FFFD',
      );
      assert.equal(outputs.get(keys['very long, a lone surrogate at the end']!), 'again, long');
      assert.equal(
        outputs.get(keys['very long, U+FFFD at the end']!),
        'very long, U+FFFD at the end',
      );
      assert.equal(outputs.get(keys['a whole emoji']!), 'a whole emoji');
    });

    it('artifacts keep every key apart', caseOptions, async () => {
      const runId = freshId('keys-artifacts');
      await store().openRun(runId);
      for (const [i, key] of values.entries()) {
        await store().putArtifact(runId, key, Uint8Array.of(i, i + 1));
      }
      for (const [i, key] of values.entries()) {
        const data = await store().getArtifact(runId, key);
        assert.deepEqual([...(data ?? [])], [i, i + 1], labels[i]);
      }
      assertKeys(await listedKeys(store(), runId), values.slice().sort(), 'artifactKeys');
      // Prefixes that are not plain text, or long: what starts with each, by code unit.
      for (const prefix of [
        'summary of A',
        'summary of A\uD83D',
        'summary of A\uDE00',
        '\uFFFF',
        '\uFFFF~',
        'nul\u0000',
        '%',
        'caf',
        keys['very long']!.slice(0, 5_000),
        '\u00E9\u4E2D\uD83D',
      ]) {
        const expected = values.filter((key) => key.startsWith(prefix)).sort();
        assertKeys(
          await listedKeys(store(), runId, prefix),
          expected,
          `artifactKeys with prefix ${JSON.stringify(prefix).slice(0, 30)}`,
        );
      }
    });

    it('checkpoints keep every application id and partition key apart', caseOptions, async () => {
      const prefix = freshId('keys-app');
      const saved = values.map((key, i) => ({
        ...checkpoint(`${prefix}/${key}`, key, i),
        position: labels[i]!,
      }));
      for (const one of saved) await store().saveCheckpoint(one);
      for (const [i, one] of saved.entries()) {
        const loaded = await store().loadCheckpoint(one.appId, one.partitionKey);
        assert.equal(loaded?.position, labels[i], labels[i]);
        assert.equal(loaded?.appId, one.appId, `appId of ${labels[i]}`);
        assert.equal(loaded?.partitionKey, one.partitionKey, `partitionKey of ${labels[i]}`);
      }
      // Each odd key as the application id, under one partition.
      for (const [i, key] of values.entries()) {
        await store().saveCheckpoint({ ...checkpoint(key, prefix, 7), position: labels[i]! });
      }
      for (const [i, key] of values.entries()) {
        const loaded = await store().loadCheckpoint(key, prefix, 7);
        assert.equal(loaded?.position, labels[i], labels[i]);
        assert.equal(loaded?.appId, key);
      }
    });

    it('a run id a database cannot keep exactly is refused, naming it', caseOptions, async () => {
      for (const id of ['run\uD83D', 'run\u0000', `run-${'x'.repeat(1_100)}`]) {
        const error = await rejectionOf(store().openRun(id));
        assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `WEFT_VALIDATION: ${error}`);
        assert.match((error as Error).message, /Run id .*run/);
      }
      // Up to 1,024 bytes of UTF-8 is kept.
      const longest = `run-${'\u00E9'.repeat(510)}`;
      assert.equal((await store().openRun(longest)).id, longest);
      assert.equal((await store().getRun(longest))?.id, longest);
    });
  });
}

function assertKeys(actual: readonly string[], expected: readonly string[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: one record per key`);
  actual.forEach((key, i) => {
    assert.ok(
      key === expected[i],
      `${what}: key ${i} is ${JSON.stringify(expected[i]).slice(0, 60)}`,
    );
  });
}

function assertOutputs(
  actual: ReadonlyMap<string, unknown>,
  expected: ReadonlyMap<string, unknown>,
  what: string,
): void {
  assert.equal(actual.size, expected.size, `${what}: one output per completed key`);
  for (const [key, output] of expected) {
    assert.ok(actual.has(key), `${what}: has ${JSON.stringify(key).slice(0, 60)}`);
    assert.equal(actual.get(key), output, `${what}: output of ${output}`);
  }
}
