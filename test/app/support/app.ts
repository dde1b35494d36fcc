/**
 * Helpers shared by the application tests: error matchers, a deferred, and small actions
 * and graphs (count + 1, a → b → c appending to `trail`).
 */
import assert from 'node:assert/strict';
import { StateError, ValidationError } from 'weftjs';
import { ApplicationBuilder, action } from 'weftjs/app';

/** Matches a ValidationError whose message matches every pattern. */
export const invalid =
  (...patterns: RegExp[]) =>
  (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.code, 'WEFT_VALIDATION');
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };

/** Matches a StateError whose message matches every pattern. */
export const stateError =
  (...patterns: RegExp[]) =>
  (error: unknown) => {
    assert.ok(error instanceof StateError, `expected a StateError, got ${String(error)}`);
    assert.equal(error.code, 'WEFT_STATE');
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };

/** A promise and the functions that settle it. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** count + 1. */
export const increment = action({ reads: ['count'], writes: ['count'] }, (state) =>
  state.update({ count: state.get('count') + 1 }),
);

/** An action that appends its name to `trail`. */
export function mark(name: string) {
  return action({ reads: ['trail'], writes: ['trail'], name }, (state) =>
    state.update({ trail: [...state.get('trail', []), name] }),
  );
}

/** An application a → b → c that appends to `trail`. */
export function abc(): ApplicationBuilder {
  return new ApplicationBuilder()
    .withActions({ a: mark('a'), b: mark('b'), c: mark('c') })
    .withTransitions(['a', 'b'], ['b', 'c']);
}
