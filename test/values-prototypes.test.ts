/**
 * A stored value is hostile input: every object decoded from it has only own data
 * properties. A `__proto__` key, in JSON or devalue text, anywhere (nested, in arrays,
 * in a Map, a Set or an Error's fields), is refused; `constructor` and `prototype` are
 * plain keys. Nothing decoded sets a prototype or reaches Object.prototype.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { isWeftError } from 'weftjs';
import { defaultSerializer } from '../src/stores/serializer.ts';

const { encode, decode } = defaultSerializer;

afterEach(() => {
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype is untouched');
});

function refusesToDecode(text: string): void {
  assert.throws(
    () => decode(text),
    (error: unknown) => isWeftError(error, 'WEFT_SERIALIZATION'),
    `decoding ${text.slice(0, 80)}`,
  );
}

/** Every object inside `value` whose prototype is not the one its kind is made with. */
function forgedPrototypes(value: unknown, path = 'value', found: string[] = []): string[] {
  if (typeof value !== 'object' || value === null) return found;
  const proto: unknown = Object.getPrototypeOf(value);
  const expected = [
    ...[Object, Array, Map, Set, Date, Error].map((kind) => kind.prototype as object),
    null,
  ];
  if (!expected.includes(proto as object | null)) found.push(path);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor)) found.push(`${path}.${String(key)} (an accessor)`);
    else forgedPrototypes(descriptor.value, `${path}.${String(key)}`, found);
  }
  if (value instanceof Map) {
    for (const [key, entry] of value) {
      forgedPrototypes(key, `${path}.keys()`, found);
      forgedPrototypes(
        entry,
        `${path}.get(${typeof key === 'object' ? '...' : String(key)})`,
        found,
      );
    }
  }
  if (value instanceof Set)
    for (const entry of value) forgedPrototypes(entry, `${path}.values()`, found);
  return found;
}

// Stored text with a `__proto__` key is made by writing a same-length stand-in key and
// swapping it in the text, as someone editing the database would.
const standIn = '__prot0__';
function forged(value: unknown): string {
  const text = encode(value);
  assert.ok(text.includes(standIn), `the stand-in key is in ${text}`);
  return text.replaceAll(standIn, '__proto__');
}

const payload = () => ({ [standIn]: { isAdmin: true } });

describe('decoding a stored __proto__ key', () => {
  it('refuses it in JSON text, plain or spelled with escapes', () => {
    refusesToDecode('j{"__proto__":{"isAdmin":true}}');
    refusesToDecode('j{"\\u005f_proto__":{"isAdmin":true}}');
    refusesToDecode('j{"a":[1,{"b":{"__pr\\u006fto__":{"isAdmin":true}}}]}');
    refusesToDecode('j[{"__proto__":null}]');
  });

  it('refuses it in devalue text, nested and inside every container', () => {
    const containers: Record<string, unknown> = {
      object: { user: 'bob', ...payload() },
      'nested object': { a: { b: [payload()] }, date: new Date(0) },
      array: [undefined, payload()],
      'Map value': new Map([['k', payload()]]),
      'Map key': new Map([[payload(), 1]]),
      'Set member': new Set([payload()]),
      'object without prototype': Object.assign(Object.create(null), payload()),
      "Error's fields": Object.assign(new Error('e'), { [standIn]: 'x' }),
    };
    for (const [where, value] of Object.entries(containers)) {
      // A Date beside it keeps even plain data off the JSON fast path.
      const text = forged({ value, date: new Date(0) });
      assert.notEqual(text[0], 'j', `${where} goes to devalue`);
      refusesToDecode(text);
    }
  });

  it('refuses to store one, so that nothing stored is refused on resume', () => {
    const hostile = JSON.parse('{"user":"bob","__proto__":{"isAdmin":true}}');
    assert.throws(
      () => encode(hostile, 'k'),
      /k cannot be stored: the value itself is an object with a '__proto__' key/,
    );
  });
});

describe('decoding keys named like prototypes', () => {
  const named = {
    constructor: { prototype: { isAdmin: true } },
    prototype: { constructor: 'x' },
    hasOwnProperty: 1,
    toString: 'not a function',
    valueOf: null,
  };

  it('gives own data properties, in JSON text and in devalue text', () => {
    for (const value of [named, { named, date: new Date(0) }]) {
      const back = decode(encode(value)) as Record<string, unknown>;
      assert.deepStrictEqual(back, value);
      assert.deepEqual(forgedPrototypes(back), []);
    }
  });

  it('gives own data properties inside arrays, Maps, Sets, Errors and objects without a prototype', () => {
    const value = {
      list: [named, [named]],
      map: new Map<unknown, unknown>([
        ['constructor', named],
        [named, 'prototype'],
      ]),
      set: new Set([named]),
      error: Object.assign(new Error('e'), { constructor: 'c', prototype: 'p' }),
      bare: Object.assign(Object.create(null), named),
    };
    const back = decode(encode(value)) as typeof value;
    assert.deepStrictEqual(back, value);
    assert.deepEqual(forgedPrototypes(back), []);
    assert.equal(Object.getPrototypeOf(back.error), Error.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(back.error, 'constructor')?.value, 'c');
  });

  it('property: values with such keys round-trip to own data properties only', () => {
    const key = fc.constantFrom(
      'constructor',
      'prototype',
      'hasOwnProperty',
      '__defineGetter__',
      'a',
    );
    const values = fc.anything({
      key,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withDate: true,
    });
    fc.assert(
      fc.property(values, (value) => {
        const back = decode(encode(value));
        assert.deepStrictEqual(back, value);
        assert.deepEqual(forgedPrototypes(back), []);
      }),
      { numRuns: 300 },
    );
  });
});
