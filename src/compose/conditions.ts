/**
 * A conditional strategy's conditions, evaluated per example in this thread (they are
 * closures, which cannot travel to workers): one mask per operator, 1 where it applies.
 */
import { describeType } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import { isThenable } from '../core/executor.ts';
import type { ConditionValue } from './merge.ts';
import { isTensor } from './tensor.ts';
import { exampleOf, type Tree } from './tree.ts';

/**
 * Per condition, per example of `batch`: 1 where it holds.
 * @throws ValidationError naming the condition and the example when one throws or gives
 * something other than a boolean, a number or a one-element tensor
 */
export function evaluateConditions(
  conditions: readonly ((element: Tree) => ConditionValue)[],
  batch: Tree,
  size: number,
  composite: string,
): Uint8Array[] {
  const masks = conditions.map(() => new Uint8Array(size));
  for (let example = 0; example < size; example++) {
    const element = exampleOf(batch, example);
    conditions.forEach((condition, i) => {
      const where = `Composite '${composite}': condition ${i} for example ${example}`;
      let value: unknown;
      try {
        value = condition(element);
      } catch (error) {
        throw new ValidationError(`${where} threw: ${(error as Error)?.message ?? String(error)}`, {
          cause: error,
        });
      }
      masks[i]![example] = truth(value, where) ? 1 : 0;
    });
  }
  return masks;
}

function truth(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (isTensor(value) && value.size === 1) return value.data[0] !== 0;
  if (isThenable(value)) {
    throw new ValidationError(
      `${where} returned a promise; conditions are evaluated per example as they are given, so they must answer at once (a boolean, a number or a one-element tensor).`,
    );
  }
  const what = isTensor(value)
    ? `a tensor of shape [${value.shape.join(', ')}]`
    : describeType(value);
  throw new ValidationError(
    `${where} returned ${what}; a condition returns a boolean, a number (non-zero is true) or a tensor of one element.`,
  );
}
