/**
 * The names of artifact files, and the keys they stand for. Every key maps to its own file
 * name, whatever the key and whatever the file system: the names hold only lower-case
 * ASCII letters, digits, `-_~'()!` and `%` escapes (see {@link fileName}), so that a file
 * system that ignores case (macOS, Windows) cannot merge two keys either. A name reads back
 * as its key (see {@link keyOfName}), so that listing a run's keys reads no artifact; a name
 * shortened for length keeps its key in a file beside it (`<name>.key`).
 */
import { createHash } from 'node:crypto';
import { escapeKey, isPlainKey, keyFromStored } from './sql/key-codec.ts';

/** Longest file name kept as is; longer keys are shortened and made unique with a hash. */
const maxNameLength = 200;
/**
 * What separates a shortened name's head from its hash: `~` escaped, which escapeName
 * never writes (it leaves `~` as it is), so that no key's name unshortened is a shortened
 * one. An earlier weft wrote a plain `~` there (see {@link legacyFileName}).
 */
const shortenedMark = '%7E';
/** Characters of the escaped key a shortened name keeps, before its mark and hash. */
const shortenedHead = maxNameLength - shortenedMark.length - 64;
/** Characters of the escaped key a name an earlier weft shortened keeps. */
const legacyShortenedHead = maxNameLength - 65;
/** Names Windows keeps for devices, in any case and with any extension. */
const deviceName = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
/** The longest name a device name escaped becomes (`%63om1`). */
const maxDeviceName = 6;
/** How every key stored in another form (key-codec.ts), and so its name, starts. */
const markerName = encodeURIComponent('\uFFFF');

/** Suffix of the file beside a shortened name that holds its key, well-formed (key-codec.ts). */
export const keySuffix = '.key';
/** The tail {@link shorten} gives a name: its mark and a SHA-256 in hex. */
const shortenedTail = /%7E[0-9a-f]{64}$/;

/**
 * A file name for any key, one to one: no key reaches outside its folder or shares a file
 * with another. The key is made well-formed (key-codec.ts), percent-encoded, and then
 * `.`, `*` and capital letters are escaped too: `.` so that `.` and `..` are ordinary
 * names, `*` for Windows, capitals for file systems that ignore case. A name Windows keeps
 * for a device (`con`, `nul`, …) has its first letter escaped. None of those escapes is
 * one that encodeURIComponent makes, so names stay distinct. A name over 200 characters
 * is cut and made unique by the SHA-256 of the key, after a `%7E` no name of a key
 * written in full holds.
 */
export function fileName(key: string): string {
  const text = escapeKey(key);
  let escaped = escapeName(text);
  if (deviceName.test(escaped)) escaped = percent(escaped[0]!) + escaped.slice(1);
  if (escaped.length <= maxNameLength) return escaped;
  // Escapes kept whole: the head stays a prefix of the full name (NamePrefix).
  const head = escaped.slice(0, shortenedHead).replace(/%[0-9A-F]?$/, '');
  return `${head}${shortenedMark}${sha256(text)}`;
}

/**
 * Well-formed text as a name, one character at a time, so that the name of a text that
 * starts with another starts with that one's name.
 */
function escapeName(text: string): string {
  // The hex digits of encodeURIComponent's escapes are capitals too, and stay as they are.
  return encodeURIComponent(text).replace(/%[0-9A-F]{2}|[.*A-Z]/g, (found) =>
    found.length === 1 ? percent(found) : found,
  );
}

/** The file name an earlier weft gave a (well-formed) key, read where case is told apart. */
export function legacyFileName(key: string): string {
  const text = escapeKey(key);
  const escaped = escapeLegacyName(text);
  if (escaped.length <= maxNameLength) return escaped;
  return `${escaped.slice(0, legacyShortenedHead)}~${sha256(text)}`;
}

function escapeLegacyName(text: string): string {
  return encodeURIComponent(text).replaceAll('.', '%2E');
}

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Whether a name of {@link fileName} is a shortened one, whose key is kept beside it. */
export function isShortened(name: string): boolean {
  return name.length > shortenedHead && shortenedTail.test(name);
}

/** The key a name of {@link fileName} or {@link legacyFileName} decodes to, if any. */
export function decodeName(name: string): string | undefined {
  try {
    return keyFromStored(decodeURIComponent(name));
  } catch {
    return undefined;
  }
}

/**
 * The key whose {@link fileName} is `name`, read from the name itself, or undefined. Not
 * for shortened names: one also decodes, as a key of its own that ends in the hash, so only
 * the file of its key tells which key wrote it ({@link keyOfText}). Temporary files and the
 * files of keys hold a `.`, which no name holds.
 */
export function keyOfName(name: string): string | undefined {
  if (name.includes('.')) return undefined;
  const key = decodeName(name);
  return key !== undefined && fileName(key) === name ? key : undefined;
}

/** The key held in the file beside the shortened name `name`, if it is that name's key. */
export function keyOfText(name: string, text: string): string | undefined {
  const key = keyFromStored(text);
  return fileName(key) === name ? key : undefined;
}

/**
 * Tells, from a name alone, the names that cannot be those of keys starting with a prefix,
 * so that listing by prefix decodes only the others: the name of a plain key starting with
 * a plain prefix starts with the prefix's name, unless it is a device's, shortened with the
 * prefix's name longer than the head it keeps, or that of a key stored in another form.
 */
export class NamePrefix {
  readonly #heads: readonly string[] | undefined;
  readonly #shortenedToo: boolean;

  /** @param legacy whether names an earlier weft gave may hold the keys too */
  constructor(prefix: string, legacy: boolean) {
    if (prefix === '' || !isPlainKey(prefix)) {
      this.#heads = undefined;
      this.#shortenedToo = true;
      return;
    }
    const head = escapeName(prefix);
    this.#heads = legacy ? [head, escapeLegacyName(prefix), markerName] : [head, markerName];
    // A shortened name keeps at least this much of its escaped key (a cut escape dropped).
    this.#shortenedToo = head.length > shortenedHead - 2;
  }

  /** Whether `name` may be the name of a key starting with the prefix. */
  mayHold(name: string): boolean {
    const heads = this.#heads;
    if (heads === undefined || name.length <= maxDeviceName) return true;
    for (const head of heads) if (name.startsWith(head)) return true;
    return this.#shortenedToo && isShortened(name);
  }
}
