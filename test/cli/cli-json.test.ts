/**
 * `weft runs --json` and `weft show --json`: every run and task as JSON, outputs included,
 * with the values JSON cannot hold (BigInt, Map, NaN, …) written readably.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { map, openStore, task, withRun } from 'weftjs';
import { type WeftOptions, weft } from '../fixtures/weft-cli.ts';

const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'weft-cli-json-')), 'weft.db')}`;
const inStore: WeftOptions = { env: { WEFT_STORE: url } };

const odd = task('cli-json:odd', (x: bigint) => ({
  doubled: x * 2n,
  seen: new Map<unknown, unknown>([
    [1, 'one'],
    ['two', new Set([x])],
  ]),
  ratio: x === 0n ? Number.NaN : Number.POSITIVE_INFINITY,
  bytes: new Uint8Array([1, 2]),
  at: new Date(0),
}));

describe('JSON output', () => {
  before(async () => {
    const store = await openStore(url);
    try {
      const meta = { budget: 10n ** 20n, tags: new Set(['nightly']) };
      await withRun({ store, runId: 'json-1', meta }, () => map([0n, 5n], odd));
    } finally {
      await store.close();
    }
  });

  it('weft runs --json lists the runs, BigInt meta written as text', async () => {
    const listed = await weft(['runs', '--json'], inStore);
    assert.equal(listed.code, 0, listed.stderr);
    const runs = JSON.parse(listed.stdout) as Record<string, unknown>[];
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.id, 'json-1');
    assert.equal(runs[0]!.status, 'completed');
    assert.deepEqual(runs[0]!.meta, { budget: '100000000000000000000n', tags: ['nightly'] });
  });

  it('weft show --json gives each task with its output, readably', async () => {
    const shown = await weft(['show', 'json-1', '--json'], inStore);
    assert.equal(shown.code, 0, shown.stderr);
    const { run, tasks } = JSON.parse(shown.stdout);
    assert.equal(run.meta.budget, '100000000000000000000n');
    assert.deepEqual(
      tasks.map((t: { key: string; output: unknown }) => [t.key, t.output]),
      [
        [
          'json-1/map:cli-json:odd/0',
          {
            doubled: '0n',
            seen: [
              [1, 'one'],
              ['two', ['0n']],
            ],
            ratio: 'NaN',
            bytes: [1, 2],
            at: '1970-01-01T00:00:00.000Z',
          },
        ],
        [
          'json-1/map:cli-json:odd/1',
          {
            doubled: '10n',
            seen: [
              [1, 'one'],
              ['two', ['5n']],
            ],
            ratio: 'Infinity',
            bytes: [1, 2],
            at: '1970-01-01T00:00:00.000Z',
          },
        ],
      ],
    );
  });
});
