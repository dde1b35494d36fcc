/**
 * `expr` transitions (`weftjs/app`): syntax errors, nesting depth, and properties that
 * hold for any input (every failure is a ValidationError).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileExpression } from '../../src/app/expr/index.ts';
import { ValidationError } from '../../src/core/errors.ts';
import { invalid, run } from './support/expr.ts';

describe('syntax errors', () => {
  it('quote the expression and the 1-based column', () => {
    const cases: [string, string][] = [
      ['count <', "expr('count <'): expected a value at column 8."],
      ['1 +* 2', "expr('1 +* 2'): expected a value, found '*' at column 4."],
      ['(1 + 2', "expr('(1 + 2'): expected ')' at column 7."],
      ['[1 2]', "expr('[1 2]'): expected ']', found '2' at column 4."],
      ['a b', "expr('a b'): unexpected 'b' at column 3."],
      ['a not b', "expr('a not b'): unexpected 'not' at column 3."],
      ['x = 1', "expr('x = 1'): unexpected character '=' at column 3; use '==' to compare."],
      ['a @ b', "expr('a @ b'): unexpected character '@' at column 3."],
      ["'abc", "expr(''abc'): unterminated string at column 1."],
      ["x == 'a\\q'", "expr('x == 'a\\q''): unknown escape '\\q' at column 8."],
      ['3abc', "expr('3abc'): invalid number '3abc' at column 1."],
      ['x.1', "expr('x.1'): unexpected '.1' at column 2."],
      ['x.', "expr('x.'): expected a name after '.' at column 3."],
      ['', "expr(''): expected a value at column 1."],
      ['and', "expr('and'): expected a value, found 'and' at column 1."],
      ['()', "expr('()'): expected a value, found ')' at column 2."],
    ];
    for (const [source, message] of cases) {
      assert.throws(() => compileExpression(source), invalid(message), source);
    }
  });

  it('rejects a source that is not a string', () => {
    for (const bad of [42, null, undefined, ['count']]) {
      assert.throws(
        // @ts-expect-error untyped callers can pass anything; the runtime check catches it.
        () => compileExpression(bad),
        invalid(/expr\(\) takes the expression as a string/),
      );
    }
  });

  it('shortens a long expression in the message', () => {
    const source = `${'a + '.repeat(50)}`;
    assert.throws(
      () => compileExpression(source),
      invalid(/^expr\('a \+ a.*\.\.\.'\): expected a value at column 201\.$/),
    );
  });
});

describe('nesting depth', () => {
  it('allows 200 levels and rejects 201', () => {
    const parens = (n: number) => `${'('.repeat(n)}1${')'.repeat(n)}`;
    assert.equal(run(parens(200)), 1);
    assert.throws(
      () => compileExpression(parens(201)),
      invalid(/nests more than 200 levels deep at column 201/),
    );
    assert.equal(run(`${'-'.repeat(200)}1`), 1);
    assert.throws(
      () => compileExpression(`${'not '.repeat(201)}1`),
      invalid(/nests more than 200/),
    );
    assert.throws(() => compileExpression(`${'2 ** '.repeat(201)}1`), invalid(/nests/));
    assert.throws(() => compileExpression(`${'len('.repeat(201)}x`), invalid(/nests/));
  });

  it('rejects very deep input with a ValidationError, not a stack overflow', () => {
    for (const source of [
      '('.repeat(100_000),
      '['.repeat(100_000),
      '-'.repeat(100_000),
      `${'x['.repeat(50_000)}0`,
      `${'!'.repeat(100_000)}1`,
    ]) {
      assert.throws(() => compileExpression(source), invalid(/nests more than 200/));
    }
  });

  it('turns a stack overflow on deeply nested state data into a ValidationError', () => {
    const deep = () => {
      let value: unknown = [];
      for (let i = 0; i < 200_000; i++) value = [value];
      return value;
    };
    assert.throws(
      () => run('a == b', { a: deep(), b: deep() }),
      invalid(/^expr\('a == b'\): could not be evaluated: /),
    );
  });
});

describe('properties', () => {
  const values = {
    a: 1,
    b: 'x',
    c: [1, 2],
    d: { e: 1 },
    n: null,
    m: new Map([['k', 1]]),
  };

  /** Compiles and tests `source`; any failure must be a ValidationError. */
  function compileAndTest(source: string): void {
    try {
      compileExpression(source).test(values);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
    }
  }

  it('any string either evaluates or throws a ValidationError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), compileAndTest), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), compileAndTest), {
      numRuns: 300,
    });
  });

  it('any string of tokens either evaluates or throws a ValidationError', () => {
    const token = fc.constantFrom(
      ...'a b c d n m e k x 0 1 2 -1 1.5 0x10 1e2'.split(' '),
      ...'+ - * / // % ** < <= > >= == != === !== ( ) [ ] , . ! && ||'.split(' '),
      ...'and or not in is True False None null len min max str int float bool abs'.split(' '),
      "'k'",
      '"x"',
      "'",
      '\\',
    );
    const tokens = fc.array(token, { maxLength: 25 });
    fc.assert(
      fc.property(tokens, (parts) => compileAndTest(parts.join(' '))),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(tokens, (parts) => compileAndTest(parts.join(''))),
      { numRuns: 500 },
    );
  });

  type Arith =
    | { readonly op: 'num'; readonly value: number }
    | { readonly op: 'neg'; readonly operand: Arith }
    | {
        readonly op: '+' | '-' | '*' | '/' | '//' | '%' | '**';
        readonly left: Arith;
        readonly right: Arith;
      };

  const { arith } = fc.letrec<{ arith: Arith }>((tie) => ({
    arith: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ op: fc.constant('num' as const), value: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ op: fc.constant('neg' as const), operand: tie('arith') }),
      fc.record({
        op: fc.constantFrom<'+' | '-' | '*' | '/' | '//' | '%'>('+', '-', '*', '/', '//', '%'),
        left: tie('arith'),
        right: tie('arith'),
      }),
      // A small literal exponent keeps powers finite and exact.
      fc.record({
        op: fc.constant('**' as const),
        left: tie('arith'),
        right: fc.record({
          op: fc.constant('num' as const),
          value: fc.integer({ min: 0, max: 3 }),
        }),
      }),
    ),
  }));

  // Binding strength of each form, for printing with the fewest parentheses Python needs.
  const strength = (node: Arith): number => {
    if (node.op === 'num') return 5;
    if (node.op === 'neg') return 3;
    if (node.op === '**') return 4;
    return node.op === '+' || node.op === '-' ? 1 : 2;
  };

  function print(node: Arith): string {
    if (node.op === 'num') return String(node.value);
    const wrap = (child: Arith, needs: boolean) => (needs ? `(${print(child)})` : print(child));
    if (node.op === 'neg') return `-${wrap(node.operand, strength(node.operand) < 3)}`;
    const mine = strength(node);
    if (node.op === '**') {
      return `${wrap(node.left, strength(node.left) <= 4)} ** ${print(node.right)}`;
    }
    // Left-associative: an equally strong right operand needs parentheses, a left one does not.
    const left = wrap(node.left, strength(node.left) < mine);
    return `${left} ${node.op} ${wrap(node.right, strength(node.right) <= mine)}`;
  }

  /** The reference: computes the tree directly; `//` and `%` follow CPython's float_divmod. */
  function compute(node: Arith): number {
    if (node.op === 'num') return node.value;
    if (node.op === 'neg') return -compute(node.operand);
    const a = compute(node.left);
    const b = compute(node.right);
    if (node.op === '+') return a + b;
    if (node.op === '-') return a - b;
    if (node.op === '*') return a * b;
    if (node.op === '**') return a ** b;
    if (b === 0) throw new RangeError('division by zero');
    if (node.op === '/') return a / b;
    const fmod = a % b;
    const adjust = fmod !== 0 && Math.sign(fmod) !== Math.sign(b);
    if (node.op === '%') return adjust ? fmod + b : fmod;
    const div = (a - fmod) / b - (adjust ? 1 : 0);
    if (div === 0) return 0;
    return div - Math.floor(div) > 0.5 ? Math.floor(div) + 1 : Math.floor(div);
  }

  it('a printed arithmetic tree evaluates to the value computed directly', () => {
    fc.assert(
      fc.property(arith, (tree) => {
        const source = print(tree);
        let expected: number;
        try {
          expected = compute(tree);
        } catch {
          assert.throws(() => run(source), invalid(/division by zero/), source);
          return;
        }
        const actual = run(source) as number;
        const same = actual === expected || (Number.isNaN(actual) && Number.isNaN(expected));
        assert.ok(same, `${source}: got ${actual}, expected ${expected}`);
      }),
      { numRuns: 1000 },
    );
  });
});
