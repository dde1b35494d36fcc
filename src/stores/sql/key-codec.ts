/**
 * Keys as a database can hold them, exactly. A task key, an artifact key, an application id
 * or partition key may be any JavaScript string, but databases hold UTF-8 text: PostgreSQL
 * refuses a NUL, and both databases turn a lone surrogate (a string cut in the middle of an
 * emoji) into U+FFFD, so that two keys would become one row. PostgreSQL's unique indexes
 * also refuse rows over about 2,700 bytes.
 *
 * Every key goes through {@link storedKey} before it is bound and through
 * {@link keyFromStored} when read. The mapping is injective and leaves ordinary keys as
 * they are, so databases written before it keep resuming:
 * - a well-formed key without NUL that does not start with {@link keyMarker} is kept;
 * - any other key becomes the marker, `~`, then the key with `%`, NUL and each lone
 *   surrogate written as `%` and four hex digits of its UTF-16 code unit;
 * - a key whose form above is longer than the store allows becomes the marker, `#`, then
 *   the SHA-256 of that form's UTF-8 bytes in hex; the store keeps the full form beside it
 *   where it must read the key back.
 */
import { createHash } from 'node:crypto';

/**
 * U+FFFF, a noncharacter that text never holds: it marks a key stored in another form.
 * Keys that start with it are escaped, so that no key can pass for another.
 */
export const keyMarker = '\uFFFF';

const escapedTag = `${keyMarker}~`;
const digestTag = `${keyMarker}#`;
/** Any surrogate: a cheap first test, since most keys hold none. */
const anySurrogate = /[\uD800-\uDFFF]/;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const mustEscape = new RegExp(`[%\\0]|${loneSurrogate.source}`, 'g');

/** Whether `text` holds a lone surrogate (half of a character, from text cut mid-emoji). */
export function hasLoneSurrogate(text: string): boolean {
  return anySurrogate.test(text) && loneSurrogate.test(text);
}

const escaped = /%([0-9A-F]{4})/g;

/** Whether a database holds `key` as it is: well-formed, without NUL, not marked. */
export function isPlainKey(key: string): boolean {
  return key.charCodeAt(0) !== 0xffff && !key.includes('\0') && !hasLoneSurrogate(key);
}

/** `key` as well-formed text without NUL, one to one: itself when it is plain. */
export function escapeKey(key: string): string {
  if (isPlainKey(key)) return key;
  return (
    escapedTag +
    key.replace(
      mustEscape,
      (unit) => `%${unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
    )
  );
}

/**
 * The form `key` is bound in: {@link escapeKey}'s, or its digest when that form is longer
 * than `maxBytes` bytes of UTF-8.
 */
export function storedKey(key: string, maxBytes = Number.POSITIVE_INFINITY): string {
  const text = escapeKey(key);
  // A UTF-16 code unit takes at most 3 bytes of UTF-8: most keys need no counting.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return digestTag + createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Whether a stored key is a digest, whose full form is kept beside it. */
export function isDigest(stored: string): boolean {
  return stored.startsWith(digestTag);
}

/**
 * The key back from its stored form, or from the full form kept beside a digest. A marked
 * key that weft did not escape (written before keys were escaped) is returned as it is.
 */
export function keyFromStored(stored: string): string {
  if (!stored.startsWith(escapedTag)) return stored;
  return stored
    .slice(escapedTag.length)
    .replace(escaped, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
