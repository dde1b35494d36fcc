/** The default serializer's round trips and fast path, checked on generated values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createSerializer } from 'weftjs';
import { decode, encode, isDevalueText } from './serializer-support.ts';

/**
 * An independent statement of the fast-path rule for trees (values without shared
 * references): finite numbers other than -0, strings, booleans, null, arrays without
 * holes or undefined items, and plain objects without symbol keys or a `__proto__` key.
 */
function isJsonTree(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!Object.hasOwn(value, i) || value[i] === undefined || !isJsonTree(value[i])) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  if (Object.getOwnPropertySymbols(value).length > 0 || Object.hasOwn(value, '__proto__')) {
    return false;
  }
  return Object.values(value).every(isJsonTree);
}

function hasNegativeZero(value: unknown): boolean {
  if (Object.is(value, -0)) return true;
  return typeof value === 'object' && value !== null && Object.values(value).some(hasNegativeZero);
}

function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.hasOwn(value, '__proto__') || Object.values(value).some(hasProtoKey);
}

describe('serializer properties', () => {
  // Any code point, lone surrogates included: JSON and devalue must both keep them.
  const textUnit = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
  );
  const text = fc.string({ unit: textUnit, maxLength: 12 });
  const key = text.filter((k) => k !== '__proto__');
  const leaf = fc.oneof(
    text,
    fc.double(),
    fc.integer(),
    fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
  );
  const { value: supported } = fc.letrec((tie) => ({
    value: fc.oneof(
      { maxDepth: 5, depthSize: 'small' },
      leaf,
      tie('array'),
      tie('object'),
      tie('plainObject'),
      tie('sparse'),
      tie('map'),
      tie('set'),
    ),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    plainObject: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    sparse: fc.sparseArray(tie('value'), { maxLength: 5 }),
    map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((e) => new Map(e)),
    set: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
  }));

  it('property: JSON values take the fast path, except -0, and round-trip', () => {
    const json = fc.jsonValue({ maxDepth: 10, stringUnit: textUnit });
    // fc.jsonValue makes -0 and '__proto__' keys (as JSON.parse can), but too rarely for
    // 500 runs: add both on purpose.
    const values = fc.oneof(
      { arbitrary: json, weight: 8 },
      { arbitrary: json.map((value) => [value, { zero: -0 }]), weight: 1 },
      {
        arbitrary: json.map((value) => JSON.parse(`{"__proto__":${JSON.stringify(value)}}`)),
        weight: 1,
      },
    );
    fc.assert(
      fc.property(values, (value) => {
        const text = encode(value);
        if (hasProtoKey(value)) {
          // JSON.parse can make an own '__proto__' key: stored in devalue's text, kept as a key.
          assert.ok(isDevalueText(text), `a '__proto__' key must go to devalue: ${text}`);
        } else if (hasNegativeZero(value)) {
          assert.ok(isDevalueText(text), `-0 must go to devalue: ${text}`);
        } else {
          assert.equal(text, `j${JSON.stringify(value)}`);
        }
        assert.deepStrictEqual(decode(text), value);
      }),
      { numRuns: 500 },
    );
  });

  it('property: supported values round-trip, on the fast path exactly when plain JSON', () => {
    fc.assert(
      fc.property(supported, (value) => {
        const text = encode(value);
        assert.equal(text.startsWith('j'), isJsonTree(value), text);
        if (!text.startsWith('j')) assert.ok(isDevalueText(text), text);
        const back = decode(text);
        assert.deepStrictEqual(back, value);
        assert.equal(encode(back), text, 'encoding is stable');
      }),
      { numRuns: 500 },
    );
  });

  it('property: a value reached twice or in a cycle stays shared', () => {
    const container = supported.filter((v) => typeof v === 'object' && v !== null);
    fc.assert(
      fc.property(container, (shared) => {
        const value: Record<string, unknown> = { a: shared, b: shared, list: [shared] };
        value.self = value;
        const text = encode(value);
        assert.ok(isDevalueText(text), text);
        const out = decode(text) as Record<string, unknown>;
        assert.equal(out.a, out.b);
        assert.equal((out.list as unknown[])[0], out.a);
        assert.equal(out.self, out);
        assert.deepStrictEqual(out, value);
      }),
      { numRuns: 500 },
    );
  });

  it('property: a serializer with custom types reads and writes the same values', () => {
    const withNoop = createSerializer({
      types: { Noop: { reduce: () => undefined, revive: (stored) => stored } },
    });
    fc.assert(
      fc.property(supported, (value) => {
        const custom = withNoop.encode(value);
        assert.ok(isDevalueText(custom), custom);
        assert.deepStrictEqual(withNoop.decode(custom), value);
        assert.deepStrictEqual(withNoop.decode(encode(value)), value);
        assert.deepStrictEqual(decode(custom), value);
      }),
      { numRuns: 500 },
    );
  });
});
