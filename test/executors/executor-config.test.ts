/** Executors chosen by configuration: worker counts given as text are whole, safe numbers. */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { processes, threads, ValidationError } from 'weftjs';
import { executorFromEnv, parseWorkers } from '../../src/executors/from-env.ts';

describe('worker counts', () => {
  it('read from text: whole numbers from 1, nothing else', () => {
    assert.equal(parseWorkers('4'), 4);
    assert.equal(parseWorkers(' 2 '), 2);
    assert.equal(parseWorkers(undefined), undefined);
    assert.equal(parseWorkers(''), undefined);
    for (const bad of [
      '0',
      '-1',
      '1.5',
      '1e3',
      '0x10',
      'two',
      '99999999999999999999',
      'Infinity',
    ]) {
      assert.throws(
        () => parseWorkers(bad, '--workers'),
        (error: Error) =>
          error instanceof ValidationError &&
          error.message.includes(`--workers`) &&
          error.message.includes(bad),
        bad,
      );
    }
  });

  it('given in code: a pool of 2**60 workers is refused, not attempted', () => {
    for (const make of [threads, processes]) {
      assert.throws(() => make({ workers: 2 ** 60 }), ValidationError);
    }
  });

  it('a pool of more than 16 workers per core (never fewer than 64) is refused, naming the option and the limit', async () => {
    const limit = Math.max(64, 16 * availableParallelism());
    const refused = (kind: string) => (error: Error) =>
      error instanceof ValidationError &&
      error.message.includes(`${kind}: ${limit + 1} workers`) &&
      error.message.includes(`at most ${limit}`) &&
      error.message.includes('--workers') &&
      error.message.includes('WEFT_WORKERS');
    for (const [kind, make] of [
      ['threads', threads],
      ['processes', processes],
    ] as const) {
      // Pools start their workers on first use: making one at the limit costs nothing.
      await make({ workers: limit }).close();
      assert.throws(() => make({ workers: limit + 1 }), refused(kind));
      assert.throws(() => executorFromEnv(kind, parseWorkers(String(limit + 1))), refused(kind));
    }
    // asyncPool has no workers: the number is its concurrency, which may be large.
    const pool = executorFromEnv('asyncPool', parseWorkers(String(limit * 10)));
    assert.equal(pool.concurrency, limit * 10);
    await pool.close();
  });
});
