/**
 * The default serializer refuses values it cannot store with a message that names the key,
 * the path, the type and the fix, and refuses text it did not write.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRefusal, refusal } from './serializer-support.ts';

describe('serializer refusals', () => {
  it('names the key, the path, the type and the fix for a function', () => {
    function square(x: number) {
      return x * x;
    }
    const error = refusal({ items: [1, 2, { fn: square }] }, "Task output for key 'map:square/3'");
    assert.match(error.message, /^Task output for key 'map:square\/3' cannot be stored/);
    assert.match(error.message, /value\.items\[2\]\.fn is a function \(square\)/);
    assert.match(error.message, /Return plain data/);
    assert.equal((error.cause as Error).name, 'DevalueError');
  });

  it('names the class of an instance, and says to convert it to a plain object', () => {
    class Foo {
      readonly x = 1;
    }
    const error = refusal({ rows: new Map([['first', new Foo()]]) }, 'k');
    assert.match(error.message, /value\.rows\.get\("first"\) is an instance of class Foo\./);
    assert.match(error.message, /Convert the Foo instance to a plain object/);
    assert.match(refusal(new (class Item {})(), 'k').message, /is an instance of class Item/);
  });

  it('describes symbols, promises, WeakMaps and symbol keys', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ s: Symbol('tag') }, /value\.s is a symbol \(Symbol\(tag\)\)/],
      [{ p: Promise.resolve(1) }, /value\.p is a Promise\. Await it/],
      [[new WeakMap()], /value\[0\] is an instance of class WeakMap/],
      [{ o: { [Symbol('k')]: 1 } }, /value\.o is an object with symbol keys/],
    ];
    for (const [value, message] of cases) assert.match(refusal(value, 'k').message, message);
  });

  it('says when the value itself is refused, and works without a key', () => {
    const error = refusal(() => 1);
    assert.match(error.message, /^The value cannot be stored: the value itself is a function\./);
  });

  it('refuses a value whose getter throws, with the error as cause', () => {
    const broken = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter broke');
      },
    });
    const error = refusal({ broken }, 'k');
    assert.match(error.message, /^k cannot be stored: reading it threw \(getter broke\)/);
    assert.equal((error.cause as Error).message, 'getter broke');
  });

  it('refuses to decode text it did not write', () => {
    const garbage = [
      '',
      'not json',
      '{"a":1}',
      '[]',
      '[{"a":7}]',
      '[["weft:Error",1],{"nope":true}]',
      '[["NoSuchType",1],2]',
      '[["Int8Array",0]]',
    ];
    for (const text of garbage) {
      const error = decodeRefusal(text);
      assert.match(error.message, /Cannot decode a stored value/, text);
      assert.ok(error.cause !== undefined, `the cause is kept for ${text}`);
    }
    assert.match(decodeRefusal(42).message, /Cannot decode a number/);
  });
});
