/**
 * A batch's own fields under odd keys (`__proto__`, `constructor`, NUL, a lone surrogate)
 * reach the batch rebuilt on a worker thread as own fields, with its class's prototype kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parallel } from 'weftjs/batch';
import { Odd, oddKeys } from './support/remote-hostile.ts';

describe('threads: odd keys in a batch', () => {
  it('arrive as own fields, and the rebuilt batch keeps its prototype', async () => {
    const batch = new Odd([1, 2]);
    for (const key of oddKeys) {
      Object.defineProperty(batch, key, {
        value: `value of ${key}`,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const seen = (await parallel(batch).look()) as { own: unknown[]; prototypeKept: boolean }[];
    const expected = { own: oddKeys.map((key) => `value of ${key}`), prototypeKept: true };
    assert.deepEqual(seen, [expected, expected]);
  });
});
