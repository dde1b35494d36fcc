/**
 * A small, safe expression language for transition conditions, e.g. `expr('count < 10')`.
 *
 * Python-flavoured (`and`/`or`/`not`, chained comparisons, `in`, `is`, `//`, `**`), with the
 * JS spellings accepted too (`&&`, `||`, `!`, `===`, `true`, `null`). Source text is tokenized
 * and parsed once into an AST, which is compiled into closures; nothing is `eval`ed, only
 * state values are read, and only a fixed set of builtins can be called.
 */
import { ValidationError } from '../core/errors.ts';

/** A parsed condition expression; evaluate it against state values. */
export interface CompiledExpression {
  /** The expression's source text, as given. */
  readonly source: string;
  /** Names of the state keys the expression reads (top-level identifiers, excluding builtins), in order of first appearance. */
  readonly keys: readonly string[];
  /** Evaluates; the result is converted with Python truthiness by `test`, raw by `evaluate`. */
  evaluate(values: Readonly<Record<string, unknown>>): unknown;
  /** Evaluates and applies Python truthiness (see {@link truthy}). */
  test(values: Readonly<Record<string, unknown>>): boolean;
}

/** Deepest nesting of parentheses, brackets, calls and unary operators a source may use. */
const MAX_DEPTH = 200;

type Values = Readonly<Record<string, unknown>>;
type Evaluator = (values: Values) => unknown;
/** Builds the error to throw; callers `throw` it so control flow stays visible. */
type Raise = (message: string) => ValidationError;
/** Builds a compile-time error pointing at `pos` (0-based), with an optional hint after it. */
type SyntaxErrorOf = (message: string, pos: number, hint?: string) => ValidationError;

type ArithOp = '+' | '-' | '*' | '/' | '//' | '%' | '**';
type OrderOp = '<' | '<=' | '>' | '>=';
type CompareOp = OrderOp | '==' | '!=' | '===' | '!==' | 'in' | 'not in' | 'is' | 'is not';

type Step =
  | { readonly kind: 'member'; readonly name: string }
  | { readonly kind: 'index'; readonly index: Node };
type Link<Op> = { readonly op: Op; readonly right: Node };

/**
 * The AST. Left-associative runs (`a + b - c`, `a and b and c`, `a < b < c`, `x.y[0]`) are
 * flat lists evaluated in a loop, so a long flat expression never nests deeply.
 */
type Node =
  | { readonly type: 'literal'; readonly value: unknown }
  | { readonly type: 'name'; readonly name: string }
  | { readonly type: 'list'; readonly items: readonly Node[] }
  | { readonly type: 'call'; readonly name: string; readonly args: readonly Node[] }
  | { readonly type: 'access'; readonly target: Node; readonly steps: readonly Step[] }
  | { readonly type: 'not'; readonly operand: Node }
  | { readonly type: 'unary'; readonly op: '-' | '+'; readonly operand: Node }
  | { readonly type: 'logic'; readonly op: 'and' | 'or'; readonly operands: readonly Node[] }
  | { readonly type: 'compare'; readonly first: Node; readonly rest: readonly Link<CompareOp>[] }
  | { readonly type: 'arith'; readonly first: Node; readonly rest: readonly Link<ArithOp>[] };

/**
 * Compiles `source` once; the result can be evaluated many times.
 * @throws ValidationError when `source` is not a string or not a valid expression; the
 * message quotes the expression and the 1-based column.
 * @example compileExpression('count < 10 and not done').test({ count: 3, done: false }) // true
 */
