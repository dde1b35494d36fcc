import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fifo } from '../../src/core/queue.ts';

describe('Fifo', () => {
  it('gives items back in the order they were pushed', () => {
    const queue = new Fifo<number>();
    for (let i = 0; i < 10; i++) queue.push(i);
    const out: (number | undefined)[] = [];
    while (queue.length > 0) out.push(queue.shift());
    assert.deepEqual(
      out,
      Array.from({ length: 10 }, (_, i) => i),
    );
  });

  it('returns undefined from an empty queue, and stays usable', () => {
    const queue = new Fifo<string>();
    assert.equal(queue.shift(), undefined);
    assert.equal(queue.length, 0);
    queue.push('a');
    assert.equal(queue.shift(), 'a');
    assert.equal(queue.shift(), undefined);
    queue.push('b');
    assert.equal(queue.length, 1);
    assert.equal(queue.shift(), 'b');
  });

  it('keeps order and length across compactions, with pushes between shifts', () => {
    const queue = new Fifo<number>();
    let pushed = 0;
    let taken = 0;
    // Two in, one out, then drain: the head passes half of the storage many times over.
    for (let round = 0; round < 20_000; round++) {
      queue.push(pushed++);
      queue.push(pushed++);
      assert.equal(queue.shift(), taken++);
      assert.equal(queue.length, pushed - taken);
    }
    while (queue.length > 0) assert.equal(queue.shift(), taken++);
    assert.equal(taken, pushed);
    // A queue that never empties: one in, one out, from a steady backlog.
    for (let i = 0; i < 5000; i++) queue.push(pushed++);
    for (let i = 0; i < 50_000; i++) {
      queue.push(pushed++);
      assert.equal(queue.shift(), taken++);
      assert.equal(queue.length, 5000);
    }
  });

  it('keeps falsy items (undefined is only the empty answer)', () => {
    const queue = new Fifo<number | null | string>();
    queue.push(0);
    queue.push(null);
    queue.push('');
    assert.equal(queue.length, 3);
    assert.equal(queue.shift(), 0);
    assert.equal(queue.shift(), null);
    assert.equal(queue.shift(), '');
    assert.equal(queue.length, 0);
  });

  it('clear empties the queue', () => {
    const queue = new Fifo<number>();
    for (let i = 0; i < 3000; i++) queue.push(i);
    for (let i = 0; i < 2000; i++) queue.shift();
    queue.clear();
    assert.equal(queue.length, 0);
    assert.equal(queue.shift(), undefined);
    queue.push(7);
    assert.equal(queue.length, 1);
    assert.equal(queue.shift(), 7);
  });
});
