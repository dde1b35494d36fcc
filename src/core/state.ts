/**
 * Immutable application state, after Burr's `State`: every operation returns a new State and
 * leaves the receiver (and the arrays it holds) untouched, so earlier snapshots stay valid.
 */

import { describeType } from './describe.ts';
import { StateError } from './errors.ts';

/** The shape every state record has: string keys, any values. */
export type StateRecord = Record<string, unknown>;

/** Flattens an intersection into one object type, so hovers and errors stay readable. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * `T` without keys `K`. Unlike `Omit`, it keeps an index signature: `Omit` would turn
 * `Record<string, unknown>` into `{}`, which breaks assigning a `State<T>` to a plain `State`.
 */
export type Without<T, K> = {
  [P in keyof T as string extends P ? P : P extends K ? never : P]: T[P];
};

/** `A` with the keys of `B` added or overridden by `B`'s types. */
export type Merge<A, B> = Simplify<Without<A, keyof B> & B>;

type Defined<V> = Exclude<V, undefined>;

/** Keys whose value is an array (or unknown: the runtime check decides). */
export type ArrayKeys<T> = {
  [K in keyof T]-?: unknown extends T[K]
    ? K
    : [Defined<T[K]>] extends [readonly unknown[]]
      ? K
      : never;
}[keyof T] &
  string;

/** Keys whose value is a number (or unknown: the runtime check decides). */
export type NumberKeys<T> = {
  [K in keyof T]-?: number extends Defined<T[K]> ? K : never;
}[keyof T] &
  string;

/** Element type of the array held under a key. */
export type ElementOf<V> = unknown extends V
  ? unknown
  : Defined<V> extends readonly (infer E)[]
    ? E
    : never;

// With no eligible keys a mapped type collapses to `{}`, which skips excess-property checks;
// an index signature of `never` rejects every key instead.
type OnlyKeys<K extends string, Shape> = [K] extends [never]
  ? { readonly [key: string]: never }
  : Shape;

/** Argument of {@link State.append}: one new element per array key. */
export type AppendValues<T> = OnlyKeys<
  ArrayKeys<T>,
  { readonly [K in ArrayKeys<T>]?: ElementOf<T[K]> }
>;

/** Argument of {@link State.extend}: an array of new elements per array key. */
export type ExtendValues<T> = OnlyKeys<
  ArrayKeys<T>,
  { readonly [K in ArrayKeys<T>]?: readonly ElementOf<T[K]>[] }
>;

/** Argument of {@link State.increment}: an amount per number key. */
export type IncrementValues<T> = OnlyKeys<
  NumberKeys<T>,
  { readonly [K in NumberKeys<T>]?: number }
>;

/**
 * One `[key, value]` pair of a state. A `State<T>` may hold more keys than `T` names (see
 * {@link State}), so the key is any string and the value is typed only by an index signature.
 */
export type StateEntry<T extends StateRecord> = [key: string, value: T[string]];

/** Options of {@link State.subset}. */
export interface SubsetOptions {
  /** Skip keys the state lacks (default `true`); `false` makes a missing key an error. */
  readonly ignoreMissing?: boolean;
}

/**
 * An immutable record of named values. Operations (`update`, `append`, `increment`, ...) return
 * a new State, so a step can never corrupt a snapshot another step still holds. Values are
 * shared, not deep-copied or deep-frozen, so an operation costs O(number of keys), plus a copy
 * of each array that `append` or `extend` changes.
 *
 * `State<T>` is covariant (`out T`): a State with more keys, or narrower values, fits wherever
 * one with fewer or wider ones is expected, e.g. any State where a plain `State` or an app's
 * `AppState` is. The variance is declared, not inferred, because published declarations show
 * private fields only as `#private`: a consumer's compiler would infer it from the public
 * members alone, and `keys()` made it invariant there. So no member may use `T` against that
 * direction; those that need the receiver's exact keys (`keys`, `append`, `extend`,
 * `increment`) take them from a `this` parameter, inferred at each call.
 */
export class State<out T extends StateRecord = StateRecord> {
  readonly #values: Readonly<T>;

  private constructor(values: T) {
    this.#values = Object.freeze(values);
    Object.freeze(this);
  }

