/**
 * Values a store keeps (states, meta) as JSON the page and the CLI's `--json` can show:
 * what JSON cannot hold is written readably rather than failing the answer.
 */

/**
 * `value` made JSON-ready: a BigInt as its digits and `n` (`"12n"`), NaN and ±Infinity
 * and `undefined` by name, a Date as ISO text, a Map as an object (as `[key, value]` pairs
 * when a key is not a string), a Set, typed array or ArrayBuffer as an array, a RegExp as
 * its source, an Error as its name and message, a repeated reference on its own path as
 * `"[Circular]"`. With `namedUndefined: false`, `undefined` is left to JSON.stringify
 * (a property left out, `null` in an array).
 */
export function jsonValue(
  value: unknown,
  options: { readonly namedUndefined?: boolean } = {},
): unknown {
  return ready(value, new Set(), options.namedUndefined !== false);
}

function ready(value: unknown, path: Set<object>, namedUndefined: boolean): unknown {
  if (value === undefined) return namedUndefined ? 'undefined' : undefined;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'symbol' || typeof value === 'function') return String(value);
  if (typeof value !== 'object' || value === null) return value;
  if (path.has(value)) return '[Circular]';
  path.add(value);
  try {
    return objectReady(value, (inner) => ready(inner, path, namedUndefined));
  } finally {
    // Only the path from the root: a value shared by two branches is written twice.
    path.delete(value);
  }
}

function objectReady(value: object, inner: (value: unknown) => unknown): unknown {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  }
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...entriesOf(value, inner) };
  }
  if (value instanceof Map) {
    const pairs = [...value].map(([key, item]) => [inner(key), inner(item)] as const);
    return [...value.keys()].every((key) => typeof key === 'string')
      ? Object.fromEntries(pairs)
      : pairs;
  }
  if (value instanceof Set) return [...value].map(inner);
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) {
    const items =
      value instanceof DataView
        ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
        : (value as unknown as ArrayLike<number | bigint>);
    return Array.from(items, inner);
  }
  if (Array.isArray(value)) return value.map(inner);
  return entriesOf(value, inner);
}

function entriesOf(value: object, inner: (value: unknown) => unknown): Record<string, unknown> {
  // defineProperty-free: Object.fromEntries makes `__proto__` an own key, never a prototype.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, inner(item)]));
}
