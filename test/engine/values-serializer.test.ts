/**
 * The serializer gives back what it was given, or refuses it when it is stored: Buffers
 * come back Buffers; errors of the standard classes keep their class; what devalue or
 * JSON would store as something else (a subclass of a built-in, an array with extra
 * properties) is refused, naming the key, the path and the type; a value too large for
 * one string is refused, naming the key, before its text is built.
 */
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { defaultSerializer, isWeftError, type SerializationError } from 'weftjs';

const { encode, decode } = defaultSerializer;

function roundTrip<T>(value: T): T {
  return decode(encode(value)) as T;
}

function refusal(value: unknown, key = "Task output for key 'run/map:f/3'"): SerializationError {
  try {
    encode(value, key);
  } catch (error) {
    assert.ok(isWeftError(error, 'WEFT_SERIALIZATION'), `a SerializationError, not ${error}`);
    return error as SerializationError;
  }
  assert.fail('encode accepted a value it cannot keep');
}

describe('Buffers', () => {
  it('come back as Buffers, alone, empty, pooled and sliced', () => {
    for (const buffer of [
      Buffer.from('héllo'),
      Buffer.alloc(0),
      Buffer.from('pooled').subarray(1, 4),
      Buffer.from(new Uint8Array(4096).fill(7).buffer, 100, 20),
    ]) {
      const back = roundTrip(buffer);
      assert.ok(Buffer.isBuffer(back), `a Buffer, not ${Object.prototype.toString.call(back)}`);
      assert.deepStrictEqual(back, buffer);
    }
  });

  it('come back as Buffers inside every container, beside Uint8Arrays that stay Uint8Arrays', () => {
    const shared = Buffer.from('shared');
    const value = {
      list: [Buffer.from([1]), Uint8Array.of(2), shared, shared],
      map: new Map<unknown, unknown>([[Buffer.from('key'), Buffer.from('value')]]),
      set: new Set([Buffer.from('member')]),
    };
    const back = roundTrip(value);
    assert.deepStrictEqual(back, value);
    assert.ok(Buffer.isBuffer(back.list[0]));
    assert.ok(!Buffer.isBuffer(back.list[1]), 'a Uint8Array stays a Uint8Array');
    assert.equal(back.list[2], back.list[3], 'a Buffer reached twice is one Buffer');
    assert.ok([...back.map].flat().every((item) => Buffer.isBuffer(item)));
    assert.ok(Buffer.isBuffer([...back.set][0]));
  });
});

describe('errors', () => {
  it('of the standard classes keep their class, code, fields and cause', () => {
    const value = [
      Object.assign(new TypeError('bad', { cause: new RangeError('big') }), { code: 'E', n: 1 }),
      new SyntaxError('syntax'),
      new Error('plain', { cause: new URIError('uri') }),
    ];
    const back = roundTrip(value);
    assert.deepStrictEqual(back, value);
    assert.ok(back[0] instanceof TypeError);
    assert.ok(back[0]!.cause instanceof RangeError);
    assert.ok(back[2]!.cause instanceof URIError);
  });
});

describe('errors with fields', () => {
  it('come back with every field, enumerable or not, and the class of AggregateError', () => {
    const issues = [{ code: 'invalid_type', path: ['a', 0] }];
    const validation = Object.defineProperty(new Error('invalid'), 'issues', { value: issues });
    const http = Object.assign(new Error('http', { cause: { status: 'down' } }), {
      code: 404,
      response: { body: 'nope', headers: new Map([['x', '1']]) },
    });
    const many = new AggregateError([validation, http], 'both');
    const back = roundTrip({ many })!.many as AggregateError;
    assert.ok(back instanceof AggregateError);
    assert.deepStrictEqual(back, many);
    const [first, second] = back.errors as Array<Error & Record<string, unknown>>;
    assert.deepStrictEqual(first!.issues, issues);
    assert.equal(Object.keys(first!).includes('issues'), false, 'still not enumerable');
    assert.deepStrictEqual(second!.response, http.response);
    assert.equal(second!.code, 404);
    assert.deepStrictEqual(second!.cause, { status: 'down' });
  });

  it('are refused when a field cannot be stored, naming the key, the path and the field', () => {
    const withFunction = Object.assign(new Error('x'), { retry: { run: () => 1 } });
    const { message } = refusal({ errors: [withFunction] });
    assert.match(message, /^Task output for key 'run\/map:f\/3' cannot be stored/);
    assert.match(message, /value\.errors\[0\]\.retry\.run is a function/);
    assert.match(message, /a field of the error at value\.errors\[0\]/);
    const hidden = Object.defineProperty(new Error('y'), 'internals', { value: new Point() });
    assert.match(refusal(hidden).message, /value\.internals is an instance of class Point/);
    // One reachable from its own fields would come back a copy of itself.
    const cyclic = Object.assign(new Error('z'), { self: undefined as unknown });
    cyclic.self = { error: cyclic };
    assert.match(refusal([cyclic]).message, /value\[0\] is an error reachable from its own fields/);
  });
});

class Point {
  readonly x = 1;
}