  /** Creates a State holding a shallow copy of `values`. */
  static of<T extends StateRecord = {}>(values?: T): State<T> {
    if (values === undefined) return new State(record() as T);
    return new State(record(checkRecord(values, 'State.of')) as T);
  }

  /** Alias of {@link State.of}, for symmetry with {@link State.toObject}. */
  static fromObject<T extends StateRecord>(values: T): State<T> {
    return State.of(values);
  }

  /** Number of keys. */
  get size(): number {
    return Object.keys(this.#values).length;
  }

  /** The value under `key`, or `defaultValue` when the key is missing or holds `undefined`. */
  get<K extends keyof T & string>(key: K): T[K];
  get<K extends keyof T & string, D>(key: K, defaultValue: D): Defined<T[K]> | D;
  get(key: string, defaultValue?: unknown): unknown {
    const value = Object.hasOwn(this.#values, key) ? this.#values[key] : undefined;
    return value === undefined ? defaultValue : value;
  }

  /** True when the state has `key` (even if it holds `undefined`). */
  has(key: string): boolean {
    return Object.hasOwn(this.#values, key);
  }

  /** The keys, in insertion order (integer-like keys first, as for any JS object). */
  keys<S extends StateRecord>(this: State<S>): (keyof S & string)[] {
    return Object.keys(this.#values) as (keyof S & string)[];
  }

  /** A fresh, mutable shallow copy of the values; changing it does not change the State. */
  toObject(): T {
    return { ...this.#values } as T;
  }

  /** The plain object, so `JSON.stringify(state)` gives the values. */
  toJSON(): T {
    return this.toObject();
  }

  /** Iterates `[key, value]` entries, like `Object.entries` but lazily (and as loosely typed). */
  *[Symbol.iterator](): Generator<StateEntry<T>, void, undefined> {
    for (const key of Object.keys(this.#values)) {
      yield [key, this.#values[key]] as StateEntry<T>;
    }
  }

  /** Sets the given keys, adding new ones and replacing (and retyping) existing ones. */
  update<U extends StateRecord>(values: U): State<Merge<T, U>> {
    return this.#with(checkRecord(values, 'update'));
  }

  /** Appends one value to each given array key; a missing key becomes a one-element array. */
  append<S extends StateRecord>(this: State<S>, values: AppendValues<S>): State<S> {
    const changes = record();
    for (const [key, item] of Object.entries(checkRecord(values, 'append'))) {
      changes[key] = [...this.#arrayAt(key, 'append to', 'append to an array key'), item];
    }
    return this.#with(changes);
  }

  /** Appends every value of an array to each given array key; a missing key starts empty. */
  extend<S extends StateRecord>(this: State<S>, values: ExtendValues<S>): State<S> {
    const changes = record();
    for (const [key, items] of Object.entries(checkRecord(values, 'extend'))) {
      // Arrays only: a string is iterable and would be silently split into characters.
      if (!Array.isArray(items)) {
        throw new StateError(
          `Cannot extend '${key}' with ${describeType(items)}: extend() takes an array of values. ` +
            `Use append() to add a single value.`,
        );
      }
      changes[key] = [...this.#arrayAt(key, 'extend', 'extend an array key'), ...items];
    }
    return this.#with(changes);
  }

  /** Adds the given amounts to number keys; a missing key starts at 0. */
  increment<S extends StateRecord>(this: State<S>, values: IncrementValues<S>): State<S> {
    const changes = record();
    for (const [key, amount] of Object.entries(checkRecord(values, 'increment'))) {
      if (typeof amount !== 'number') {
        throw new StateError(
          `Cannot increment '${key}' by ${describeType(amount)}: the amount must be a number. ` +
            `Pass a number, e.g. increment({ ${key}: 1 }).`,
        );
      }
      const current: unknown = this.#values[key];
      if (current !== undefined && typeof current !== 'number') {
        throw new StateError(
          `Cannot increment '${key}': it holds ${describeType(current)}, not a number. ` +
            `Use update() to replace it, or increment a number key.`,
        );
      }
      changes[key] = (current ?? 0) + amount;
    }
    return this.#with(changes);
  }

  /** A State with only the given keys; `{ ignoreMissing: false }` makes a missing key an error. */
  subset<K extends keyof T & string>(...keys: K[]): State<Simplify<Pick<T, K>>>;
  subset<K extends keyof T & string>(
    ...args: [...keys: K[], options: SubsetOptions]
  ): State<Simplify<Pick<T, K>>>;
  subset(...args: (string | SubsetOptions)[]): State<StateRecord> {
    const last = args.at(-1);
    const options = typeof last === 'object' && last !== null ? (args.pop() as SubsetOptions) : {};
    const keys = args as string[];
    const missing = keys.filter((key) => !Object.hasOwn(this.#values, key));
    if (missing.length > 0 && options.ignoreMissing === false) {
      throw new StateError(
        `Cannot take subset: missing key(s) ${list(missing)} (the state has ${list(this.keys())}). ` +
          `Remove the missing keys, or pass { ignoreMissing: true } to skip them.`,
      );
    }
    const picked = record();
    for (const key of keys) if (Object.hasOwn(this.#values, key)) picked[key] = this.#values[key];
    return new State(picked);
  }

  /** Drops keys: `{ keep: [...] }` retains only those, `{ delete: [...] }` removes those. */
  wipe<K extends keyof T & string>(options: {
    readonly keep: readonly K[];
    readonly delete?: undefined;
  }): State<Simplify<Pick<T, K>>>;
  wipe<K extends keyof T & string>(options: {
    readonly delete: readonly K[];
    readonly keep?: undefined;
  }): State<Without<T, K>>;
  wipe(options: {
    readonly keep?: readonly string[];
    readonly delete?: readonly string[];
  }): State<StateRecord> {
    const { keep, delete: remove } = options ?? {};
    const how = 'Pass { keep: [...] } to list the keys to retain, or { delete: [...] } to remove.';
    if (keep !== undefined && remove !== undefined) {
      throw new StateError(`Cannot wipe with both keep and delete: choose one. ${how}`);
    }
    const names = keep ?? remove;
    if (!Array.isArray(names)) {
      throw new StateError(`Cannot wipe: wipe() needs an array of keys to keep or delete. ${how}`);
    }
    const listed = new Set<string>(names);
    const rest = record();
    for (const key of Object.keys(this.#values)) {
      if (listed.has(key) === (keep !== undefined)) rest[key] = this.#values[key];
    }
    return new State(rest);
  }

  /** A State with `other`'s values added on top of these; `other` wins on shared keys. */
  merge<U extends StateRecord>(other: State<U>): State<Merge<T, U>>;
  merge<U extends StateRecord>(other: U): State<Merge<T, U>>;
  merge(other: State | StateRecord): State {
    return this.#with(other instanceof State ? other.#values : checkRecord(other, 'merge'));
  }

  /** Shows the values in `console.log` and the REPL; private fields would print as `State {}`. */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    return `State ${inspect(this.toObject(), options)}`;
  }

  /** A new State with `changes` laid over these values. */
  #with<R extends StateRecord>(changes: StateRecord): State<R> {
    return new State(Object.assign(record(), this.#values, changes) as R);
  }

  /** The array under `key` for append/extend: empty when missing, an error when not an array. */
  #arrayAt(key: string, verb: string, fix: string): readonly unknown[] {
    const current = this.#values[key];
    if (current === undefined) return [];
    if (!Array.isArray(current)) {
      throw new StateError(
        `Cannot ${verb} '${key}': it holds ${describeType(current)}, not an array. ` +
          `Use update() to replace it, or ${fix}.`,
      );
    }
    return current;
  }
}

/** A fresh record, optionally filled with a shallow copy of `values`. */
// Null prototype: `get('constructor')` finds nothing and a '__proto__' key stays a plain key.
function record(values?: StateRecord): StateRecord {
  return Object.assign(Object.create(null) as StateRecord, values);
}

/** Rejects non-objects from untyped callers before they turn into confusing failures. */
function checkRecord(values: unknown, operation: string): StateRecord {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new StateError(
      `${operation}() takes an object of key/value pairs, but got ${describeType(values)}. ` +
        `Pass e.g. { count: 1 }.`,
    );
  }
  return values as StateRecord;
}

/** Names a value's kind for error messages: 'a number', 'an array', 'a Map', 'null'. */
function list(keys: readonly string[]): string {
  return keys.length === 0 ? 'no keys' : keys.map((key) => `'${key}'`).join(', ');
}
