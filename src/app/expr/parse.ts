/** The parser: recursive descent, one method per Python precedence level, lowest first. */
import { BUILTINS, CALLABLE } from './builtins.ts';
import type { ArithOp, CompareOp } from './semantics.ts';
import type { SyntaxErrorOf, Token } from './tokens.ts';

/** Deepest nesting of parentheses, brackets, calls and unary operators a source may use. */
const MAX_DEPTH = 200;

export type Step =
  | { readonly kind: 'member'; readonly name: string }
  | { readonly kind: 'index'; readonly index: Node };
export type Link<Op> = { readonly op: Op; readonly right: Node };

/**
 * The AST. Left-associative runs (`a + b - c`, `a and b and c`, `a < b < c`, `x.y[0]`) are
 * flat lists evaluated in a loop, so a long flat expression never nests deeply.
 */
export type Node =
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

const LITERALS = new Map<string, unknown>(
  Object.entries({ True: true, False: false, None: null, true: true, false: false, null: null }),
);
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is']);
const COMPARE_SYMBOLS = new Set(['<', '<=', '>', '>=', '==', '!=', '===', '!==']);
const SUM_OPS = new Set(['+', '-']);
const TERM_OPS = new Set(['*', '/', '//', '%']);

/** Parses tokens into a {@link Node}; `keys` collects the state keys read, in order. */
export class Parser {
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
