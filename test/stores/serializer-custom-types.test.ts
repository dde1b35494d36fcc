/** createSerializer: custom types, alone and beside the JSON fast path. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSerializer } from 'weftjs';
import { decode, decodeRefusal, encode, isDevalueText, Point } from './serializer-support.ts';

describe('createSerializer', () => {
  const withPoint = createSerializer({
    types: {
      Point: {
        reduce: (value) => (value instanceof Point ? [value.x, value.y] : undefined),
        revive: (stored) => new Point(...(stored as [number, number])),
      },
      // A falsy stored form must survive too.
      Zero: {
        reduce: (value) => (value instanceof Zero ? 0 : undefined),
        revive: () => new Zero(),
      },
    },
  });
  class Zero {}

  it('stores custom types, nested and beside the built-in ones', () => {
    const value = { p: new Point(1, 2), list: [new Zero(), new Map([['q', new Point(3, 4)]])] };
    const back = withPoint.decode(withPoint.encode(value)) as typeof value;
    assert.ok(back.p instanceof Point);
    assert.ok(back.list[0] instanceof Zero);
    assert.deepStrictEqual(back, value);
  });

  it('refuses a type name that cannot be written', () => {
    assert.throws(
      () =>
        createSerializer({ types: { 'bad"name': { reduce: () => undefined, revive: (v) => v } } }),
      { code: 'WEFT_SERIALIZATION', message: /bad"name/ },
    );
  });

  it('a custom type takes precedence over the built-in Error handling', () => {
    class HttpError extends Error {
      constructor(readonly response: { status: number; headers: Map<string, string> }) {
        super(`HTTP ${response.status}`);
      }
    }
    const withHttp = createSerializer({
      types: {
        HttpError: {
          reduce: (value) => (value instanceof HttpError ? value.response : undefined),
          revive: (stored) => new HttpError(stored as HttpError['response']),
        },
      },
    });
    const error = new HttpError({ status: 503, headers: new Map([['retry-after', '5']]) });
    const back = withHttp.decode(withHttp.encode(error));
    assert.ok(back instanceof HttpError);
    assert.deepStrictEqual(back.response, error.response);
  });

  it('refuses a stored custom value in the wrong shape', () => {
    assert.throws(() => withPoint.decode('[["Point",1],5]'), {
      code: 'WEFT_SERIALIZATION',
      message: /Invalid stored Point/,
    });
  });

  it('a serializer without the type cannot decode it', () => {
    const text = withPoint.encode(new Point(1, 2));
    assert.match(decodeRefusal(text).message, /Unknown type Point/);
  });
});

describe('serializer with custom types and the fast path', () => {
  const withPoint = createSerializer({
    types: {
      Point: {
        reduce: (value) => (value instanceof Point ? [value.x, value.y] : undefined),
        revive: (stored) => new Point(...(stored as [number, number])),
      },
    },
  });
  const samples: unknown[] = [
    0,
    -1,
    'text',
    'j',
    true,
    null,
    {},
    [],
    { a: [1, 'two', { three: null }], b: 'ü🧵' },
  ];

  it('writes devalue text even for plain JSON', () => {
    for (const value of samples) {
      const text = withPoint.encode(value);
      assert.ok(!text.startsWith('j'), text);
      assert.ok(isDevalueText(text), text);
      assert.deepStrictEqual(withPoint.decode(text), value);
      // Text without custom types in it is readable by the default serializer too.
      assert.deepStrictEqual(decode(text), value);
    }
  });

  it('reads j text written by the default serializer', () => {
    for (const value of samples) {
      const text = encode(value);
      assert.ok(text.startsWith('j'), text);
      assert.deepStrictEqual(withPoint.decode(text), value);
    }
    const mixed = { p: new Point(1, 2), plain: decode(encode({ a: [1] })) };
    assert.deepStrictEqual(withPoint.decode(withPoint.encode(mixed)), mixed);
  });

  it('lets a custom type claim what would otherwise be plain JSON', () => {
    class Tagged {
      constructor(readonly tag: unknown) {}
    }
    const withTagged = createSerializer({
      types: {
        Tagged: {
          reduce: (value) =>
            typeof value === 'object' && value !== null && Object.hasOwn(value, '$tag')
              ? (value as { $tag: unknown }).$tag
              : undefined,
          revive: (stored) => new Tagged(stored),
        },
      },
    });
    const text = withTagged.encode({ list: [{ $tag: 'x' }] });
    assert.ok(isDevalueText(text), text);
    const back = withTagged.decode(text) as { list: unknown[] };
    assert.ok(back.list[0] instanceof Tagged, 'the custom type was asked first');
    assert.equal((back.list[0] as Tagged).tag, 'x');
  });
});