export function compileExpression(source: string): CompiledExpression {
  if (typeof source !== 'string') {
    throw new ValidationError(`expr() takes the expression as a string, got ${typeName(source)}.`);
  }
  const label = `expr('${source.length > 80 ? `${source.slice(0, 77)}...` : source}')`;
  const syntaxError: SyntaxErrorOf = (message, pos, hint) =>
    new ValidationError(`${label}: ${message} at column ${pos + 1}${hint ? `; ${hint}` : ''}.`);
  const raise: Raise = (message) => new ValidationError(`${label}: ${message}.`);
  let run: Evaluator;
  let keys: readonly string[];
  try {
    const parser = new Parser(tokenize(source, syntaxError), syntaxError);
    run = compileNode(parser.parse(), raise);
    keys = Object.freeze([...parser.keys]);
  } catch (error) {
    throw asValidationError(error, label, 'compiled');
  }
  // `test` applies truthy inside the guard too: a hostile Proxy can throw from it.
  const guarded =
    <T>(use: (values: Values) => T) =>
    (values: Values): T => {
      if (typeof values !== 'object' || values === null) {
        throw raise(`needs an object of state values, got ${typeName(values)}`);
      }
      try {
        return use(values);
      } catch (error) {
        throw asValidationError(error, label, 'evaluated');
      }
    };
  return Object.freeze({
    source,
    keys,
    evaluate: guarded(run),
    test: guarded((values) => truthy(run(values))),
  });
}

/**
 * Python truthiness: false, 0, -0, NaN, 0n, '', null, undefined, an empty array, an empty
 * Map or Set, and a plain object with no own keys are falsy; everything else is truthy.
 * Class instances are always truthy, as in Python.
 */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** A backstop: a stack overflow or a throwing user getter still surfaces as a ValidationError. */
function asValidationError(error: unknown, label: string, stage: string): ValidationError {
  if (error instanceof ValidationError) return error;
  const reason = error instanceof Error ? error.message : 'a non-error value was thrown';
  return new ValidationError(`${label}: could not be ${stage}: ${reason}.`, { cause: error });
}

// ---------------------------------------------------------------------------------------------
// Tokens

interface Token {
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

function tokenize(source: string, error: SyntaxErrorOf): Token[] {
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

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent, one method per Python precedence level, lowest first.

const LITERALS = new Map<string, unknown>(
  Object.entries({ True: true, False: false, None: null, true: true, false: false, null: null }),
);
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is']);
const COMPARE_SYMBOLS = new Set(['<', '<=', '>', '>=', '==', '!=', '===', '!==']);
const SUM_OPS = new Set(['+', '-']);
const TERM_OPS = new Set(['*', '/', '//', '%']);

class Parser {
  readonly keys: string[] = [];
  readonly #seen = new Set<string>();
  readonly #tokens: readonly Token[];
  readonly #error: SyntaxErrorOf;
  #position = 0;
  #depth = 0;

  constructor(tokens: readonly Token[], error: SyntaxErrorOf) {
    this.#tokens = tokens;
    this.#error = error;
  }

  parse(): Node {
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== 'end') throw this.#error(`unexpected '${next.text}'`, next.pos);
    return node;
  }

  #peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#position + offset, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== 'end') this.#position++;
    return token;
  }

