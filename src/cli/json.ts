/** JSON output of the CLI verbs, for any value a store keeps. */
import { jsonValue } from '../ui/json-value.ts';

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
  return JSON.stringify(jsonValue(value, { namedUndefined: false }), null, 2).replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
