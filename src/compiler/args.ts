/**
 * The argument list of a plan line, `tool(args)`: positional and `key=value` literals —
 * strings (single or double quotes, backslash escapes, parentheses inside), numbers,
 * booleans (`true`/`True`), null (`null`/`None`), lists and objects (JSON or Python
 * style), and bare `$N` / `${N}` placeholders. Positional only gives an array, named only
 * an object, both an array whose last element is the object of named ones.
 */

/** Why an argument list could not be read, and where. */
export class ArgsSyntaxError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(message);
    this.column = column;
  }
}

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
      named[key] = reader.value(0);
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
    while (/\s/.test(this.#text[this.#at] ?? '')) this.#at++;
  }

  expect(char: string): void {
    if (this.#text[this.#at] !== char) {
      this.fail(`expected '${char}' but found ${this.#describe()}`);
    }
    this.#at++;
  }

  /** `name=` ahead (not `==`): returns the name and moves past the `=`. */
  keyword(): string | undefined {
    const match = /^([A-Za-z_]\w*)\s*=(?!=)/.exec(this.#text.slice(this.#at));
    if (!match) return undefined;
    this.#at += match[0].length;
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
    const rest = this.#text.slice(this.#at);
    const number = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(rest);
    if (number) {
      this.#at += number[0].length;
      return Number(number[0]);
    }
    const word = /^[A-Za-z_]\w*/.exec(rest);
    if (word) {
      this.#at += word[0].length;
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

  #placeholder(): string {
    const match = /^\$(?:\{\d+\}|\d+)/.exec(this.#text.slice(this.#at));
    if (!match) this.fail("a '$' that is not a placeholder $N or $" + '{N}');
    this.#at += match[0].length;
    return match[0];
  }

  #string(quote: string): string {
    this.#at++;
    let out = '';
    for (;;) {
      const char = this.#text[this.#at];
      if (char === undefined) this.fail('a string that is not closed');
      this.#at++;
      if (char === quote) return out;
      if (char !== '\\') {
        out += char;
        continue;
      }
      const next = this.#text[this.#at];
      if (next === undefined) this.fail('a string that is not closed');
      this.#at++;
      switch (next) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case '0':
          out += '\0';
          break;
        case 'u': {
          const hex = /^[0-9a-fA-F]{4}/.exec(this.#text.slice(this.#at));
          if (!hex) this.fail('\\u needs four hex digits');
          out += String.fromCharCode(Number.parseInt(hex[0], 16));
          this.#at += 4;
          break;
        }
        default:
          // \\, \', \" and any other escaped character stand for themselves.
          out += next;
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
        const word = /^[A-Za-z_]\w*/.exec(this.#text.slice(this.#at));
        if (!word) this.fail(`expected a key but found ${this.#describe()}`);
        key = word[0];
        this.#at += key.length;
      }
      this.space();
      this.expect(':');
      // Own property even for '__proto__', so a plan cannot change the object's prototype.
      Object.defineProperty(out, key, {
        value: this.value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
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
