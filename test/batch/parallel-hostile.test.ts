/**
 * Named arguments with hostile keys: `__proto__`, `constructor`, NUL and lone surrogates
 * given by a call or yielded by an init reach the method and post as own keys, exactly,
 * and no prototype changes. Random keys are generated too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { args, Batch, inbatchParallel } from 'weftjs/batch';
import { calls } from './support/conventions.ts';

const hostile = ['__proto__', 'constructor', 'prototype', 'toString', 'a\u0000b', '\ud800', ''];

/** A plain object with `keys` as own properties, `__proto__` included. */
function named(keys: readonly string[], value: (key: string) => unknown): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const key of keys) {
    Object.defineProperty(object, key, {
      value: value(key),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

class Echo extends Batch {
  initNamed: Record<string, unknown> = {};

  fromInit() {
    return this.indices.map(() => args([], this.initNamed));
  }

  @inbatchParallel({ init: 'fromInit', target: 'for', post: (results: unknown[]) => results })
  echo(...given: unknown[]) {
    return given;
  }
}

function ownEntries(value: unknown): [string, unknown][] {
  return Reflect.ownKeys(value as object).map((key) => [
    String(key),
    (value as Record<string, unknown>)[key as string],
  ]);
}

describe('hostile named arguments', () => {
  it('reach the method as own keys, init and call merged, and pollute nothing', async () => {
    const batch = calls(new Echo([1]));
    batch.initNamed = named(hostile, (key) => `init:${key}`);
    const callNamed = named(['__proto__', 'a\u0000b', 'only-call'], (key) => `call:${key}`);
    const results = (await batch.echo(callNamed)) as unknown[][];
    // One item, called with no positional arguments and the merged named ones.
    assert.equal(results.length, 1);
    assert.equal(results[0]!.length, 1);
    const given = results[0]![0];
    const expected = new Map<string, unknown>(hostile.map((key) => [key, `init:${key}`]));
    for (const [key, value] of Object.entries(callNamed)) expected.set(key, value);
    assert.deepEqual(new Map(ownEntries(given)), expected);
    assert.equal(Object.getPrototypeOf(given), Object.prototype);
    assert.equal(Object.hasOwn(Object.prototype, 'only-call'), false);
    assert.equal(({} as Record<string, unknown>)['a\u0000b'], undefined);
  });

  it('round-trip for any keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.oneof(fc.string(), fc.constantFrom(...hostile)), { maxLength: 6 }),
        async (keys) => {
          const batch = calls(new Echo([1]));
          const given = named(keys, (key) => key.length);
          const [result] = (await batch.echo('p', given)) as unknown[][];
          const expected = keys.length === 0 ? ['p'] : ['p', given];
          assert.equal(result!.length, expected.length);
          if (keys.length > 0) {
            assert.deepEqual(new Map(ownEntries(result![1])), new Map(ownEntries(given)));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
