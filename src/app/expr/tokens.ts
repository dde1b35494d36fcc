/** The tokenizer: source text to numbers, strings, names and operators, with positions. */
import type { ValidationError } from '../../core/errors.ts';

/** Builds a compile-time error pointing at `pos` (0-based), with an optional hint after it. */
export type SyntaxErrorOf = (message: string, pos: number, hint?: string) => ValidationError;

/** One token of the source. */
export interface Token {
  readonly kind: 'number' | 'string' | 'name' | 'op' | 'end';
  readonly text: string;
  readonly value?: unknown;
  /** 0-based offset into the source. */
  readonly pos: number;
}

// Longest first, so `===` is not read as `==` then `=`.
const OPERATORS = '=== !== ** // <= >= == != && || < > + - * / % ! ( ) [ ] , .'.split(' ');
const NUMBER = /0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME = /[\p{L}_][\p{L}\p{N}_]*/uy;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const ESCAPES = new Map(
  Object.entries({ n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' }),
);

/** Splits `source` into tokens, ending with an `end` token; throws via `error` on bad input. */
export function tokenize(source: string, error: SyntaxErrorOf): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'" || ch === '"') {
      let value = '';
      for (i++; source[i] !== ch; i++) {
        if (i >= source.length) throw error('unterminated string', start);
        if (source[i] !== '\\') {
          value += source[i];
          continue;
        }
        const code = source[++i] ?? '';
        if (code === '') throw error('unterminated string', start);
        const hex = source.slice(i + 1, i + 5);
        if (code === 'u' && /^[0-9a-fA-F]{4}$/.test(hex)) {
          value += String.fromCharCode(Number.parseInt(hex, 16));
          i += 4;
        } else if (ESCAPES.has(code)) {
          value += ESCAPES.get(code);
        } else {
          throw error(`unknown escape '\\${code}'`, i - 1);
        }
      }
      i++;
      tokens.push({ kind: 'string', text: source.slice(start, i), value, pos: start });
      continue;
    }
    NUMBER.lastIndex = i;
    NAME.lastIndex = i;
    const number = NUMBER.exec(source);
    const name = number ? null : NAME.exec(source);
    if (number) {
      i += number[0].length;
      // `3abc` or `0x1g` is a typo, not a number followed by a name.
      if (WORD_CHAR.test(source[i] ?? '')) {
        const word = /^[\p{L}\p{N}_.]+/u.exec(source.slice(start))?.[0] ?? number[0];
        throw error(`invalid number '${word}'`, start);
      }
      tokens.push({ kind: 'number', text: number[0], value: Number(number[0]), pos: start });
    } else if (name) {
      i += name[0].length;
      tokens.push({ kind: 'name', text: name[0], pos: start });
    } else {
      const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
      if (op === undefined) {
        const hint = ch === '=' ? "use '==' to compare" : undefined;
        throw error(`unexpected character '${ch}'`, start, hint);
      }
      i += op.length;
      tokens.push({ kind: 'op', text: op, pos: start });
    }
  }
  tokens.push({ kind: 'end', text: '', pos: source.length });
  return tokens;
}
