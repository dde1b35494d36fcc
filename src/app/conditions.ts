/**
 * Transition conditions: `when({ key: value })`, `expr('count < 10')`, `defaultTransition`,
 * combined with `and`, `or` and `not`. A condition that reads a key the state lacks is an
 * error naming the key, not a silent false.
 */
import { isPlainObject } from '../core/describe.ts';
import { ValidationError } from '../core/errors.ts';
import type { AppState } from './action.ts';
import { compileExpression } from './expr/index.ts';

/** Decides whether a transition is taken, given the state after the step. */
export class Condition {
  /** State keys the condition reads; each must be in the state. */
  readonly keys: readonly string[];
  /** How the condition reads in messages and in `weft show`. */
  readonly description: string;
  readonly #test: (state: AppState) => boolean;
  /** True for `defaultTransition` (always taken, and must come last). */
  readonly isDefault: boolean;

  /**
   * @param keys state keys the test reads (a missing one is an error naming it)
   * @param test decides, on the state after the step, whether the transition is taken
   * @param description how the condition reads in messages and in `weft show`
   * @param isDefault true only for a fallback that is always taken and must come last
   */
  constructor(
    keys: readonly string[],
    test: (state: AppState) => boolean,
    description: string,
    isDefault = false,
  ) {
    this.keys = keys;
    this.#test = test;
    this.description = description;
    this.isDefault = isDefault;
  }

  /** Evaluates the condition on `state`. */
  run(state: AppState): boolean {
    const missing = this.keys.filter((key) => !state.has(key));
    if (missing.length > 0) {
      throw new ValidationError(
        `Condition ${this.description} reads ${missing.map((k) => `'${k}'`).join(', ')}, which the state lacks ` +
          `(it has ${
            state
              .keys()
              .map((k) => `'${k}'`)
              .join(', ') || 'no keys'
          }). ` +
          'Set the key in an earlier action or in withState().',
      );
    }
    return this.#test(state);
  }

  /** Both conditions. */
  and(other: Condition): Condition {
    return new Condition(
      union(this.keys, other.keys),
      (state) => this.#test(state) && other.#test(state),
      `(${this.description} and ${other.description})`,
    );
  }

  /** Either condition. */
  or(other: Condition): Condition {
    return new Condition(
      union(this.keys, other.keys),
      (state) => this.#test(state) || other.#test(state),
      `(${this.description} or ${other.description})`,
    );
  }

  /** The opposite condition. */
  not(): Condition {
    return new Condition(this.keys, (state) => !this.#test(state), `not ${this.description}`);
  }
}

/**
 * Taken when every key holds the given value (compared with `===`, or element by element
 * for arrays and plain objects).
 * @example withTransitions(['decide', 'retry', when({ ok: false })])
 */
export function when(values: Readonly<Record<string, unknown>>): Condition {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ValidationError('when() needs an object of key → value, e.g. when({ done: true }).');
  }
  const entries = Object.entries(values);
  if (entries.length === 0) throw new ValidationError('when() needs at least one key.');
  const description = `when(${entries.map(([k, v]) => `${k}=${show(v)}`).join(', ')})`;
  return new Condition(
    entries.map(([key]) => key),
    (state) => entries.every(([key, value]) => sameValue(state.get(key), value)),
    description,
  );
}

/**
 * Taken when the expression is true (Python truthiness) on the state. Supports
 * comparisons, `and`/`or`/`not`, arithmetic, `in`, indexing and `len()`.
 * @example withTransitions(['count', 'count', expr('count < 10')])
 */
export function expr(source: string): Condition {
  const compiled = compileExpression(source);
  return new Condition(
    compiled.keys,
    (state) => compiled.test(state.toObject()),
    `expr('${source}')`,
  );
}

/** Always taken: the fallback of an action's transitions. Must be its last one. */
export const defaultTransition: Condition = new Condition([], () => true, 'default', true);

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]))
    );
  }
  return false;
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
