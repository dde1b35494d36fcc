/**
 * The argument list of a plan line, `tool(args)`: positional and `key=value` literals —
 * strings (single or double quotes, backslash escapes, parentheses inside), numbers,
 * booleans (`true`/`True`), null (`null`/`None`), lists and objects (JSON or Python
 * style), and bare `$N` / `${N}` placeholders. Positional only gives an array, named only
 * an object, both an array whose last element is the object of named ones.
 *
 * The text comes from a model, so it is hostile: every object built here has
 * Object.prototype and only own data properties — `__proto__`, `constructor` and
 * `prototype` are plain keys — and the reader moves forward only, in time linear in the text.
 */
import { ArgsSyntaxError } from './errors.ts';
import { defineKey } from './own-keys.ts';

/** Parses the text between the parentheses of `tool(...)`. */
export function parseArgs(text: string): readonly unknown[] | Readonly<Record<string, unknown>> {
  const reader = new Reader(text);
  const positional: unknown[] = [];
  const named: Record<string, unknown> = {};
  let sawNamed = false;
  reader.space();
  while (!reader.done()) {
    const key = reader.keyword();
    if (key !== undefined) {
      if (Object.hasOwn(named, key)) reader.fail(`'${key}' is given twice`);
      defineKey(named, key, reader.value(0));
      sawNamed = true;
    } else {
      if (sawNamed) reader.fail('a positional argument after a named one');
      positional.push(reader.value(0));
    }
    reader.space();
    if (reader.done()) break;
    reader.expect(',');
    reader.space();
    // A trailing comma is allowed, as in Python.
  }
  if (!sawNamed) return positional;
  if (positional.length === 0) return named;
  return [...positional, named];
}

const maxDepth = 64;

// Sticky patterns, matched at the reader's position: no slice of the rest of the text.
const spaces = /\s*/y;
const keywordAhead = /([A-Za-z_]\w*)\s*=(?!=)/y;
const numberAhead = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/y;
const wordAhead = /[A-Za-z_]\w*/y;
const placeholderAhead = /\$(?:\{\d+\}|\d+)/y;
const hexAhead = /[0-9a-fA-F]{4}/y;
/** A run of characters that need no escape handling, per quote. */
const plainRun: Readonly<Record<string, RegExp>> = { '"': /[^"\\]+/y, "'": /[^'\\]+/y };
const escapes = new Map(Object.entries({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0' }));

class Reader {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  done(): boolean {
    return this.#at >= this.#text.length;
  }

  fail(what: string): never {
    throw new ArgsSyntaxError(`${what} at column ${this.#at + 1}`, this.#at + 1);
  }

  space(): void {
    this.#match(spaces);
  }

  expect(char: string): void {
    if (this.#text[this.#at] !== char) {
      this.fail(`expected '${char}' but found ${this.#describe()}`);
    }
    this.#at++;
  }

  /** `name=` ahead (not `==`): returns the name and moves past the `=`. */
  keyword(): string | undefined {
    const match = this.#match(keywordAhead);
    if (!match) return undefined;
    this.space();
    return match[1];
  }

  value(depth: number): unknown {
    if (depth > maxDepth) this.fail('arguments nested too deeply');
    this.space();
    const char = this.#text[this.#at];
    if (char === undefined) this.fail('expected a value');
    if (char === '"' || char === "'") return this.#string(char);
    if (char === '[') return this.#list(depth);
    if (char === '{') return this.#object(depth);
    if (char === '$') return this.#placeholder();
    const number = this.#match(numberAhead);
    if (number) return Number(number[0]);
    const word = this.#match(wordAhead);
    if (word) {
      switch (word[0]) {
        case 'true':
        case 'True':
          return true;
        case 'false':
        case 'False':
          return false;
        case 'null':
        case 'None':
          return null;
      }
      this.#at -= word[0].length;
      this.fail(`'${word[0]}' is not a value (quote text, e.g. "${word[0]}")`);
    }
    return this.fail(`unexpected ${this.#describe()}`);
  }

  /** Matches a sticky `pattern` at the position and moves past the match. */
  #match(pattern: RegExp): RegExpExecArray | null {
    pattern.lastIndex = this.#at;
    const match = pattern.exec(this.#text);
    if (match) this.#at += match[0].length;
    return match;
  }

  #placeholder(): string {
    const match = this.#match(placeholderAhead);
    if (!match) this.fail("a '$' that is not a placeholder $N or $" + '{N}');
    return match[0];
  }

  #string(quote: '"' | "'"): string {
    this.#at++;
    // Runs of plain text are taken whole and joined once, so a long string costs its length.
    const parts: string[] = [];
    for (;;) {
      const run = this.#match(plainRun[quote]!);
      if (run) parts.push(run[0]);
      const char = this.#text[this.#at];
      if (char === undefined) this.fail('a string that is not closed');
      this.#at++;
      if (char === quote) return parts.join('');
      // A backslash: the character after it.
      const next = this.#text[this.#at];
      if (next === undefined) this.fail('a string that is not closed');
      this.#at++;
      if (next === 'u') {
        const hex = this.#match(hexAhead);
        if (!hex) this.fail('\\u needs four hex digits');
        parts.push(String.fromCharCode(Number.parseInt(hex[0], 16)));
      } else {
        // \\, \', \" and any other escaped character stand for themselves.
        parts.push(escapes.get(next) ?? next);
      }
    }
  }

  #list(depth: number): unknown[] {
    this.#at++;
    const items: unknown[] = [];
    this.space();
    while (this.#text[this.#at] !== ']') {
      items.push(this.value(depth + 1));
      this.space();
      if (this.#text[this.#at] === ',') {
        this.#at++;
        this.space();
        continue;
      }
      if (this.#text[this.#at] !== ']')
        this.fail(`expected ',' or ']' but found ${this.#describe()}`);
    }
    this.#at++;
    return items;
  }

  #object(depth: number): Record<string, unknown> {
    this.#at++;
    const out: Record<string, unknown> = {};
    this.space();
    while (this.#text[this.#at] !== '}') {
      const char = this.#text[this.#at];
      let key: string;
      if (char === '"' || char === "'") {
        key = this.#string(char);
      } else {
        const word = this.#match(wordAhead);
        if (!word) this.fail(`expected a key but found ${this.#describe()}`);
        key = word[0];
      }
      this.space();
      this.expect(':');
      defineKey(out, key, this.value(depth + 1));
      this.space();
      if (this.#text[this.#at] === ',') {
        this.#at++;
        this.space();
        continue;
      }
      if (this.#text[this.#at] !== '}')
        this.fail(`expected ',' or '}' but found ${this.#describe()}`);
    }
    this.#at++;
    return out;
  }

  #describe(): string {
    const char = this.#text[this.#at];
    return char === undefined ? 'the end' : `'${char}'`;
  }
}
