/**
 * `expr` transitions (`weftjs/app`): comparisons, logic, builtins and truthiness, as in
 * Python.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression, truthy } from '../../src/app/expr/index.ts';
import { check, invalid, run, table } from './support/expr.ts';

describe('comparisons', () => {
  it('orders numbers, strings and bigints', () => {
    table(
      [
        ['1 < 2', true],
        ['2 <= 2', true],
        ['3 > 4', false],
        ['4 >= 5', false],
        ["'apple' < 'banana'", true],
        ["'b' >= 'a'", true],
        ['a < b', true],
        ['1.5 < 2', true],
      ],
      { a: 1n, b: 2n },
    );
  });

  it('compares structurally with == and !=, and === the same', () => {
    table(
      [
        ['1 == 1', true],
        ['1 != 1', false],
        ["'a' == 'a'", true],
        ['[1, [2]] == [1, [2]]', true],
        ['[1, 2] == [2, 1]', false],
        ['o == p', true],
        ['o === p', true],
        ['o !== p', false],
        ['o != q', true],
        ['None == n', true],
        ['u == None', true],
        ['1 == "1"', false],
        ['big == 3', true],
        ['[1] == 1', false],
      ],
      { o: { a: [1] }, p: { a: [1] }, q: { a: [2] }, n: null, u: undefined, big: 3n },
    );
  });

  it('compares Maps and Sets structurally, and survives cycles', () => {
    const a: unknown[] = [];
    a.push(a);
    const b: unknown[] = [];
    b.push(b);
    table(
      [
        ['m1 == m2', true],
        ['s1 == s2', true],
        ['a == b', true],
      ],
      {
        m1: new Map([['k', [1]]]),
        m2: new Map([['k', [1]]]),
        s1: new Set([1, 2]),
        s2: new Set([2, 1]),
        a,
        b,
      },
    );
  });

  it('uses identity for is and is not', () => {
    const list = [1];
    table(
      [
        ['None is None', true],
        ['n is None', true],
        ['u is None', true],
        ['0 is None', false],
        ['x is x', true],
        ['x is [1]', false],
        ['x is not [1]', true],
        ['n is not None', false],
      ],
      { n: null, u: undefined, x: list },
    );
  });

  it('tests membership with in and not in', () => {
    table(
      [
        ['2 in xs', true],
        ['[1] in [[1], 2]', true],
        ['4 not in xs', true],
        ['2 not in xs', false],
        ["'ell' in 'hello'", true],
        ["'z' not in 'hello'", true],
        ["'k' in m", true],
        ['3 in set', true],
        ['4 in set', false],
        ["'a' in o", true],
        ["'b' in o", false],
        ["'toString' in o", false],
        ['1 in o', false],
      ],
      { xs: [1, 2, 3], m: new Map([['k', 1]]), set: new Set([3]), o: { a: 1 } },
    );
  });

  it('chains like Python, evaluating each operand once and stopping early', () => {
    table(
      [
        ['1 < 2 < 3', true],
        ['1 < 3 < 2', false],
        ['3 > 2 > 1 >= 1', true],
        ['1 < x <= 5 != 4', true],
        ['1 == 1 in [1]', true], // 1 == 1 and 1 in [1]
      ],
      { x: 5 },
    );
    // `missing` is never read: the chain already failed at 2 < 1.
    assert.equal(run('2 < 1 < missing'), false);
  });

  it('refuses to order incomparable values', () => {
    assert.throws(
      () => run('xs < 1', { xs: [] }),
      invalid("expr('xs < 1'): cannot compare a list with a number using '<'."),
    );
    assert.throws(() => run("1 < '2'"), invalid(/a number with a string using '<'/));
    assert.throws(() => run('None >= 1'), invalid(/null with a number/));
    assert.throws(() => run('a < 1', { a: 1n }), invalid(/a bigint with a number/));
    assert.throws(() => run("1 in 'abc'"), invalid(/needs a string on the left/));
    assert.throws(() => run('1 in 5'), invalid(/cannot use 'in' on a number/));
  });
});

describe('logic', () => {
  it('returns the deciding operand, as Python does', () => {
    table([
      ["0 or 'x'", 'x'],
      ["'' or []", []],
      ['1 and 2', 2],
      ['0 and 2', 0],
      ['None || 3', 3],
      ['2 && 0', 0],
      ['not []', true],
      ['!1', false],
      ['not not 5', true],
    ]);
  });

  it('short-circuits, so a missing key on the skipped side is never read', () => {
    assert.equal(run('True or missing'), true);
    assert.equal(run('False and missing'), false);
    assert.equal(check("'k' in o and o.k > 1", { o: {} }), false);
  });

  it('applies Python truthiness in test', () => {
    assert.equal(check('xs', { xs: [] }), false);
    assert.equal(check('xs', { xs: [0] }), true);
    assert.equal(check("''"), false);
    assert.equal(check('o', { o: {} }), false);
  });
});

describe('builtins', () => {
  const values = {
    xs: [3, 1, 2],
    s: 'abc',
    m: new Map([[1, 2]]),
    set: new Set([1]),
    o: { a: 1, b: 2 },
    words: ['pear', 'apple'],
  };

  it('len of lists, strings, Maps, Sets and objects', () => {
    table(
      [
        ['len(xs)', 3],
        ['len(s)', 3],
        ['len(m)', 1],
        ['len(set)', 1],
        ['len(o)', 2],
        ['len([])', 0],
      ],
      values,
    );
    assert.throws(
      () => run('len(5)'),
      invalid("expr('len(5)'): len() takes a list, string, map, set or object, got a number."),
    );
  });

  it('min and max of arguments or of one list', () => {
    table(
      [
        ['min(xs)', 1],
        ['max(xs)', 3],
        ['min(4, 2, 8)', 2],
        ['max(4, 2, 8)', 8],
        ['min(words)', 'apple'],
        ['max(set)', 1],
      ],
      values,
    );
    assert.throws(() => run('min([])'), invalid(/min\(\) of an empty list/));
    assert.throws(() => run('max(7)'), invalid(/max\(\) of one argument takes a list/));
    assert.throws(() => run("max(1, 'a')"), invalid(/cannot compare/));
  });

  it('abs, str, int, float and bool', () => {
    table([
      ['abs(-2.5)', 2.5],
      ['abs(3)', 3],
      ['str(12)', '12'],
      ["str('x')", 'x'],
      ['str(True)', 'True'],
      ['str(None)', 'None'],
      ["str([1, 'a', None])", "[1, 'a', None]"],
      ['int(3.9)', 3],
      ['int(-3.9)', -3],
      ['int(-0.5)', 0],
      ["int(' 42 ')", 42],
      ['int(True)', 1],
      ["float('2.5')", 2.5],
      ["float('-inf')", Number.NEGATIVE_INFINITY],
      ['float(3)', 3],
      ['bool([])', false],
      ["bool('x')", true],
    ]);
    assert.ok(Number.isNaN(run("float('nan')")));
    assert.throws(() => run("int('4.5')"), invalid(/int\(\) cannot convert '4\.5'/));
    assert.throws(() => run("float('abc')"), invalid(/float\(\) cannot convert 'abc'/));
    assert.throws(() => run("abs('1')"), invalid(/abs\(\) takes a number, got a string/));
    assert.throws(() => run("int(float('inf'))"), invalid(/int\(\) cannot convert inf/));
  });

  it('rejects other calls at compile time, naming the function', () => {
    assert.throws(
      () => compileExpression('eval(1)'),
      invalid(
        "expr('eval(1)'): unknown function 'eval' at column 1; only len, abs, min, max, str, int, float, bool can be called.",
      ),
    );
    assert.throws(() => compileExpression('toString(x)'), invalid(/unknown function 'toString'/));
    assert.throws(() => compileExpression('x.y()'), invalid(/unexpected '\(' at column 4/));
    assert.throws(() => compileExpression('(len)(x)'), invalid(/unexpected '\(' at column 6/));
    assert.throws(() => compileExpression('len(x)(1)'), invalid(/unexpected '\('/));
    assert.throws(
      () => compileExpression('len(1, 2)'),
      invalid(/len\(\) takes one argument, got 2 at column 1/),
    );
    assert.throws(() => compileExpression('max()'), invalid(/at least one argument, got 0/));
  });
});

describe('truthy', () => {
  it('is false exactly for Python falsy values', () => {
    const falsy = [false, 0, -0, Number.NaN, 0n, '', null, undefined, [], new Map(), new Set(), {}];
    const truthyValues = [true, 1, -1, 'a', ' ', [0], new Map([[0, 0]]), new Set([0]), { a: 0 }];
    for (const value of falsy) assert.equal(truthy(value), false, String(value));
    for (const value of truthyValues) assert.equal(truthy(value), true, String(value));
    assert.equal(truthy(Object.create(null)), false);
    assert.equal(truthy(new Date(0)), true); // class instances are truthy, as in Python
    assert.equal(
      truthy(() => 0),
      true,
    );
  });
});
