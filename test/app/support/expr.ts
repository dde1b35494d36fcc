/**
 * Helpers of the expression tests: evaluate or test a source against values, match a
 * ValidationError, and check a table of sources and their values.
 */
import assert from 'node:assert/strict';
import { compileExpression } from '../../../src/app/expr/index.ts';
import { ValidationError } from '../../../src/core/errors.ts';

export type Values = Record<string, unknown>;

export const run = (source: string, values: Values = {}) =>
  compileExpression(source).evaluate(values);
export const check = (source: string, values: Values = {}) =>
  compileExpression(source).test(values);

/** Matches a ValidationError whose message matches `message`. */
export const invalid = (message: RegExp | string) => (error: unknown) => {
  assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
  assert.equal(error.code, 'WEFT_VALIDATION');
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
  return true;
};

/** Asserts each `[source, expected]` pair, naming the source when one fails. */
export function table(rows: readonly (readonly [string, unknown])[], values: Values = {}): void {
  for (const [source, expected] of rows) {
    assert.deepEqual(run(source, values), expected, source);
  }
}