  #is(kind: 'op' | 'name', text: string, offset = 0): boolean {
    const token = this.#peek(offset);
    return token.kind === kind && token.text === text;
  }

  #expect(text: string): void {
    const token = this.#peek();
    if (!this.#is('op', text)) throw this.#error(`expected '${text}'${found(token)}`, token.pos);
    this.#next();
  }

  /** Every construct that nests goes through here, so the recursion depth stays bounded. */
  #nested<T>(pos: number, parse: () => T): T {
    if (++this.#depth > MAX_DEPTH) {
      throw this.#error(`the expression nests more than ${MAX_DEPTH} levels deep`, pos);
    }
    const result = parse();
    this.#depth--;
    return result;
  }

  #or(): Node {
    return this.#logic('or', '||', () => this.#and());
  }

  #and(): Node {
    return this.#logic('and', '&&', () => this.#not());
  }

  #logic(word: 'and' | 'or', symbol: string, operand: () => Node): Node {
    const operands = [operand()];
    while (this.#is('name', word) || this.#is('op', symbol)) {
      this.#next();
      operands.push(operand());
    }
    return operands.length === 1 ? operands[0]! : { type: 'logic', op: word, operands };
  }

  #not(): Node {
    if (!this.#is('name', 'not') && !this.#is('op', '!')) return this.#comparison();
    const token = this.#next();
    return this.#nested(token.pos, () => ({ type: 'not', operand: this.#not() }));
  }

  #comparison(): Node {
    const first = this.#sum();
    const rest: Link<CompareOp>[] = [];
    for (let op = this.#comparisonOperator(); op; op = this.#comparisonOperator()) {
      rest.push({ op, right: this.#sum() });
    }
    return rest.length === 0 ? first : { type: 'compare', first, rest };
  }

  #comparisonOperator(): CompareOp | undefined {
    const token = this.#peek();
    if (token.kind === 'op' && COMPARE_SYMBOLS.has(token.text)) {
      this.#next();
      return token.text as CompareOp;
    }
    if (this.#is('name', 'in')) {
      this.#next();
      return 'in';
    }
    if (this.#is('name', 'not') && this.#is('name', 'in', 1)) {
      this.#position += 2;
      return 'not in';
    }
    if (!this.#is('name', 'is')) return undefined;
    this.#next();
    if (!this.#is('name', 'not')) return 'is';
    this.#next();
    return 'is not';
  }

  #sum(): Node {
    return this.#chain(SUM_OPS, () => this.#term());
  }

  #term(): Node {
    return this.#chain(TERM_OPS, () => this.#unary());
  }

  #chain(ops: ReadonlySet<string>, operand: () => Node): Node {
    const first = operand();
    const rest: Link<ArithOp>[] = [];
    while (this.#peek().kind === 'op' && ops.has(this.#peek().text)) {
      const op = this.#next().text as ArithOp;
      rest.push({ op, right: operand() });
    }
    return rest.length === 0 ? first : { type: 'arith', first, rest };
  }

  #unary(): Node {
    if (!this.#is('op', '-') && !this.#is('op', '+')) return this.#power();
    const token = this.#next();
    const op = token.text as '-' | '+';
    return this.#nested(token.pos, () => ({ type: 'unary', op, operand: this.#unary() }));
  }

  /** `**` binds tighter than a unary minus on its left (`-2 ** 2` is -4) and is right-associative. */
  #power(): Node {
    const first = this.#postfix();
    if (!this.#is('op', '**')) return first;
    const token = this.#next();
    return this.#nested(token.pos, () => ({
      type: 'arith',
      first,
      rest: [{ op: '**', right: this.#unary() }],
    }));
  }

  #postfix(): Node {
    const target = this.#primary();
    const steps: Step[] = [];
    for (;;) {
      const token = this.#peek();
      if (this.#is('op', '.')) {
        this.#next();
        const name = this.#next();
        if (name.kind !== 'name') {
          throw this.#error(`expected a name after '.'${found(name)}`, name.pos);
        }
        steps.push({ kind: 'member', name: name.text });
      } else if (this.#is('op', '[')) {
        this.#next();
        const index = this.#nested(token.pos, () => this.#or());
        this.#expect(']');
        steps.push({ kind: 'index', index });
      } else if (this.#is('op', '(')) {
        throw this.#error("unexpected '('", token.pos, CALLABLE);
      } else {
        return steps.length === 0 ? target : { type: 'access', target, steps };
      }
    }
  }

  #primary(): Node {
    const token = this.#next();
    if (token.kind === 'number' || token.kind === 'string') {
      return { type: 'literal', value: token.value };
    }
    if (token.kind === 'name' && LITERALS.has(token.text)) {
      return { type: 'literal', value: LITERALS.get(token.text) };
    }
    if (token.kind === 'name' && !KEYWORDS.has(token.text)) return this.#name(token);
    if (isOp(token, '(')) {
      const inner = this.#nested(token.pos, () => this.#or());
      this.#expect(')');
      return inner;
    }
    if (isOp(token, '[')) {
      return this.#nested(token.pos, () => ({ type: 'list', items: this.#items(']') }));
    }
    throw this.#error(`expected a value${found(token)}`, token.pos);
  }

  /** A bare name reads the state; a name followed by `(` must be a builtin. */
  #name(token: Token): Node {
    if (!this.#is('op', '(')) {
      if (!this.#seen.has(token.text)) {
        this.#seen.add(token.text);
        this.keys.push(token.text);
      }
      return { type: 'name', name: token.text };
    }
    const builtin = BUILTINS.get(token.text);
    if (builtin === undefined) {
      throw this.#error(`unknown function '${token.text}'`, token.pos, CALLABLE);
    }
    const open = this.#next();
    const args = this.#nested(open.pos, () => this.#items(')'));
    if (args.length < builtin.min || args.length > builtin.max) {
      const wanted = builtin.max === 1 ? 'one argument' : 'at least one argument';
      throw this.#error(`${token.text}() takes ${wanted}, got ${args.length}`, token.pos);
    }
    return { type: 'call', name: token.text, args };
  }

  /** Comma-separated values up to `close`; a trailing comma is allowed, as in Python. */
  #items(close: string): Node[] {
    const items: Node[] = [];
    while (!this.#is('op', close)) {
      items.push(this.#or());
      if (!this.#is('op', ',')) break;
      this.#next();
    }
    this.#expect(close);
    return items;
  }
}

