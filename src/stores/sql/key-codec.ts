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
  return escapedTag + escapeUnits(key);
}

/** `%`, NUL and each lone surrogate of `text` written as `%` and four hex digits. */
function escapeUnits(text: string): string {
  return text.replace(
    mustEscape,
    (unit) => `%${unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
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

/**
 * A range of stored keys, in the order of their code points (SQLite's BINARY collation,
 * PostgreSQL's "C"): from `from`, included, up to `to`, excluded; no end when `to` is
 * undefined.
 */
export type StoredKeyRange = readonly [from: string, to: string | undefined];

/**
 * The ranges of stored keys that hold the keys starting with `prefix` (as JavaScript
 * strings, code unit by code unit), so that a store counts or pages them by a range of
 * its (run id, key) index rather than by reading every key of a run. Plain keys are
 * stored as they are and escaped keys after the marker, so a prefix has a range of each
 * (two of each when it ends with half of a character, which a key may complete or not).
 * A key stored by its digest is in none of them: a digest keeps no prefix.
 * The empty prefix is every key, digests included.
 */
export function storedPrefixRanges(prefix: string): StoredKeyRange[] {
  if (prefix === '') return [['', undefined]];
  const ranges: StoredKeyRange[] = [];
  const last = prefix.charCodeAt(prefix.length - 1);
  const head = prefix.slice(0, -1);
  // A high surrogate at the end is half a character: a key may complete it (then the
  // pair is kept as it is, in plain and escaped keys alike) or not (then it is escaped).
  const halfAtEnd = last >= 0xd800 && last <= 0xdbff;
  const plain = halfAtEnd ? head : prefix;
  if (plain === '' || isPlainKey(plain)) {
    ranges.push(halfAtEnd ? pairedRange(head, last) : startingWith(prefix));
  }
  const escapedHead = escapedTag + escapeUnits(halfAtEnd ? head : prefix);
  if (halfAtEnd) ranges.push(pairedRange(escapedHead, last));
  ranges.push(startingWith(escapedTag + escapeUnits(prefix)));
  return ranges;
}

/** The stored keys starting with `text` (well-formed). */
function startingWith(text: string): StoredKeyRange {
  return [text, after(text)];
}

/** The stored keys starting with `text` then a character whose high surrogate is `high`. */
function pairedRange(text: string, high: number): StoredKeyRange {
  const first = 0x10000 + ((high - 0xd800) << 10);
  const last = first + 0x3ff;
  return [text + String.fromCodePoint(first), after(text + String.fromCodePoint(last))];
}

/**
 * The first text, in code point order, after every text starting with `text`: its last
 * character but one raised by one, the highest characters at its end dropped; undefined
 * when every character is the highest (no text is after them all).
 */
function after(text: string): string | undefined {
  const points = [...text];
  while (points.length > 0) {
    const point = points.pop()!.codePointAt(0)!;
    if (point === 0x10ffff) continue;
    // Surrogates are not characters: after U+D7FF comes U+E000.
    const next = point === 0xd7ff ? 0xe000 : point + 1;
    return points.join('') + String.fromCodePoint(next);
  }
  return undefined;
}
