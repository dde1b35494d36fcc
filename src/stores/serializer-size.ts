/**
 * How long a value's text would be, measured before it is built: the longest string V8
 * makes is 2^29 - 24 characters (about 512 MB), and building a text past it throws a
 * RangeError only after filling that much memory.
 */
import { constants } from 'node:buffer';
import { SerializationError } from '../core/errors.ts';

/** The longest string V8 makes (2^29 - 24 characters on 64-bit machines). */
export const maxText = constants.MAX_STRING_LENGTH;

/**
 * For plain JSON data: the length of its JSON text, and the length of the
 * text of its distinct strings (values and keys), which any text that stores the value,
 * JSON or devalue, holds at least once.
 */
export function measureJson(value: unknown): { json: number; strings: number } {
  const lengths = new Map<string, number>();
  const measure = (string: string): number => {
    let length = lengths.get(string);
    if (length === undefined) {
      length = jsonStringLength(string);
      lengths.set(string, length);
    }
    return length;
  };
  const size = (item: unknown): number => {
    if (typeof item === 'string') return measure(item);
    if (typeof item !== 'object' || item === null) return String(item).length;
    const entries = Array.isArray(item) ? item.entries() : Object.entries(item);
    let length = 2;
    let count = 0;
    for (const [name, field] of entries) {
      length += size(field) + (typeof name === 'string' ? measure(name) + 1 : 0);
      count++;
    }
    return length + Math.max(count - 1, 0);
  };
  const json = size(value);
  let strings = 0;
  for (const length of lengths.values()) strings += length;
  return { json, strings };
}

/** The length of `JSON.stringify(string)`, without making it. */
function jsonStringLength(string: string): number {
  let length = string.length + 2;
  if (!needsEscape.test(string)) return length;
  for (let i = 0; i < string.length; i++) {
    const code = string.charCodeAt(i);
    if (code >= 0x20 && code !== 0x22 && code !== 0x5c && (code < 0xd800 || code > 0xdfff))
      continue;
    if (code >= 0xd800 && code <= 0xdfff) {
      // A surrogate pair is written as it is; a lone surrogate as a six-character \u escape.
      const next = string.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else length += 5;
    } else if (code === 0x22 || code === 0x5c || shortEscapes.has(code)) {
      length += 1;
    } else {
      length += 5;
    }
  }
  return length;
}

// What JSON writes other than as it is: quotes, backslashes, control characters, surrogates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes control characters.
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;
// \b \t \n \f \r: the control characters JSON writes in two characters, not six.
const shortEscapes = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

export function tooLarge(key: string | undefined, cause?: unknown): SerializationError {
  return new SerializationError(
    `${key ?? 'The value'} cannot be stored: its text would be longer than ` +
      `${maxText.toLocaleString('en-US')} characters, the longest string JavaScript holds. ` +
      'Return less data, or write it to a file and return the path.',
    cause === undefined ? undefined : { cause },
  );
}