function isOp(token: Token, text: string): boolean {
  return token.kind === 'op' && token.text === text;
}

function found(token: Token): string {
  return token.kind === 'end' ? '' : `, found '${token.text}'`;
}

// ---------------------------------------------------------------------------------------------
// Compiler: AST to closures.

function compileNode(node: Node, raise: Raise): Evaluator {
  switch (node.type) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'name': {
      const name = node.name;
      return (values) => {
        if (!Object.hasOwn(values, name)) throw raise(`the state has no key '${name}'`);
        return values[name];
      };
    }
    case 'list': {
      const items = node.items.map((item) => compileNode(item, raise));
      return (values) => items.map((item) => item(values));
    }
    case 'call': {
      const run = BUILTINS.get(node.name)!.run;
      const args = node.args.map((arg) => compileNode(arg, raise));
      return (values) =>
        run(
          args.map((arg) => arg(values)),
          raise,
        );
    }
    case 'access': {
      const target = compileNode(node.target, raise);
      const steps = node.steps.map((step) => compileStep(step, raise));
      return (values) => steps.reduce((value, step) => step(value, values), target(values));
    }
    case 'not': {
      const operand = compileNode(node.operand, raise);
      return (values) => !truthy(operand(values));
    }
    case 'unary': {
      const operand = compileNode(node.operand, raise);
      const op = node.op;
      return (values) => negate(op, operand(values), raise);
    }
    case 'logic': {
      const operands = node.operands.map((operand) => compileNode(operand, raise));
      const stopWhen = node.op === 'or';
      // Like Python, returns the operand that decided the result, not a boolean.
      return (values) => {
        let result: unknown;
        for (const operand of operands) {
          result = operand(values);
          if (truthy(result) === stopWhen) return result;
        }
        return result;
      };
    }
    case 'compare': {
      const first = compileNode(node.first, raise);
      const rest = node.rest.map(({ op, right }) => ({ op, right: compileNode(right, raise) }));
      // `a < b < c` is `a < b and b < c`, with b evaluated once and c only if needed.
      return (values) => {
        let left = first(values);
        for (const { op, right } of rest) {
          const value = right(values);
          if (!compare(op, left, value, raise)) return false;
          left = value;
        }
        return true;
      };
    }
    case 'arith': {
      const first = compileNode(node.first, raise);
      const rest = node.rest.map(({ op, right }) => ({ op, right: compileNode(right, raise) }));
      return (values) =>
        rest.reduce(
          (left, { op, right }) => arithmetic(op, left, right(values), raise),
          first(values),
        );
    }
  }
}

