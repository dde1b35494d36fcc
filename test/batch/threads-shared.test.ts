/**
 * Target `threads` and shared memory: typed arrays on SharedArrayBuffers (made with
 * `shared()`), wherever the batch holds them, are shared with the worker threads, so the
 * caller sees what the method writes into them; everything else is a copy.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isWeftError, threads } from 'weftjs';
import { shared } from 'weftjs/batch';
import { calls } from './support/conventions.ts';
import { Doubler, Nested } from './support/remote-batches.ts';

const executor = threads({ workers: 2 });
after(() => executor.close());

describe('shared()', () => {
  it('copies a typed array onto a new SharedArrayBuffer, same type and values', () => {
    const source = Float32Array.from([1.5, -2, 3]);
    const copy = shared(source);
    assert.ok(copy instanceof Float32Array);
    assert.ok(copy.buffer instanceof SharedArrayBuffer);
    assert.deepEqual([...copy], [1.5, -2, 3]);
    copy[0] = 9;
    assert.equal(source[0], 1.5);
  });

  it('copies only the view of a larger buffer, and keeps a Buffer a Buffer', () => {
    const view = new Int16Array(Int16Array.from([1, 2, 3, 4]).buffer, 2, 2);
    const copy = shared(view);
    assert.deepEqual([...copy], [2, 3]);
    assert.equal(copy.byteOffset, 0);
    assert.equal(copy.buffer.byteLength, 4);
    const bytes = shared(Buffer.from('weft'));
    assert.ok(Buffer.isBuffer(bytes));
    assert.ok(bytes.buffer instanceof SharedArrayBuffer);
    assert.equal(bytes.toString(), 'weft');
  });

  it('gives a new buffer also for an array already in shared memory', () => {
    const first = shared(Uint8Array.from([1, 2]));
    const second = shared(first);
    assert.notEqual(second.buffer, first.buffer);
    assert.deepEqual([...second], [1, 2]);
  });

  it('refuses what is not a typed array, naming what it got and the fix', () => {
    const refused: [unknown, string][] = [
      [[1, 2], 'an array'],
      [new DataView(new ArrayBuffer(2)), 'a DataView'],
      [null, 'null'],
    ];
    for (const [value, got] of refused) {
      assert.throws(
        () => shared(value as unknown as Uint8Array),
        (error: Error) =>
          isWeftError(error, 'WEFT_VALIDATION') &&
          error.message ===
            `shared() takes a typed array (e.g. a Float64Array), got ${got}: ` +
              'for an array of numbers, use shared(Float64Array.from(numbers)).',
      );
    }
  });
});

describe('target threads with shared memory', () => {
  it('writes the method makes into shared data on worker threads are seen by the caller', async () => {
    const batch = new Doubler(shared(Float64Array.from([1, 2, 3, 4, 5])));
    const result = await calls(batch).double({ executor });
    assert.equal(result, batch);
    assert.deepEqual([...batch.data], [2, 4, 6, 8, 10]);
  });

  it('data that is not shared is a copy: the caller sees no write', async () => {
    const batch = new Doubler(Float64Array.from([1, 2, 3]));
    await calls(batch).double({ executor });
    assert.deepEqual([...batch.data], [1, 2, 3]);
  });

  it('shares arrays nested in fields and components, and bare SharedArrayBuffers', async () => {
    const images = shared(Float32Array.from([10, 20, 30]));
    const batch = new Nested({ images, labels: ['a', 'b', 'c'] });
    const sums = shared(new Float64Array(3));
    batch.out = { sums: [sums] };
    batch.counter = new SharedArrayBuffer(4);
    await calls(batch).fill({ executor });
    assert.deepEqual([...sums], [11, 21, 31]);
    assert.deepEqual([...images], [-10, -20, -30]);
    assert.equal(batch.images, images);
    assert.equal(new Int32Array(batch.counter)[0], 3);
  });
});
