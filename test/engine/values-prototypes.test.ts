/**
 * A stored value is hostile input: every object decoded from it has only own data
 * properties. A `__proto__` key in JSON or plain devalue text, anywhere (nested, in
 * arrays, in a Map, a Set or an Error's fields), is refused; an object that had an own
 * `__proto__` key is stored in a form of its own and comes back with that own key;
 * `constructor` and `prototype` are plain keys. Nothing decoded sets a prototype or
 * reaches Object.prototype.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultSerializer, isWeftError, MemoryStore, State } from 'weftjs';
import { hasInvalidDate } from '../fixtures/invalid-date.ts';

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

  it('stores one as the own key it is, never a prototype, in every container', () => {
    const parsed = JSON.parse('{"user":"bob","__proto__":{"isAdmin":true}}');
    const bare = Object.defineProperty(Object.create(null), '__proto__', {
      value: 1,
      enumerable: true,
      writable: true,
    });
    const value = { parsed, list: [parsed], map: new Map([['m', bare]]), set: new Set([bare]) };
    const back = decode(encode(value, 'k')) as typeof value;
    assert.deepStrictEqual(back, value);
    assert.ok(Object.hasOwn(back.parsed, '__proto__'));
    assert.equal(Object.getPrototypeOf(back.parsed), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back.parsed, '__proto__')?.value, {
      isAdmin: true,
    });
    assert.equal(back.list[0], back.parsed, 'a shared object stays shared');
    assert.equal(Object.getPrototypeOf(back.map.get('m')), null);
    // One reachable from its own values would come back a copy of itself: refused.
    const cyclic = JSON.parse('{"__proto__":{}}');
    cyclic.self = cyclic;
    assert.throws(() => encode(cyclic, 'k'), /k cannot be stored: .*reachable from its own values/);
  });

  it("keeps a State's '__proto__' key through a checkpoint", async () => {
    const state = State.of({}).update(JSON.parse('{"__proto__":{"isAdmin":true},"user":"bob"}'));
    const store = new MemoryStore();
    await store.saveCheckpoint({
      appId: 'a',
      partitionKey: '',
      sequenceId: 0,
      position: 'x',
      state: state.toObject(),
      status: 'completed',
      createdAt: 0,
    });
    const saved = (await store.loadCheckpoint('a'))?.state as Record<string, unknown>;
    assert.deepStrictEqual(saved, state.toObject());
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
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
    const values = fc
      .anything({
        key,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withDate: true,
      })
      // Invalid Dates round-trip, but deepStrictEqual cannot say so (NaN is not NaN).
      .filter((value) => !hasInvalidDate(value));
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