function compileStep(step: Step, raise: Raise): (value: unknown, values: Values) => unknown {
  if (step.kind === 'member') return (value) => member(value, step.name, raise);
  const index = compileNode(step.index, raise);
  return (value, values) => item(value, index(values), raise);
}

// ---------------------------------------------------------------------------------------------
// Semantics.

function member(target: unknown, name: string, raise: Raise): unknown {
  if (target === null || target === undefined) {
    throw raise(`cannot read '${name}' of ${typeName(target)}`);
  }
  if (typeof target === 'string' || Array.isArray(target)) {
    if (name === 'length') return target.length;
  } else if (target instanceof Map || target instanceof Set) {
    if (name === 'size') return target.size;
  } else if (isPlainObject(target)) {
    if (Object.hasOwn(target, name)) return target[name];
    throw raise(`the object has no key '${name}'`);
  }
  throw raise(`${typeName(target)} has no member '${name}'`);
}

function item(target: unknown, key: unknown, raise: Raise): unknown {
  if (typeof target === 'string' || Array.isArray(target)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) {
      throw raise(`the index of ${typeName(target)} must be an integer, got ${repr(key, true)}`);
    }
    const at = key < 0 ? target.length + key : key;
    if (at < 0 || at >= target.length) {
      throw raise(
        `index ${key} is out of range for ${typeName(target)} of length ${target.length}`,
      );
    }
    return target[at];
  }
  if (target instanceof Map) {
    if (target.has(key)) return target.get(key);
    throw raise(`the map has no key ${repr(key, true)}`);
  }
  if (isPlainObject(target)) {
    if (
      (typeof key === 'string' || typeof key === 'number') &&
      Object.hasOwn(target, String(key))
    ) {
      return target[String(key)];
    }
    throw raise(`the object has no key ${repr(key, true)}`);
  }
  throw raise(`cannot index ${typeName(target)}`);
}

function negate(op: '-' | '+', value: unknown, raise: Raise): unknown {
  if (typeof value === 'number') return op === '-' ? -value : value;
  if (typeof value === 'bigint') return op === '-' ? -value : value;
  throw raise(`cannot apply unary '${op}' to ${typeName(value)}`);
}

function arithmetic(op: ArithOp, a: unknown, b: unknown, raise: Raise): unknown {
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a === 'number' && typeof b === 'number') return numberArithmetic(op, a, b, raise);
  if (typeof a === 'bigint' && typeof b === 'bigint') return bigintArithmetic(op, a, b, raise);
  throw raise(`cannot use '${op}' on ${typeName(a)} and ${typeName(b)}`);
}

function numberArithmetic(op: ArithOp, a: number, b: number, raise: Raise): number {
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  if (op === '**') {
    if (a === 0 && b < 0) throw raise('division by zero: 0 raised to a negative power');
    return a ** b;
  }
  if (b === 0) throw raise(`division by zero in '${op}'`);
  if (op === '/') return a / b;
  const [floor, mod] = floorDivMod(a, b);
  return op === '//' ? floor : mod;
}

/**
 * CPython's float divmod: `%` takes the divisor's sign (JS's takes the dividend's), and `//`
 * agrees with it, so `1 // 0.1` is 9 as in Python, not `Math.floor(1 / 0.1)`, which is 10.
 */
function floorDivMod(a: number, b: number): [floor: number, mod: number] {
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod === 0) {
    mod = b < 0 ? -0 : 0;
  } else if (mod < 0 !== b < 0) {
    mod += b;
    div -= 1;
  }
  if (div === 0) return [a / b < 0 || Object.is(a / b, -0) ? -0 : 0, mod];
  const floor = Math.floor(div);
  return [div - floor > 0.5 ? floor + 1 : floor, mod];
}