describe('values the stores would change', () => {
  it('refuses Maps, Sets, Dates, typed arrays and Buffers with extra properties', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        Object.assign(new Map([[1, 2]]), { total: 3 }),
        /the value itself is a Map with extra properties \(total\)/,
      ],
      [
        { d: Object.assign(new Date(0), { tz: 'UTC' }) },
        /value\.d is a Date with extra properties \(tz\)/,
      ],
      [
        [Object.assign(new Set(), { [Symbol('s')]: 1 })],
        /value\[0\] is a Set with extra properties \(Symbol\(s\)\)/,
      ],
      [
        Object.assign(new Uint8Array(1), { label: 'x' }),
        /a Uint8Array with extra properties \(label\)/,
      ],
      [
        Object.assign(new Float64Array(1000), { label: 'x' }),
        /a Float64Array with extra properties \(label\)/,
      ],
      [
        { b: Object.assign(Buffer.from('x'), { label: 'x' }) },
        /value\.b is a Buffer with extra properties/,
      ],
    ];
    for (const [value, expected] of cases) assert.match(refusal(value).message, expected);
    // Without extra properties, and with the non-enumerable ones JSON drops too, they are kept.
    const plain = [new Map([[1, 2]]), new Float64Array(1000), Buffer.from('x'), /x/g];
    assert.deepStrictEqual(roundTrip(plain), plain);
  });

  it('refuses arrays with extra properties, short or long, naming the key and the path', () => {
    const cases: Array<[unknown, RegExp]> = [
      [Object.assign([1, 2], { total: 3 }), /: the value itself is an array with extra properties/],
      [{ rows: Object.assign(new Array(500).fill(0), { total: 0 }) }, /value\.rows is an array/],
      [{ match: /b/.exec('abc') }, /value\.match is an array with extra properties/],
      [[Object.assign([], { [Symbol('tag')]: 1 })], /value\[0\] is an array with extra/],
      [new Map([['m', [Object.assign(['x'], { y: 1 })]]]), /value\.get\("m"\)\[0\] is an array/],
      [{ when: new Date(0), list: Object.assign([1], { extra: true }) }, /value\.list is an array/],
    ];
    for (const [value, where] of cases) {
      const { message } = refusal(value);
      assert.match(message, /^Task output for key 'run\/map:f\/3' cannot be stored/);
      assert.match(message, where);
      assert.match(message, /\[\.\.\.value\]/, 'says how to keep the elements');
    }
  });

  it('refuses instances of subclasses of built-ins, which would come back as the built-in', () => {
    class Row extends Array<number> {}
    class Lookup extends Map<string, number> {}
    class Tags extends Set<string> {}
    class Moment extends Date {}
    class Bytes extends Uint8Array {}
    class Pattern extends RegExp {}
    const bare = Object.create(Object.create(null)) as object;
    const cases: Array<[unknown, string]> = [
      [Row.of(1, 2), 'Row'],
      [{ nested: [Row.of(3)] }, 'Row'],
      [new Lookup(), 'Lookup'],
      [new Tags(['a']), 'Tags'],
      [new Moment(0), 'Moment'],
      [new Bytes(2), 'Bytes'],
      [new Pattern('x'), 'Pattern'],
      [bare, 'Object'],
    ];
    for (const [value, name] of cases) {
      const { message } = refusal(value);
      assert.match(message, new RegExp(`is an instance of class ${name}\\. (Convert|Copy)`), name);
    }
    // A subclass of a collection is copied into the collection itself.
    assert.match(
      refusal(Row.of(1)).message,
      /Copy the Row instance into a plain Array \(\[\.\.\.value\]\)/,
    );
    assert.match(refusal(new Lookup()).message, /into a plain Map \(new Map\(value\)\)/);
  });

  it('keeps arrays and plain objects made in another realm', () => {
    const value = runInNewContext('({ list: [1, [2, { a: [3] }]], rows: [{ x: 1 }], empty: [] })');
    assert.notEqual(Object.getPrototypeOf(value.list), Array.prototype, 'made in another realm');
    assert.deepEqual(roundTrip(value), { list: [1, [2, { a: [3] }]], rows: [{ x: 1 }], empty: [] });
    assert.deepEqual(roundTrip(runInNewContext('[1, 2, 3]')), [1, 2, 3]);
    // Still refused there: an array with extra properties, and a subclass of Array.
    assert.match(
      refusal(runInNewContext('Object.assign([1], { total: 1 })')).message,
      /extra properties/,
    );
    const sub = runInNewContext('class Row extends Array {}; Row.of(1)');
    assert.match(refusal(sub).message, /an instance of class Row/);
    // An array whose prototype is an array, but no realm's Array.prototype.
    assert.match(refusal(Object.setPrototypeOf([1], [2])).message, /an instance of class Array/);
  });

  it('keeps what only looks unusual: holes, undefined elements, long plain arrays', () => {
    const holes = new Array<number>(3);
    holes[0] = 1;
    holes[2] = 3;
    const value = { holes, undefineds: [undefined], long: new Array(1000).fill('x') };
    assert.deepStrictEqual(roundTrip(value), value);
  });
});

describe('values too large for one string', () => {
  const limit = constants.MAX_STRING_LENGTH;

  it('are refused before their text is built, naming the key', () => {
    // Six characters of JSON per control character: 90 MB of string, 540 million of text.
    const big = '\u0001'.repeat(Math.ceil(limit / 6));
    for (const value of [big, { nested: [big] }]) {
      const { message } = refusal(value);
      assert.match(message, /^Task output for key 'run\/map:f\/3' cannot be stored/);
      assert.match(message, /longer than 536,870,888 characters/);
    }
  });

  it('are stored when devalue writes them shorter than JSON would', () => {
    // JSON writes the string 6,000 times (600 million characters); devalue writes it once.
    const value = new Array<string>(6000).fill('a'.repeat(100_000));
    const text = encode(value);
    assert.ok(text.length < 200_000, `${text.length} characters`);
    assert.deepStrictEqual(decode(text), value);
  });

  it('are refused when building the text throws, wherever it throws', () => {
    const value = {
      when: new Date(0),
      get huge() {
        return 'x'.repeat(limit + 1);
      },
    };
    const error = refusal(value, 'k');
    assert.match(error.message, /^k cannot be stored: its text would be longer than/);
    assert.equal((error.cause as Error).name, 'RangeError');
  });
});
