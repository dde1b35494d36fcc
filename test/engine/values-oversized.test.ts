/**
 * One output too large for a string fails its own task, not the run: the others of its
 * write group are stored. The smallest such output is a string whose JSON escapes make
 * its text six times as long: 90 million control characters (90 MB) give a text longer
 * than the longest JavaScript string (2^29 - 24 characters).
 */
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isWeftError, MemoryStore, map, type Store, type TaskRecord, withRun } from 'weftjs';
import { SqliteStore } from 'weftjs/sqlite';
import { controlCharacters } from '../fixtures/values-tasks.ts';

const folder = mkdtempSync(join(tmpdir(), 'weft-oversized-'));
after(() => rmSync(folder, { recursive: true, force: true }));

// Each control character is written \u0001; with quotes and the marker, one more passes.
const tooLong = Math.ceil((constants.MAX_STRING_LENGTH - 3) / 6) + 1;
const lengths = [1, 2, tooLong, 3, 4];
const big = lengths.indexOf(tooLong);

/** Runs the map in one write group and checks that only the big output failed. */
async function runAndCheck(store: Store, runId: string): Promise<void> {
  const outcomes = await withRun({ store, runId }, () =>
    map(lengths, controlCharacters, { onError: 'collect' }),
  );
  lengths.forEach((length, i) => {
    if (i === big) return;
    assert.equal(outcomes[i], '\u0001'.repeat(length));
  });
  const error = outcomes[big] as Error;
  assert.ok(isWeftError(error, 'WEFT_SERIALIZATION'), String(error));
  assert.match(error.message, new RegExp(`'${runId}/map:values:controlCharacters[^ ]*/${big}'`));
  assert.match(error.message, /too large|longer than/);
  const records = await store.listTasks(runId);
  const completed = records.filter((record) => record.status === 'completed');
  assert.equal(completed.length, lengths.length - 1, 'every other output was stored');
  assert.equal(
    records.find((record) => record.status === 'failed')?.key,
    error.message.match(/'([^']+)'/)?.[1],
  );
}

describe('an output too large to store', () => {
  it('fails only its task on SQLite, and the rest of its write group is stored', async () => {
    const store = await SqliteStore.open(join(folder, 'oversized.db'));
    try {
      await runAndCheck(store, 'oversized-sqlite');
    } finally {
      await store.close();
    }
  });

  it('fails only its task when the store itself cannot make the string', async () => {
    // A driver that builds one string of the whole write, as a SQL client may.
    const memory = new MemoryStore();
    const store = Object.create(memory) as Store;
    store.recordTasks = (runId: string, records: readonly TaskRecord[]) => {
      if (records.some((record) => typeof record.output === 'string' && record.output.length > 4)) {
        'x'.repeat(constants.MAX_STRING_LENGTH + 1);
      }
      return memory.recordTasks(runId, records);
    };
    const outcomes = await withRun({ store, runId: 'driver' }, () =>
      map([1, 2, 5, 3], controlCharacters, { onError: 'collect' }),
    );
    assert.deepEqual(outcomes.filter((outcome) => typeof outcome === 'string').length, 3);
    const error = outcomes[2] as Error;
    assert.ok(isWeftError(error, 'WEFT_SERIALIZATION'), String(error));
    assert.match(error.message, /'driver\/map:values:controlCharacters[^ ]*\/2' cannot be stored/);
    assert.equal((error.cause as Error).name, 'RangeError');
    const records = await memory.listTasks('driver');
    assert.equal(records.filter((record) => record.status === 'completed').length, 3);
  });
});
