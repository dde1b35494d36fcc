import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromWire, toWire, type WireError } from 'weftjs';

describe('fromWire: an error read from disk or another process', () => {
  it('keeps __proto__ in props as an own field, never as the prototype', () => {
    const wire = JSON.parse(
      '{"name":"Error","message":"m","props":{"__proto__":{"isAdmin":true},"constructor":1,"retryable":true}}',
    ) as WireError;
    const error = fromWire(wire) as Error & Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(error), Error.prototype);
    assert.equal(error.isAdmin, undefined);
    assert.equal(Object.hasOwn(error, 'constructor'), true);
    assert.equal(error.constructor, 1);
    assert.equal(error.retryable, true);
  });

  it('keeps only the primitive fields toWire writes', () => {
    const wire = { name: 'Error', message: 'm', props: { status: 404, nested: { a: 1 } } };
    const error = fromWire(wire as unknown as WireError) as Error & Record<string, unknown>;
    assert.equal(error.status, 404);
    assert.equal(Object.hasOwn(error, 'nested'), false);
  });

  it('follows causes only as deep as toWire writes them, without overflowing the stack', () => {
    let wire: WireError = { name: 'Error', message: 'root' };
    for (let i = 0; i < 100_000; i++) wire = { name: 'Error', message: `level ${i}`, cause: wire };
    let depth = 0;
    for (let error: unknown = fromWire(wire); error instanceof Error; error = error.cause) depth++;
    assert.equal(depth, 9);
  });

  it('round-trips what toWire writes', () => {
    const original = Object.assign(new RangeError('bad', { cause: new Error('inner') }), {
      code: 'E_BAD',
      limit: 3,
    });
    const back = fromWire(toWire(original)) as Error & { code?: string; limit?: number };
    assert.equal(back.name, 'RangeError');
    assert.equal(back.code, 'E_BAD');
    assert.equal(back.limit, 3);
    assert.equal((back.cause as Error).message, 'inner');
  });
});
