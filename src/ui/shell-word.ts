/**
 * Text as one word of a shell command, for the commands weft prints and shows (`weft
 * resume <run> --store <url>`): a command that still works, pasted into bash or zsh.
 */

/**
 * C0 and C1 controls and DEL, lone surrogates, and the bidirectional overrides and
 * isolates, which reorder what a terminal shows: what weft never prints or quotes raw.
 * With the u flag, \p{Cs} matches only a surrogate without its pair. Global: for `replace`.
 */
export const unsafeChars = /[\p{Cc}\u202a-\u202e\u2066-\u2069]|\p{Cs}/gu;
const hasUnsafe = new RegExp(unsafeChars.source, 'u');

/**
 * `text` as one word of a shell command: as it is when safe, else in single quotes, or in
 * `$'…'` when it holds control characters, each written as its UTF-8 bytes (`\x1b`,
 * `\xc2\x9b`): a command that still works, pasted into bash or zsh, and prints nothing raw.
 */
export function shellWord(text: string): string {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text;
  if (!hasUnsafe.test(text)) return `'${text.replace(/'/g, `'\\''`)}'`;
  const escaped = text
    .replace(/[\\']/g, '\\$&')
    .replace(unsafeChars, (char) =>
      [...Buffer.from(char)].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join(''),
    );
  return `$'${escaped}'`;
}
