import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { State, type StateRecord } from 'weftjs';

/** Compile-time check that two types are mutually assignable; a mismatch fails `tsc`. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function expectType<_T extends true>(): void {}

const stateError = (message: RegExp) => ({ code: 'WEFT_STATE', name: 'StateError', message });

function sample() {
  return State.of({ count: 0, items: ['a'] as string[], name: 'run' });
}

describe('State.of', () => {
  it('copies the input, so later changes to it do not leak in', () => {
    const input: StateRecord = { count: 1 };
    const state = State.of(input);
    input.count = 2;
    input.extra = true;
    assert.deepEqual(state.toObject(), { count: 1 });
  });

  it('creates an empty state without arguments, and fromObject is an alias', () => {
    assert.equal(State.of().size, 0);
    assert.deepEqual(State.fromObject({ a: 1 }).toObject(), { a: 1 });
  });

  it('rejects values that are not plain records', () => {
    for (const bad of [null, [1], 'text', 3]) {
      // @ts-expect-error untyped callers can pass anything; the runtime check catches it.
      assert.throws(() => State.of(bad), stateError(/State\.of\(\) takes an object/));
    }
  });
});

describe('reading', () => {
  it('get returns values, and the default for missing or undefined keys', () => {
    const state = State.of({ count: 3, maybe: undefined as string | undefined });
    assert.equal(state.get('count'), 3);
    assert.equal(state.get('maybe', 'fallback'), 'fallback');
    assert.equal(state.get('count', 9), 3);
    assert.equal((state as State).get('missing', 'fallback'), 'fallback');
    assert.equal((state as State).get('missing'), undefined);
  });

  it('does not see Object.prototype members as keys', () => {
    const state: State = State.of({ a: 1 });
    assert.equal(state.get('constructor'), undefined);
    assert.equal(state.has('toString'), false);
  });

  it('keeps a __proto__ key as a plain key', () => {
    const state: State = State.of(JSON.parse('{"__proto__": 1}'));
    assert.equal(state.get('__proto__'), 1);
    assert.equal(state.update({ b: 2 }).get('__proto__'), 1);
    assert.ok(Object.hasOwn(state.toObject(), '__proto__'));
  });

  it('has is true for present keys, also when they hold undefined', () => {
    const state = State.of({ a: undefined });
    assert.equal(state.has('a'), true);
    assert.equal(state.has('b'), false);
  });

  it('keys, size and iteration follow insertion order', () => {
    const state = State.of({ b: 1, a: 2 }).update({ c: 3 });
    assert.deepEqual(state.keys(), ['b', 'a', 'c']);
    assert.equal(state.size, 3);
    assert.deepEqual(
      [...state],
      [
        ['b', 1],
        ['a', 2],
        ['c', 3],
      ],
    );
  });

  it('toObject returns a fresh copy each call; toJSON gives the plain values', () => {
    const state = sample();
    const copy = state.toObject();
    copy.count = 99;
    assert.equal(state.get('count'), 0);
    assert.notEqual(state.toObject(), state.toObject());
    assert.equal(JSON.stringify(state), '{"count":0,"items":["a"],"name":"run"}');
  });

  it('cannot be mutated directly', () => {
    const state = sample();
    assert.ok(Object.isFrozen(state));
    assert.throws(() => {
      (state as unknown as StateRecord).count = 5;
    }, TypeError);
    assert.equal(state.get('count'), 0);
  });

  it('shows its values when inspected', () => {
    assert.equal(inspect(State.of({ a: 1 })), 'State { a: 1 }');
  });
});

describe('update', () => {
  it('adds and replaces keys without touching the receiver', () => {
    const state = sample();
    const next = state.update({ count: 'many', extra: true });
    assert.notEqual(next, state);
    assert.deepEqual(next.toObject(), { count: 'many', items: ['a'], name: 'run', extra: true });
    assert.deepEqual(state.toObject(), { count: 0, items: ['a'], name: 'run' });
  });

  it('chains with the other operations', () => {
    const state = State.of({ count: 0, items: [] as string[] })
      .update({ count: 1 })
      .append({ items: 'a' })
      .extend({ items: ['b', 'c'] })
      .increment({ count: 2 });
    assert.deepEqual(state.toObject(), { count: 3, items: ['a', 'b', 'c'] });
  });
});

describe('append', () => {
  it('builds a new array and leaves the original array and receiver unchanged', () => {
    const items = ['a'];
    const state = State.of({ items });
    const next = state.append({ items: 'b' });
    assert.deepEqual(next.get('items'), ['a', 'b']);
    assert.notEqual(next.get('items'), items);
    assert.deepEqual(items, ['a']);
    assert.equal(state.get('items'), items);
  });

  it('turns a missing key into a one-element array', () => {
    const state = State.of<{ log?: string[] }>({});
    assert.deepEqual(state.append({ log: 'x' }).get('log'), ['x']);
  });

  it('appends to several keys at once', () => {
    const state = State.of({ a: [1], b: ['x'] }).append({ a: 2, b: 'y' });
    assert.deepEqual(state.toObject(), { a: [1, 2], b: ['x', 'y'] });
  });

  it('rejects a key that holds a non-array', () => {
    assert.throws(
      // @ts-expect-error count holds a number, so append() does not accept it.
      () => sample().append({ count: 1 }),
      stateError(/Cannot append to 'count': it holds a number, not an array\. Use update\(\)/),
    );
    assert.throws(
      () => (State.of({ nothing: null }) as State).append({ nothing: 1 }),
      stateError(/Cannot append to 'nothing': it holds null, not an array/),
    );
  });
});

describe('extend', () => {
  it('appends every value into a new array, leaving the original unchanged', () => {
    const items = ['a'];
    const state = State.of({ items });
    const next = state.extend({ items: ['b', 'c'] });
    assert.deepEqual(next.get('items'), ['a', 'b', 'c']);
    assert.deepEqual(items, ['a']);
    assert.deepEqual(state.toObject(), { items: ['a'] });
  });

  it('starts a missing key from an empty array', () => {
    assert.deepEqual((State.of() as State).extend({ log: [1, 2] }).get('log'), [1, 2]);
  });

  it('rejects a key that holds a non-array', () => {
    assert.throws(
      // @ts-expect-error name holds a string, so extend() does not accept it.
      () => sample().extend({ name: ['x'] }),
      stateError(/Cannot extend 'name': it holds a string, not an array\. Use update\(\)/),
    );
  });

  it('rejects values that are not arrays, such as a string', () => {
    assert.throws(
      // @ts-expect-error extend() takes an array of elements.
      () => sample().extend({ items: 'bc' }),
      stateError(/Cannot extend 'items' with a string: .*Use append\(\)/),
    );
  });
});

describe('increment', () => {
  it('adds to number keys; a missing key starts at 0', () => {
    const state = State.of<{ count: number; hits?: number }>({ count: 5 });
    const next = state.increment({ count: -2, hits: 1 });
    assert.deepEqual(next.toObject(), { count: 3, hits: 1 });
    assert.deepEqual(state.toObject(), { count: 5 });
  });

  it('rejects a key that holds a non-number', () => {
    assert.throws(
      // @ts-expect-error name holds a string, so increment() does not accept it.
      () => sample().increment({ name: 1 }),
      stateError(/Cannot increment 'name': it holds a string, not a number\. Use update\(\)/),
    );
  });

  it('rejects an amount that is not a number', () => {
    assert.throws(
      // @ts-expect-error the amount must be a number.
      () => sample().increment({ count: '1' }),
      stateError(/Cannot increment 'count' by a string: the amount must be a number/),
    );
  });
});

describe('wipe', () => {
  it('keep retains only the listed keys', () => {
    const state = sample();
    assert.deepEqual(state.wipe({ keep: ['count'] }).toObject(), { count: 0 });
    assert.equal(state.size, 3);
  });

  it('delete removes the listed keys and ignores missing ones', () => {
    const state: State = sample();
    assert.deepEqual(state.wipe({ delete: ['items', 'absent'] }).toObject(), {
      count: 0,
      name: 'run',
    });
  });

  it('rejects both keep and delete, or neither', () => {
    assert.throws(
      // @ts-expect-error keep and delete are exclusive.
      () => sample().wipe({ keep: ['count'], delete: ['items'] }),
      stateError(/Cannot wipe with both keep and delete: choose one\. Pass \{ keep/),
    );
    assert.throws(
      // @ts-expect-error one of keep or delete is required.
      () => sample().wipe({}),
      stateError(/wipe\(\) needs an array of keys to keep or delete\. Pass \{ keep/),
    );
  });
});

describe('merge', () => {
  it("lays the other state's values over these; the other wins", () => {
    const left = State.of({ a: 1, b: 2 });
    const right = State.of({ b: 'two', c: 3 });
    const merged = left.merge(right);
    assert.deepEqual(merged.toObject(), { a: 1, b: 'two', c: 3 });
    assert.deepEqual(left.toObject(), { a: 1, b: 2 });
    assert.deepEqual(right.toObject(), { b: 'two', c: 3 });
  });

  it('accepts a plain object too', () => {
    assert.deepEqual(State.of({ a: 1 }).merge({ a: 2 }).toObject(), { a: 2 });
  });
});

describe('subset', () => {
  it('keeps only the given keys, skipping missing ones by default', () => {
    const state: State = sample();
    assert.deepEqual(state.subset('count', 'absent').toObject(), { count: 0 });
    assert.deepEqual(state.subset('name', { ignoreMissing: true }).toObject(), { name: 'run' });
  });

  it('with ignoreMissing: false, names the missing keys', () => {
    const state: State = sample();
    assert.throws(
      () => state.subset('count', 'x', 'y', { ignoreMissing: false }),
      stateError(/missing key\(s\) 'x', 'y' \(the state has 'count', 'items', 'name'\)/),
    );
  });
});

describe('types', () => {
  it('infers keys and value types through operations', () => {
    const state = State.of({ count: 0, items: [] as string[] });
    expectType<Same<typeof state, State<{ count: number; items: string[] }>>>();
    expectType<Same<ReturnType<typeof state.get<'count'>>, number>>();

    const updated = state.update({ name: 'x', count: 'many' });
    expectType<Same<typeof updated, State<{ count: string; items: string[]; name: string }>>>();

    const kept = state.wipe({ keep: ['count'] });
    expectType<Same<typeof kept, State<{ count: number }>>>();
    const deleted = state.wipe({ delete: ['count'] });
    expectType<Same<typeof deleted, State<{ items: string[] }>>>();
    const picked = state.subset('items');
    expectType<Same<typeof picked, State<{ items: string[] }>>>();
    const merged = state.merge(State.of({ count: true }));
    expectType<Same<typeof merged, State<{ count: boolean; items: string[] }>>>();

    const withDefault = State.of<{ n?: number }>({}).get('n', 'none');
    expectType<Same<typeof withDefault, number | 'none'>>();

    // A typed State still fits where a plain State is expected, also generically.
    const plain = <T extends StateRecord>(typed: State<T>): State => typed;
    assert.equal(plain(state).size, 2);
  });

  it('rejects wrong calls at compile time', () => {
    const state = State.of({ count: 0, items: [] as string[] });
    // @ts-expect-error 'missing' is not a key of this state.
    assert.equal(state.get('missing'), undefined);
    // @ts-expect-error items holds strings, not numbers.
    assert.deepEqual(state.append({ items: 1 }).get('items'), [1]);
    assert.throws(
      // @ts-expect-error a state with no number keys accepts no increment.
      () => State.of({ name: 'x' }).increment({ name: 1 }),
      stateError(/Cannot increment 'name'/),
    );
  });
});
