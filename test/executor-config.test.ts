/** Executors chosen by configuration: worker counts given as text are whole, safe numbers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processes, threads, ValidationError } from 'weftjs';
import { parseWorkers } from '../src/executors/from-env.ts';

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
});