function bigintArithmetic(op: ArithOp, a: bigint, b: bigint, raise: Raise): bigint | number {
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  if (op === '**') {
    if (b < 0n) throw raise('a bigint cannot be raised to a negative power');
    return a ** b;
  }
  if (b === 0n) throw raise(`division by zero in '${op}'`);
  if (op === '/') return Number(a) / Number(b);
  const r = a % b;
  const adjust = r !== 0n && r < 0n !== b < 0n;
  if (op === '%') return adjust ? r + b : r;
  // BigInt division truncates toward zero; Python's `//` floors.
  return adjust ? a / b - 1n : a / b;
}

function compare(op: CompareOp, a: unknown, b: unknown, raise: Raise): boolean {
  switch (op) {
    case '==':
    case '===':
      return equal(a, b, []);
    case '!=':
    case '!==':
      return !equal(a, b, []);
    case 'is':
      return same(a, b);
    case 'is not':
      return !same(a, b);
    case 'in':
      return contains(b, a, raise);
    case 'not in':
      return !contains(b, a, raise);
    default:
      return order(op, a, b, raise);
  }
}

function order(op: OrderOp, a: unknown, b: unknown, raise: Raise): boolean {
  const kind = typeof a;
  if (kind !== typeof b || (kind !== 'number' && kind !== 'string' && kind !== 'bigint')) {
    throw raise(`cannot compare ${typeName(a)} with ${typeName(b)} using '${op}'`);
  }
  // Both are numbers, both strings or both bigints: JS orders them as Python does.
  const x = a as number;
  const y = b as number;
  if (op === '<') return x < y;
  if (op === '<=') return x <= y;
  if (op === '>') return x > y;
  return x >= y;
}

/** `is`: identity, where null and undefined are both Python's None. */
function same(a: unknown, b: unknown): boolean {
  return a === b || ((a === null || a === undefined) && (b === null || b === undefined));
}

/** Structural equality for arrays, plain objects, Maps and Sets; `seen` stops cycles. */
function equal(a: unknown, b: unknown, seen: [object, object][]): boolean {
  if (same(a, b)) return true;
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && a === BigInt(b);
  if (typeof a === 'number' && typeof b === 'bigint') return equal(b, a, seen);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (seen.some(([x, y]) => x === a && y === b)) return true;
  seen.push([a, b]);
  try {
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every((value, i) => equal(value, b[i], seen));
    }
    if (isPlainObject(a) && isPlainObject(b)) {
      const keys = Object.keys(a);
      return (
        keys.length === Object.keys(b).length &&
        keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key], seen))
      );
    }
    if (a instanceof Map && b instanceof Map) {
      return a.size === b.size && [...a].every(([k, v]) => b.has(k) && equal(v, b.get(k), seen));
    }
    if (a instanceof Set && b instanceof Set) {
      return a.size === b.size && [...a].every((value) => b.has(value));
    }
    return false;
  } finally {
    seen.pop();
  }
}

function contains(container: unknown, value: unknown, raise: Raise): boolean {
  if (Array.isArray(container)) return container.some((entry) => equal(entry, value, []));
  if (typeof container === 'string') {
    if (typeof value !== 'string') {
      throw raise(`'in' a string needs a string on the left, got ${typeName(value)}`);
    }
    return container.includes(value);
  }
  if (container instanceof Map || container instanceof Set) return container.has(value);
  if (isPlainObject(container)) return typeof value === 'string' && Object.hasOwn(container, value);
  throw raise(`cannot use 'in' on ${typeName(container)}`);
}

// ---------------------------------------------------------------------------------------------
// Builtins. A Map, so names such as `constructor` or `toString` are never found by accident.

interface Builtin {
  readonly min: number;
  readonly max: number;
  readonly run: (args: readonly unknown[], raise: Raise) => unknown;
}

const one = (run: (value: unknown, raise: Raise) => unknown): Builtin => ({
  min: 1,
  max: 1,
  run: (args, raise) => run(args[0], raise),
});

const many = (run: Builtin['run']): Builtin => ({ min: 1, max: Number.POSITIVE_INFINITY, run });

