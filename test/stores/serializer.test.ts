/**
 * The default serializer: every type the contract promises round-trips, alone and
 * nested, errors included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isWeftError, TaskFailedError, ValidationError } from 'weftjs';
import { hasInvalidDate } from '../fixtures/invalid-date.ts';
import { decode, encode, roundTrip, sparse } from './serializer-support.ts';

describe('serializer round trips', () => {
  const samples: Record<string, unknown> = {
    string: 'quotes " and \\ and <script> and \u2028 and emoji 🧵',
    'empty string': '',
    number: 1.5,
    'max safe integer': Number.MAX_SAFE_INTEGER,
    true: true,
    false: false,
    null: null,
    'JSON object': { a: 1, b: [true, null, 'x'], c: { d: {} } },
    'JSON array': [1, 'two', [3], { four: 4 }],
    undefined: undefined,
    'undefined in an array': [undefined, 1, undefined],
    'undefined in an object': { present: undefined },
    NaN: Number.NaN,
    Infinity: Number.POSITIVE_INFINITY,
    '-Infinity': Number.NEGATIVE_INFINITY,
    '-0': -0,
    '-0 in an array': [0, -0],
    Date: new Date('2001-02-03T04:05:06.789Z'),
    Map: new Map<unknown, unknown>([
      [1, 'one'],
      ['1', 'string one'],
      [{ k: 1 }, [1]],
    ]),
    Set: new Set<unknown>([1, '1', undefined, 3n]),
    BigInt: 2n ** 100n,
    'negative BigInt': -(2n ** 70n),
    RegExp: /a+b*[c-d]\/(?<name>e)/gimsuy,
    Int8Array: Int8Array.of(-1, 2),
    Uint8Array: Uint8Array.of(0, 255),
    Uint8ClampedArray: Uint8ClampedArray.of(3, 255),
    Int16Array: Int16Array.of(-300, 300),
    Uint16Array: Uint16Array.of(65_535),
    Int32Array: Int32Array.of(-70_000),
    Uint32Array: Uint32Array.of(4_000_000_000),
    Float32Array: Float32Array.of(0.5, Number.NaN, Number.POSITIVE_INFINITY),
    Float64Array: Float64Array.of(Math.E, -0),
    BigInt64Array: BigInt64Array.of(-5n),
    BigUint64Array: BigUint64Array.of(2n ** 64n - 1n),
    'empty typed array': new Float64Array(0),
    ArrayBuffer: Uint8Array.of(1, 2, 3).buffer,
    'empty ArrayBuffer': new ArrayBuffer(0),
    'sparse array': sparse(1, 3),
    'null-prototype object': Object.assign(Object.create(null), { a: 1 }),
  };

  for (const [label, value] of Object.entries(samples)) {
    it(label, () => {
      assert.deepStrictEqual(roundTrip(value), value);
    });
  }

  it('an invalid Date', () => {
    // deepStrictEqual calls two invalid Dates different (NaN !== NaN), so check by hand.
    const back = roundTrip(new Date(Number.NaN));
    assert.ok(back instanceof Date);
    assert.ok(Number.isNaN(back.getTime()));
  });

  it('keeps undefined properties as properties', () => {
    const back = roundTrip({ a: undefined, b: [undefined] });
    assert.ok(Object.hasOwn(back, 'a'));
    assert.equal(back.b.length, 1);
    assert.ok(Object.hasOwn(back.b, 0), 'an undefined element is not a hole');
  });

  it('copies only its own bytes out of a larger buffer', () => {
    const pooled = Buffer.from('hello');
    assert.ok(pooled.buffer.byteLength > 1_000, 'Node pools small Buffers in a large buffer');
    const text = encode(pooled);
    assert.ok(text.length < 100, `encoded a 5-byte Buffer in ${text.length} characters`);
    const back = decode(text);
    assert.ok(Buffer.isBuffer(back), 'a Buffer comes back a Buffer');
    assert.deepStrictEqual(back, pooled);
    assert.equal((back as Buffer).buffer.byteLength, 5, 'with only its own bytes');

    const whole = Int16Array.of(1, 2, 3, 4, 5);
    const middle = whole.subarray(1, 3);
    assert.deepStrictEqual(roundTrip(middle), Int16Array.of(2, 3));
    const view = new DataView(whole.buffer, 2, 4);
    const viewBack = roundTrip(view);
    assert.ok(viewBack instanceof DataView);
    assert.equal(viewBack.byteLength, 4);
    assert.equal(viewBack.getInt16(0, true), 2);
  });

  it('keeps shared and circular references', () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { left: shared, right: shared };
    cyclic.self = cyclic;
    const back = roundTrip(cyclic);
    assert.equal(back.left, back.right);
    assert.equal(back.self, back);
  });

  it('round-trips every type nested inside every container', () => {
    const value = {
      list: [new Map([[1n, new Set([new Date(5), /x/g])]]), undefined, Number.NaN, -0],
      map: new Map<unknown, unknown>([
        [new Date(7), { bytes: Uint8Array.of(7), more: [BigInt64Array.of(7n)] }],
        [undefined, [Number.NEGATIVE_INFINITY]],
      ]),
      set: new Set([[1, 2], { three: new ArrayBuffer(3) }]),
      deep: { deeper: { deepest: [[[[{ leaf: 10n ** 30n }]]]] } },
    };
    assert.deepStrictEqual(roundTrip(value), value);
  });

  it('property: generated values of the supported types round-trip', () => {
    const key = fc.string().filter((k) => k !== '__proto__');
    const values = fc
      .anything({
        key,
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withSparseArray: true,
        withNullPrototype: true,
      })
      // Invalid Dates round-trip (see above), but deepStrictEqual cannot say so.
      .filter((value) => !hasInvalidDate(value));
    fc.assert(
      fc.property(values, (value) => {
        const text = encode(value);
        assert.deepStrictEqual(decode(text), value);
        assert.equal(encode(decode(text)), text, 'encoding is stable');
      }),
      { numRuns: 300 },
    );
  });
});

describe('serializer errors round trip', () => {
  it('revives an Error as an Error, with name, message, stack, code and own props', () => {
    const error = Object.assign(new TypeError('bad input'), { code: 'E_BAD', status: 400 });
    const back = roundTrip(error);
    assert.ok(back instanceof Error);
    assert.equal(back.name, 'TypeError');
    assert.equal(back.message, 'bad input');
    assert.equal(back.stack, error.stack);
    assert.equal((back as Error & { code: string }).code, 'E_BAD');
    assert.equal((back as Error & { status: number }).status, 400);
  });

  it('keeps the cause chain and the fields of weft errors', () => {
    const root = new RangeError('too big');
    const middle = new Error('parse failed', { cause: root });
    const failed = new TaskFailedError('parse', 'map:parse/4', 3, middle);
    const back = roundTrip({ failure: failed }).failure as unknown as Error &
      Record<string, unknown>;
    assert.ok(back instanceof Error);
    assert.equal(back.name, 'TaskFailedError');
    assert.equal(back.code, 'WEFT_TASK_FAILED');
    assert.ok(isWeftError(back, 'WEFT_TASK_FAILED'));
    assert.equal(back.task, 'parse');
    assert.equal(back.key, 'map:parse/4');
    assert.equal(back.attempts, 3);
    assert.equal(back.message, failed.message);
    const cause = back.cause as Error;
    assert.ok(cause instanceof Error);
    assert.equal(cause.message, 'parse failed');
    assert.ok(cause.cause instanceof Error);
    assert.equal(cause.cause.name, 'RangeError');
    assert.equal(cause.cause.stack, root.stack);
  });

  it('stores an Error of a custom subclass, and one whose cause is not an Error', () => {
    class QuotaError extends Error {
      override name = 'QuotaError';
      readonly limit = 10;
    }
    const back = roundTrip([new QuotaError('over quota', { cause: 'the plan' })])[0]!;
    assert.ok(back instanceof Error);
    assert.equal(back.name, 'QuotaError');
    assert.equal((back as Error & { limit: number }).limit, 10);
    // A cause that is not an Error is stored as the value it is.
    assert.equal(back.cause, 'the plan');
    assert.ok(roundTrip(new ValidationError('no')) instanceof Error);
  });
});
