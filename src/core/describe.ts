/** A short human name for the type of a value, for error messages: `a number`, `an array`, `a Map`. */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return value.name ? `a function (${value.name})` : 'a function';
  if (typeof value === 'object') {
    const ctor = Object.getPrototypeOf(value)?.constructor?.name;
    return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
  }
  return `a ${typeof value}`;
}

/**
 * A value for an error message, briefly: {@link describeType}'s name with a string's
 * first 40 characters, a number's or boolean's value and an array's length, e.g.
 * `the string "abc"`, `the number NaN`, `an array of 3`, `a Map`, `null`.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `the ${typeof value} ${String(value)}`;
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return describeType(value);
}

/** An object literal or `Object.create(null)`, not a class instance or an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A dag node's id as messages name it: a string in quotes, a number plainly, so that `'1'`
 * and `1` are told apart.
 */
export function nodeName(id: string | number): string {
  return typeof id === 'number' ? String(id) : `'${id}'`;
}