const BUILTINS = new Map<string, Builtin>([
  ['len', one(length)],
  ['abs', one(absolute)],
  ['min', many((args, raise) => extreme('min', args, raise))],
  ['max', many((args, raise) => extreme('max', args, raise))],
  ['str', one((value) => (typeof value === 'string' ? value : repr(value)))],
  ['int', one(toInt)],
  ['float', one(toFloat)],
  ['bool', one(truthy)],
]);
const CALLABLE = `only ${[...BUILTINS.keys()].join(', ')} can be called`;

function length(value: unknown, raise: Raise): number {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  if (isPlainObject(value)) return Object.keys(value).length;
  throw raise(`len() takes a list, string, map, set or object, got ${typeName(value)}`);
}

function absolute(value: unknown, raise: Raise): number | bigint {
  if (typeof value === 'number') return Math.abs(value);
  if (typeof value === 'bigint') return value < 0n ? -value : value;
  throw raise(`abs() takes a number, got ${typeName(value)}`);
}

function extreme(name: 'min' | 'max', args: readonly unknown[], raise: Raise): unknown {
  let items = args;
  if (args.length === 1) {
    const only = args[0];
    if (Array.isArray(only)) items = only;
    else if (only instanceof Set) items = [...only];
    else throw raise(`${name}() of one argument takes a list, got ${typeName(only)}`);
  }
  if (items.length === 0) throw raise(`${name}() of an empty list`);
  const better = name === 'min' ? '<' : '>';
  return items.reduce((best, value) => (order(better, value, best, raise) ? value : best));
}

function toInt(value: unknown, raise: Raise): number | bigint {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value) + 0; // no -0
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value) + 0;
  throw raise(`int() cannot convert ${repr(value, true)}`);
}

function toFloat(value: unknown, raise: Raise): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    const sign = text.startsWith('-') ? -1 : 1;
    const bare = text.replace(/^[+-]/, '');
    if (bare === 'inf' || bare === 'infinity') return sign * Number.POSITIVE_INFINITY;
    if (bare === 'nan') return Number.NaN;
    if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(text)) return Number(text);
  }
  throw raise(`float() cannot convert ${repr(value, true)}`);
}

// ---------------------------------------------------------------------------------------------
// Describing values, for str() and for messages.

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Map) return 'a map';
  if (value instanceof Set) return 'a set';
  if (typeof value !== 'object') return `a ${typeof value}`;
  if (isPlainObject(value)) return 'an object';
  const name: unknown = value.constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
}

/** Python-style text of a value; `short` trims it for error messages. */
function repr(value: unknown, short = false): string {
  const text = reprOf(value, new Set());
  return short && text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function reprOf(value: unknown, seen: Set<object>): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (typeof value === 'string') {
    return `'${value.replace(/[\\']/g, '\\$&').replace(/\n/g, '\\n')}'`;
  }
  if (typeof value === 'bigint' || typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return `<function ${value.name || 'anonymous'}>`;
  if (typeof value !== 'object') return String(value);
  if (seen.has(value)) return Array.isArray(value) ? '[...]' : '{...}';
  seen.add(value);
  try {
    const inner = (entry: unknown) => reprOf(entry, seen);
    if (Array.isArray(value)) return `[${value.map(inner).join(', ')}]`;
    if (value instanceof Map) {
      return `{${[...value].map(([k, v]) => `${inner(k)}: ${inner(v)}`).join(', ')}}`;
    }
    if (value instanceof Set) {
      return value.size === 0 ? 'set()' : `{${[...value].map(inner).join(', ')}}`;
    }
    if (isPlainObject(value)) {
      return `{${Object.entries(value)
        .map(([k, v]) => `${inner(k)}: ${inner(v)}`)
        .join(', ')}}`;
    }
    return `<${typeName(value).replace(/^an? /, '')}>`;
  } finally {
    seen.delete(value);
  }
}
