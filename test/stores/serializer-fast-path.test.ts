/** The default serializer writes plain JSON values as JSON, and leaves the rest to devalue. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as devalue from 'devalue';
import { createSerializer } from 'weftjs';
import { decode, encode, isDevalueText, roundTrip, sparse } from './serializer-support.ts';

/** `n` arrays nested in one another around `leaf`. */
function nested(n: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < n; i++) value = [value];
  return value;
}

describe('serializer JSON fast path', () => {
  const plain: Record<string, unknown> = {
    zero: 0,
    'negative integer': -1,
    'negative fraction': -2.5e-7,
    fraction: 1.5,
    'large number': 1e21,
    'largest number': Number.MAX_VALUE,
    'smallest positive number': Number.MIN_VALUE,
    'min safe integer': Number.MIN_SAFE_INTEGER,
    'empty string': '',
    'string that looks like the marker': 'j',
    'string that looks like devalue': '[-1]',
    'unicode string': 'héllo wörld — 日本語 🧵👩‍👩‍👧 \u2028\u2029 \u0000 "quoted" \\',
    'lone surrogate': '\ud800x\udfff',
    true: true,
    false: false,
    null: null,
    'empty object': {},
    'empty array': [],
    'nested empty containers': [[], {}, [[{}]], { a: { b: [] } }],
    'nested objects and arrays': {
      user: { name: 'Ada', tags: ['a', 'b'], scores: [0, -1, 2.5], active: true, boss: null },
      rows: [
        { id: 1, cells: [[1, 2], [3]] },
        { id: 2, cells: [] },
      ],
    },
    'unicode and odd keys': { '': 1, j: 2, '1': 3, 'ключ 🔑': 4, constructor: 5, toJSON: 'x' },
    'equal but distinct objects': { a: { x: 1 }, b: { x: 1 }, c: [[1], [1]] },
    'nested ten deep': nested(10, { leaf: 'x' }),
  };

  for (const [label, value] of Object.entries(plain)) {
    it(`writes ${label} as j + JSON and reads it back`, () => {
      const text = encode(value);
      assert.equal(text, `j${JSON.stringify(value)}`);
      assert.deepStrictEqual(decode(text), value);
    });
  }

  it('keeps 0 as +0 through the fast path', () => {
    // assert/strict compares with Object.is, so 0 and -0 differ here.
    assert.equal(roundTrip(0), 0);
    assert.equal(roundTrip([0])[0], 0);
  });

  const notPlain: Record<string, unknown> = {
    '-0': -0,
    '-0 in an object': { n: -0 },
    '-0 in an array': [1, -0],
    NaN: Number.NaN,
    'NaN in an array': [Number.NaN],
    Infinity: Number.POSITIVE_INFINITY,
    '-Infinity in an object': { low: Number.NEGATIVE_INFINITY },
    undefined: undefined,
    'undefined in an object': { a: 1, gone: undefined },
    'undefined in an array': [1, undefined],
    'sparse array': sparse(1, 3),
    'sparse array in an object': { list: sparse(4, 5) },
    Date: new Date('2024-05-06T07:08:09.010Z'),
    'Date in a plain object': { ok: [1, 2], when: new Date(0) },
    Map: new Map<unknown, unknown>([
      ['a', 1],
      [2, { b: [3] }],
    ]),
    Set: new Set([1, 'two']),
    BigInt: 12n,
    'null-prototype object': Object.assign(Object.create(null), { a: 1 }),
    'nested 200 deep': nested(200, 'leaf'),
  };

  for (const [label, value] of Object.entries(notPlain)) {
    it(`leaves ${label} to devalue and reads it back`, () => {
      const text = encode(value);
      assert.ok(isDevalueText(text), `expected devalue text, got ${text.slice(0, 40)}`);
      assert.deepStrictEqual(decode(text), value);
    });
  }

  it('keeps -0 and undefined properties exactly', () => {
    assert.equal(roundTrip(-0), -0);
    assert.equal(roundTrip({ n: -0 }).n, -0);
    const back = roundTrip({ gone: undefined });
    assert.ok(Object.hasOwn(back, 'gone'), 'an undefined property stays a property');
    const holes = roundTrip(sparse(1, 3));
    assert.equal(holes.length, 3);
    assert.ok(!Object.hasOwn(holes, 1), 'the hole stays a hole');
  });

  it('leaves an object reached twice to devalue, and keeps it shared', () => {
    const shared = { n: 1, list: [1, 2] };
    const text = encode({ a: shared, b: shared });
    assert.ok(isDevalueText(text), text);
    const out = decode(text) as { a: unknown; b: unknown };
    assert.equal(out.a, out.b);
    assert.deepStrictEqual(out, { a: { n: 1, list: [1, 2] }, b: { n: 1, list: [1, 2] } });

    const row = [1, 2];
    const rows = roundTrip([row, { again: row }]);
    assert.ok(isDevalueText(encode([row, { again: row }])), 'a shared array goes to devalue');
    assert.equal(rows[0], (rows[1] as { again: unknown }).again);
  });

  it('leaves a cycle to devalue, and keeps it circular', () => {
    const cyclic: Record<string, unknown> = { name: 'root', items: [1, 2] };
    cyclic.self = cyclic;
    const text = encode(cyclic);
    assert.ok(isDevalueText(text), text);
    const out = decode(text) as Record<string, unknown>;
    assert.equal(out.self, out);
    assert.equal(out.name, 'root');
    assert.deepStrictEqual(out.items, [1, 2]);

    const list: unknown[] = [1];
    list.push(list);
    const listOut = roundTrip(list);
    assert.equal(listOut[1], listOut);

    const deep: Record<string, unknown> = { child: { grandchild: {} } };
    (deep.child as { grandchild: Record<string, unknown> }).grandchild.root = deep;
    const deepOut = roundTrip(deep) as { child: { grandchild: { root: unknown } } };
    assert.equal(deepOut.child.grandchild.root, deepOut);
  });

  it('decodes text written by devalue itself', () => {
    const values: unknown[] = [
      {
        when: new Date('2020-01-02T03:04:05.006Z'),
        map: new Map<unknown, unknown>([
          ['k', [1, 2]],
          [3, new Set(['x'])],
        ]),
      },
      new Map([[new Date(1), 1n]]),
      { plain: [1, 'two', { three: null }] },
      'a string',
      -5,
      -0,
      Number.NaN,
      undefined,
      [undefined, Number.NEGATIVE_INFINITY],
    ];
    const withCustom = createSerializer({
      types: { Never: { reduce: () => undefined, revive: (stored) => stored } },
    });
    for (const value of values) {
      const text = devalue.stringify(value);
      assert.ok(isDevalueText(text), text);
      assert.deepStrictEqual(decode(text), value, text);
      assert.deepStrictEqual(withCustom.decode(text), value, text);
    }
  });
});
