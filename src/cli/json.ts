/** JSON output of the CLI verbs, for any value a store keeps. */

/**
 * `value` as indented JSON text. What JSON cannot hold is written readably rather than
 * failing: a BigInt as its digits and `n` (`"12n"`), NaN and ±Infinity by name, a Date as
 * ISO text, a Map as an object (as `[key, value]` pairs when a key is not a string), a
 * Set, typed array or ArrayBuffer as an array, a RegExp as its source, an Error as its
 * name and message, a repeated reference on its own path as `"[Circular]"`.
 */
export function toJson(value: unknown): string {
  // JSON.stringify escapes C0 controls and lone surrogates, but writes DEL, the C1
  // controls and the bidirectional controls raw: escaped too, so that no text of the
  // store drives the terminal. They occur only inside strings, where the \u escape is the
  // same text to any JSON reader.
  return JSON.stringify(jsonReady(value, new Set()), null, 2).replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function jsonReady(value: unknown, path: Set<object>): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'symbol' || typeof value === 'function') return String(value);
  if (typeof value !== 'object' || value === null) return value;
  if (path.has(value)) return '[Circular]';
  path.add(value);
  try {
    return objectReady(value, (inner) => jsonReady(inner, path));
  } finally {
    // Only the path from the root: a value shared by two branches is written twice.
    path.delete(value);
  }
}

function objectReady(value: object, ready: (inner: unknown) => unknown): unknown {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  }
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...entriesOf(value, ready) };
  }
  if (value instanceof Map) {
    const pairs = [...value].map(([key, inner]) => [ready(key), ready(inner)] as const);
    return [...value.keys()].every((key) => typeof key === 'string')
      ? Object.fromEntries(pairs)
      : pairs;
  }
  if (value instanceof Set) return [...value].map(ready);
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) {
    const items =
      value instanceof DataView
        ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
        : (value as unknown as ArrayLike<number | bigint>);
    return Array.from(items, ready);
  }
  if (Array.isArray(value)) return value.map(ready);
  return entriesOf(value, ready);
}

function entriesOf(value: object, ready: (inner: unknown) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, ready(inner)]));
}
