/**
 * Text the CLI prints that came from a store or the command line: job arguments, file
 * names, run ids, task keys, error messages. A shared store may hold anything, and an
 * escape sequence printed raw would drive the reader's terminal, so control characters
 * are shown as escapes; ordinary Unicode is printed as it is.
 */

import { unsafeChars } from '../ui/shell-word.ts';

export { shellWord } from '../ui/shell-word.ts';

const named: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with each control character written as an escape: `\x1b`, `\n`, `\u202e`, `\ud800`. */
export function printable(text: string): string {
  return text.replace(unsafeChars, escapeChar);
}

/**
 * `text` made printable and, when longer than `max` characters, cut there and marked
 * with its length, so that a message naming it stays readable.
 */
export function clipped(text: string, max = 80): string {
  const chars = [...text];
  if (chars.length <= max) return printable(text);
  return `${printable(chars.slice(0, max).join(''))}… (${chars.length.toLocaleString('en-US')} characters)`;
}

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  return named[char] ?? (code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`);
}

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, '0');
}
